#!/usr/bin/env python3
"""Start-up time of `oauthd serve`: from launching the process to the first answered
GET /health, measured in-process (a curl per poll would add several ms of its own).

The server is started on 127.0.0.1:0; it prints "oauthd listening on http://ADDR ..." once it
is bound, so the address is read from its stdout, then /health is asked (retrying until it
answers 200). Each run is stopped with SIGTERM. Prints one JSON object: median and each run, ms.

usage: startup.py BINARY CONFIG DB RUNS [--fresh]
  --fresh: every run gets a new, empty database (created and migrated at start-up) next to DB;
           otherwise every run opens DB as it is.
"""
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

DEADLINE_S = 10


def one_start(binary, config, db):
    began = time.perf_counter()
    server = subprocess.Popen(
        [binary, "--db", db, "--config", config, "serve", "--addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        match = re.search(r"listening on http://(\S+)", line)
        if not match:
            raise SystemExit(f"startup.py: unexpected first line from serve: {line!r}")
        host, port = match.group(1).rsplit(":", 1)
        while True:
            try:
                conn = http.client.HTTPConnection(host, int(port), timeout=DEADLINE_S)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return (time.perf_counter() - began) * 1000
            except OSError:
                pass
            if time.perf_counter() - began > DEADLINE_S:
                raise SystemExit("startup.py: /health did not answer 200 in time")
            time.sleep(0.0005)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=DEADLINE_S)


def main():
    binary, config, db, runs = sys.argv[1:5]
    fresh = "--fresh" in sys.argv[5:]
    times = []
    for i in range(int(runs)):
        path = f"{db}.startup{i}" if fresh else db
        times.append(one_start(binary, config, path))
    print(json.dumps({"median_ms": round(statistics.median(times), 2),
                      "runs_ms": [round(t, 2) for t in times]}))


if __name__ == "__main__":
    main()
