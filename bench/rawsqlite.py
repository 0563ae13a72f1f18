"""The floor of the store: plain `sqlite3` doing the least a ledger's store could do.

`insert FILE DB` reads an export's JSON lines and inserts each line's bytes as one row, in one
transaction; `read DB` reads every row back in order. Both run as whole processes (started by
bench/run.py like `finledger` itself), so their rates are the reference beside import and
`audit verify`. Each prints one JSON line: rows, seconds spent inside, bytes.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path


def insert(source: Path, target: Path) -> dict[str, float | int]:
    started = time.perf_counter()
    lines = source.read_bytes().splitlines()
    con = sqlite3.connect(target, isolation_level=None)
    con.execute("CREATE TABLE events (position INTEGER PRIMARY KEY, body BLOB NOT NULL)")
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO events (position, body) VALUES (?, ?)", enumerate(lines, start=1)
    )
    con.execute("COMMIT")
    con.close()
    return {
        "rows": len(lines),
        "seconds": time.perf_counter() - started,
        "db_bytes": target.stat().st_size,
    }


def read(target: Path) -> dict[str, float | int]:
    started = time.perf_counter()
    con = sqlite3.connect(target)
    rows = 0
    size = 0
    for (body,) in con.execute("SELECT body FROM events ORDER BY position"):
        rows += 1
        size += len(body)
    con.close()
    return {"rows": rows, "seconds": time.perf_counter() - started, "bytes": size}


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "insert":
        result = insert(Path(argv[1]), Path(argv[2]))
    elif len(argv) == 2 and argv[0] == "read":
        result = read(Path(argv[1]))
    else:
        print("usage: rawsqlite.py insert FILE DB | read DB", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
