"""Profile one `finledger` command on a benchmark ledger with cProfile.

    .venv/bin/python bench/profile.py 100000 report summary
    .venv/bin/python bench/profile.py 100000 import
    .venv/bin/python bench/profile.py 100000 record

`import` profiles importing the N-event history into a fresh ledger; `record` profiles one
`record warrants` at the end of history on a copy; anything else runs as given against a
ledger of N events (built once by import, cached in bench/.work). Prints the top functions by
cumulative and by own time, and keeps the .prof file for snakeviz or pstats.
"""

from __future__ import annotations

import argparse
import json
import pstats
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BENCH, FINLEDGER, PYTHON, copy_db, history, remove_db, run_process


def ledger_for(n: int, data: Path, work: Path) -> Path:
    db = work / f"profile-{n}.db"
    if not db.exists():
        proc = run_process([FINLEDGER, "--db", str(db), "import", str(data)], 36_000)
        if proc.rc != 0:
            remove_db(db)
            proc = run_process([PYTHON, str(BENCH / "seed.py"), str(data), str(db)], 36_000)
            if proc.rc != 0:
                raise SystemExit(f"cannot build the ledger: {proc.stderr[-2000:]}")
    return db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cProfile one finledger command")
    parser.add_argument("n", type=int)
    parser.add_argument("words", nargs="+", help="the command, e.g. report summary")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--work", type=Path, default=BENCH / ".work")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    data, facts = history(args.n, 7, args.work)
    words: list[str] = args.words
    if words == ["import"]:
        db = args.work / f"profile-{args.n}-import.db"
        remove_db(db)
        words = ["import", str(data)]
    elif words == ["record"]:
        db = args.work / f"profile-{args.n}-record.db"
        copy_db(ledger_for(args.n, data, args.work), db)
        day = (date.fromisoformat(facts["last_date"]) + timedelta(days=1)).isoformat()
        words = ["record", "warrants", "--holder", "Bench Holder", "--shares", "1000",
                 "--exercise-price", "3.00", "--date", day]
    else:
        db = ledger_for(args.n, data, args.work)
    out = args.work / f"profile-{args.n}-{'-'.join(args.words)}.prof"
    cmd = [PYTHON, "-m", "cProfile", "-o", str(out), "-m", "cli", "--db", str(db), *words]
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    if done.returncode != 0:
        print(f"exit {done.returncode}: {done.stderr[-2000:]}", file=sys.stderr)
    stats = pstats.Stats(str(out))
    print(json.dumps({"command": words, "events": args.n, "profile": str(out)}))
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
