"""Start-up: `report summary` and `record` on a 10-event ledger beside what Python itself costs.

    python bench/startup.py [--work DIR] [--repeat 15]

Every figure is a whole process, and the processes run round-robin (`python -c pass`, the bare
read, `report summary`, `record warrants` on a fresh copy, `--help`) so all see the same load.
The reference is `python -c pass` plus the bare read: a Python process that opens the
ledger's file with the standard library's sqlite3 and reads the figures the summary shows
(the head, and every read-model row a summary reads) in one transaction, printing them as
JSON; the issue's target is each command within 3x of that sum. Medians are printed (with
the minimum and maximum), and `-X importtime` of each command, summed by top-level package,
shows where the remaining milliseconds go.

finledger runs from this checkout (`python -m cli`, PYTHONPATH set to it), so the figures
are the code's, not an installed copy's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
SMALL = 10

# The figures the summary shows, read as bare as Python can: the store's meta (the head), then
# every row of the tables the summary is computed from (ledger `main`), one transaction.
BARE = """
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("BEGIN")
head = dict(con.execute("SELECT key, value FROM finledger_meta").fetchall())
tables = [name for (name,) in con.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rm_%'")]
rows = {t: con.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}
con.execute("COMMIT")
print(json.dumps({"head": head.get("head_position"), "rows": {t: len(r) for t, r in rows.items()}}))
"""


def finledger(*args: str) -> list[str]:
    return [PYTHON, "-m", "cli", *args]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.pop("FINLEDGER_KEY", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules load from their bytecode
    env["COLUMNS"] = "160"
    return env


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return seconds


def small_ledger(work: Path, env: dict[str, str]) -> tuple[Path, str]:
    """The 10-event ledger (bench/generate.py's seeded history, imported), and a date after
    its last event."""
    sys.path[:0] = [str(BENCH), str(ROOT)]
    os.environ["PYTHONPATH"] = str(ROOT)  # the generator imports this checkout's events
    from run import history, remove_db

    data, facts = history(SMALL, 7, work)  # bench/run.py's default seed
    db = work / f"startup-{SMALL}.db"
    remove_db(db)
    timed(finledger("--db", str(db), "import", str(data)), env)
    timed(finledger("--db", str(db), "report", "summary"), env)  # the read model caught up
    day = (date.fromisoformat(facts["last_date"]) + timedelta(days=1)).isoformat()
    return db, day


def importtime(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """`-X importtime` of a command: the self time (ms) summed by top-level package."""
    proc = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], env=env, cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    totals: dict[str, float] = defaultdict(float)
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:"):].split("|")
        try:
            own = int(parts[0])
        except ValueError:  # the header line
            continue
        totals[parts[2].strip().split(".")[0]] += own / 1000
    return dict(totals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=BENCH / ".work")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--top", type=int, default=12, help="packages shown per command")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    env = environment()
    db, day = small_ledger(args.work, env)
    copy = args.work / f"startup-{SMALL}-copy.db"
    record = finledger("--db", str(copy), "record", "warrants", "--holder", "Bench Holder",
                       "--shares", "1000", "--exercise-price", "3.00", "--date", day)
    figures: dict[str, list[str]] = {
        "python -c pass": [PYTHON, "-c", "pass"],
        "bare sqlite3 read": [PYTHON, "-c", BARE, str(db)],
        "report summary": finledger("--db", str(db), "report", "summary"),
        "report summary --json": finledger("--db", str(db), "report", "summary", "--json"),
        "record warrants": record,
        "finledger --help": finledger("--help"),
    }
    runs: dict[str, list[float]] = {name: [] for name in figures}
    for _ in range(args.repeat):
        for name, cmd in figures.items():
            if cmd is record:
                shutil.copyfile(db, copy)
            runs[name].append(timed(cmd, env))
    median = {name: statistics.median(times) * 1000 for name, times in runs.items()}
    reference = median["python -c pass"] + median["bare sqlite3 read"]
    print(f"{args.repeat} rounds, load average {os.getloadavg()[0]:.2f}; median (min-max) ms")
    for name, times in runs.items():
        ratio = "" if name in ("python -c pass", "bare sqlite3 read") else \
            f"  {median[name] / reference:.2f}x pass + bare read"
        print(f"  {name:<24} {median[name]:7.1f} ({min(times) * 1000:.1f}-"
              f"{max(times) * 1000:.1f}){ratio}")
    print(f"  reference (pass + bare read) {reference:.1f}")
    for name in ("report summary", "record warrants", "finledger --help"):
        cmd = figures[name]
        if cmd is record:
            shutil.copyfile(db, copy)
        packages = sorted(importtime(cmd, env).items(), key=lambda kv: -kv[1])
        total = sum(ms for _, ms in packages)
        shown = ", ".join(f"{package} {ms:.0f}" for package, ms in packages[:args.top])
        print(f"importtime {name}: {total:.0f} ms in imports; {shown}")
    copy.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
