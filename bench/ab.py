"""Two source trees side by side: the same whole `finledger` processes, alternating.

    python bench/ab.py --before /tmp/base --after . history10k.jsonl history100k.jsonl

For each history it imports it into a fresh ledger with each tree, then runs `audit verify`
and one `record warrants` (on a fresh copy of the imported ledger) `--repeat` times,
alternating the trees so both see the same machine load; it prints the medians of each
process's CPU time (user + system). Used for
a change whose figure must not get worse (bench/README.md, "The hash over what is stored").
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(tree: Path, args: list[str]) -> float:
    """The process's CPU seconds (user + system, its children included): on a shared
    machine, far steadier than its wall time, which other processes' load stretches."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = _cpu()
    proc = subprocess.run([sys.executable, "-m", "cli", *args], cwd=tree, env=env,
                          capture_output=True, text=True, check=False)
    seconds = _cpu() - start
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(args)} failed: {proc.stderr.strip()}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("histories", nargs="+", type=Path)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    with tempfile.TemporaryDirectory() as work:
        for history in args.histories:
            events = sum(1 for line in history.open() if line.strip())
            times: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
            dbs = {}
            for _ in range(args.repeat):
                for name, tree in trees.items():
                    db = Path(work) / f"{name}-{history.stem}.db"
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{db}{suffix}").unlink(missing_ok=True)
                    times[name].setdefault("import", []).append(
                        run(tree, ["--db", str(db), "import", str(history.resolve())]))
                    dbs[name] = db
            for _ in range(args.repeat):
                for name, tree in trees.items():
                    times[name].setdefault("audit verify", []).append(
                        run(tree, ["--db", str(dbs[name]), "audit", "verify"]))
                    copy = Path(work) / f"{name}-copy.db"
                    shutil.copyfile(dbs[name], copy)
                    times[name].setdefault("record warrants", []).append(run(tree, [
                        "--db", str(copy), "record", "warrants", "--holder", "Bench Holder",
                        "--shares", "100", "--exercise-price", "1.00", "--date", "2030-01-02"]))
                    copy.unlink()
            print(f"{events:,} events")
            for task in ("import", "audit verify", "record warrants"):
                row = []
                for name in trees:
                    median = statistics.median(times[name][task])
                    rate = f" ({events / median:,.0f}/s)" if task != "record warrants" else ""
                    row.append(f"{name} {median:.2f} s CPU{rate}")
                print(f"  {task:16} " + " | ".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
