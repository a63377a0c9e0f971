#!/usr/bin/env python3
"""Watches a database that wrk is filling with tokens, for tests/bench/run.

wrk has no request-count limit, so the run script lets it issue tokens and this watcher tells
it when to stop: it polls the database read-only (max(id) of access_tokens: rows are only
added while filling, so that is their count) until it reaches N, and meanwhile samples the
size of the -wal file. Under sustained writes SQLite can reset the WAL only when no reader
holds it, so the WAL may grow far beyond its usual ~4 MB; a WAL past half the free disk stops
the fill early rather than filling the disk.

Prints one JSON object: issued (at the moment it returned; the run script counts the rows
again once the server has stopped), seconds, wal_peak_bytes, stopped (why it returned).
Exit status 0 when N was reached, 1 otherwise (stalled or stopped early).

usage: watch_fill.py DB N
"""
import json
import os
import shutil
import sqlite3
import sys
import time

POLL_S = 0.1
STALL_S = 30  # no new token for this long: the server or wrk is stuck


def main():
    db, target = sys.argv[1], int(sys.argv[2])
    wal_limit = shutil.disk_usage(os.path.dirname(os.path.abspath(db))).free // 2
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    began = last_progress = time.monotonic()
    issued = wal_peak = 0
    while True:
        try:
            wal_peak = max(wal_peak, os.path.getsize(db + "-wal"))
        except FileNotFoundError:
            pass
        now_issued = conn.execute("SELECT coalesce(max(id), 0) FROM access_tokens").fetchone()[0]
        now = time.monotonic()
        if now_issued > issued:
            issued, last_progress = now_issued, now
        if issued >= target:
            stopped = "reached"
        elif wal_peak > wal_limit:
            stopped = f"the WAL passed {wal_limit} bytes, half the free disk"
        elif now - last_progress > STALL_S:
            stopped = f"no token issued for {STALL_S} s"
        else:
            time.sleep(POLL_S)
            continue
        break
    conn.close()
    print(json.dumps({"issued": issued, "seconds": round(time.monotonic() - began, 2),
                      "wal_peak_bytes": wal_peak, "stopped": stopped}))
    sys.exit(0 if stopped == "reached" else 1)


if __name__ == "__main__":
    main()
