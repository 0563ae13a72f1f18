"""Write an export's events straight into a new ledger's store, bypassing every check.

Only for the benchmark, and only when `finledger import` does not exist yet: it lets the
other figures (record, reports, verify) be measured on a large ledger. The events are the
generator's, already decided and chained, so the ledger it writes is the one recording them
one by one would have produced. Its time is shown as the eventsourcing store's own append
rate, never as an import figure.

    .venv/bin/python bench/seed.py FILE DB
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import read_events

from ledger.ledgers import head_rows
from ledger.service import Ledger

CHUNK = 5000


def seed(source: Path, target: Path) -> dict[str, float | int]:
    started = time.perf_counter()
    events = list(read_events(source))
    parsed = time.perf_counter()
    with Ledger(str(target), actor="bench", create=True) as book:
        app = book.open(create=True)
        for start in range(0, len(events), CHUNK):
            chunk = events[start:start + CHUNK]
            app.save(*chunk, meta=head_rows(book.name, (chunk[-1].originator_version,
                                                        chunk[-1].hash)))
    return {
        "rows": len(events),
        "parse_seconds": parsed - started,
        "append_seconds": time.perf_counter() - parsed,
    }


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: seed.py FILE DB", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(seed(Path(sys.argv[1]), Path(sys.argv[2]))))
