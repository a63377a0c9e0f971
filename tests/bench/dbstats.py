#!/usr/bin/env python3
"""Size and contents of an oauthd database whose server is stopped. Prints one JSON object:
  db_bytes, wal_bytes  the main file and its -wal file (0 when there is none: the last
                connection to close checkpoints it and deletes it)
  file_bytes    their sum: what the disk holds
  live_bytes    (page_count - freelist_count) * page_size: the pages in use; SQLite keeps freed
                pages in the file (no VACUUM), so after cleartokens this is what shrank
  vacuumed_bytes  with --vacuum: the size of a VACUUM INTO copy (the file compacted)
  rows          per token table
usage: dbstats.py DB [--vacuum]
"""
import json
import os
import sqlite3
import sys
import tempfile

TABLES = ["access_tokens", "refresh_tokens", "grants"]


def size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def main():
    db = sys.argv[1]
    # Sizes before opening: opening creates a -wal.
    stats = {"db_bytes": size(db), "wal_bytes": size(db + "-wal")}
    stats["file_bytes"] = stats["db_bytes"] + stats["wal_bytes"]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    pragma = lambda name: conn.execute(f"PRAGMA {name}").fetchone()[0]
    page_size = pragma("page_size")
    stats["page_size"] = page_size
    stats["page_count"] = pragma("page_count")
    stats["freelist_count"] = pragma("freelist_count")
    stats["live_bytes"] = (stats["page_count"] - stats["freelist_count"]) * page_size
    stats["rows"] = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    if "--vacuum" in sys.argv[2:]:
        with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(db))) as tmp:
            copy = os.path.join(tmp, "vacuumed.sqlite3")
            conn.execute("VACUUM INTO ?", (copy,))
            stats["vacuumed_bytes"] = os.path.getsize(copy)
    conn.close()
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
