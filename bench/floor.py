"""`import` and `audit verify` beside the floor, each run interleaved with its reference.

    python bench/floor.py 100000 --repeat 3 --work /tmp/wtN-bench [--code DIR ...]

For each checkout (`--code`, default this one; give several to compare before and after in one
run) and each repeat, in turn: raw sqlite3 inserting the history's lines
(`bench/rawsqlite.py insert`), `import` of the history into a fresh ledger, raw sqlite3 reading
the rows back (`rawsqlite.py read`), `audit verify` of the imported ledger. Every command is a
whole process (`python -m cli` with the checkout on PYTHONPATH, so no installed entry point is
needed), timed by wall clock and by CPU (user + system, its child processes included: verify
works in two from 50,000 events). Each figure is the median of the repeats; each ratio is taken
against the reference run just before it, so a noisy machine loads both alike. Prints a table
and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BENCH, PYTHON, history, remove_db


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, with its children) of one whole process."""
    started = time.perf_counter()
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {stderr[-1000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=BENCH / ".work")
    parser.add_argument("--code", type=Path, action="append",
                        help="a checkout to measure (repeatable; default this one)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    data, _ = history(args.n, 7, args.work)
    codes: list[Path] = args.code or [BENCH.parent]
    raw_db, db = args.work / "floor-raw.db", args.work / "floor-ledger.db"
    runs: dict[str, list[dict[str, float]]] = {str(c): [] for c in codes}
    for _ in range(args.repeat):
        for code in codes:
            env = {k: v for k, v in os.environ.items() if not k.startswith("FINLEDGER_")}
            env.update(FINLEDGER_ACTOR="bench", PYTHONPATH=str(code))
            remove_db(raw_db)
            insert = timed([PYTHON, str(BENCH / "rawsqlite.py"), "insert", str(data),
                            str(raw_db)], env)
            remove_db(db)
            imported = timed([PYTHON, "-m", "cli", "--db", str(db), "import", str(data)], env)
            read = timed([PYTHON, str(BENCH / "rawsqlite.py"), "read", str(raw_db)], env)
            verified = timed([PYTHON, "-m", "cli", "--db", str(db), "audit", "verify"], env)
            runs[str(code)].append({
                "raw_insert_s": insert[0], "import_s": imported[0], "import_cpu_s": imported[1],
                "raw_read_s": read[0], "verify_s": verified[0], "verify_cpu_s": verified[1],
                "import_of_raw": insert[0] / imported[0],
            })
    summary: dict[str, Any] = {"events": args.n, "repeat": args.repeat, "codes": {}}
    print(f"{'checkout':32s} {'import/s':>9s} {'raw ins/s':>10s} {'of raw':>7s} "
          f"{'imp cpu':>8s} {'verify/s':>9s} {'raw read/s':>11s} {'ver cpu':>8s}")
    for code, found in runs.items():
        med = {key: statistics.median(r[key] for r in found) for key in found[0]}
        summary["codes"][code] = {"median": med, "runs": found}
        print(f"{code[-32:]:32s} {args.n / med['import_s']:9,.0f} "
              f"{args.n / med['raw_insert_s']:10,.0f} {med['import_of_raw']:7.1%} "
              f"{med['import_cpu_s']:7.2f}s {args.n / med['verify_s']:9,.0f} "
              f"{args.n / med['raw_read_s']:11,.0f} {med['verify_cpu_s']:7.2f}s")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
