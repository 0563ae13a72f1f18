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
import resource
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


# Where one `report summary` spends its CPU, phase by phase, in one process: each phase
# imports (or runs) what the command would, in the order it would.
PHASES = """
import contextlib, io, sys, time
marks = [("start", time.process_time())]
def mark(name):
    marks.append((name, time.process_time()))
import typer
mark("typer (and the click it vendors)")
import cli.main
mark("cli.main, cli.context, app.service")
cli.main._command().commands["report"].commands["summary"]
mark("the command tree: root, report, summary")
import projections.reports
mark("projections.reports (events, the books' fold)")
import projections.readmodel
mark("projections.readmodel (ledger.location, sqltables)")
import rich.console, rich.table
mark("rich (console, table)")
import cli.render, cli.tables, cli.output
mark("cli.render, cli.tables")
with contextlib.redirect_stdout(io.StringIO()):
    try:
        cli.main.run(["--db", sys.argv[1], "report", "summary"])
    except SystemExit:
        pass
mark("the run: parse, read the tables, draw")
for (_, before), (name, at) in zip(marks, marks[1:]):
    print(f"{(at - before) * 1000:.1f}\t{name}")
"""


def phases(db: Path, env: dict[str, str], repeat: int) -> list[tuple[str, float]]:
    """The median CPU ms of each phase of PHASES over `repeat` processes."""
    found: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeat):
        proc = subprocess.run([PYTHON, "-c", PHASES, str(db)], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        for line in proc.stdout.splitlines():
            ms, name = line.split("\t")
            found[name].append(float(ms))
    return [(name, statistics.median(times)) for name, times in found.items()]


def finledger(*args: str) -> list[str]:
    return [PYTHON, "-m", "cli", *args]


def environment(tree: Path = ROOT) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env.pop("FINLEDGER_KEY", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules load from their bytecode
    env["COLUMNS"] = "160"
    return env


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The process's wall time and its CPU time (user + system: what load inflates less)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=env["PYTHONPATH"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)  # (cwd: `-m cli` finds it first)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


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
    parser.add_argument("--before", type=Path, metavar="TREE",
                        help="another source tree (e.g. `git archive` of a base commit) whose "
                        "summary and record run in the same rounds")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    env = environment()
    db, day = small_ledger(args.work, env)
    copy = args.work / f"startup-{SMALL}-copy.db"
    record = finledger("--db", str(copy), "record", "warrants", "--holder", "Bench Holder",
                       "--shares", "1000", "--exercise-price", "3.00", "--date", day)
    summary = finledger("--db", str(db), "report", "summary")
    figures: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([PYTHON, "-c", "pass"], env),
        "bare sqlite3 read": ([PYTHON, "-c", BARE, str(db)], env),
        "report summary": (summary, env),
        "report summary --json": ([*summary, "--json"], env),
        "record warrants": (record, env),
        "finledger --help": (finledger("--help"), env),
    }
    if args.before is not None:
        before = environment(args.before.resolve())
        figures["before: report summary"] = (summary, before)
        figures["before: record warrants"] = (record, before)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in figures}
    for _ in range(args.repeat):
        for name, (cmd, tree) in figures.items():
            if cmd is record:
                shutil.copyfile(db, copy)
            runs[name].append(timed(cmd, tree))
    print(f"{args.repeat} rounds, load average {os.getloadavg()[0]:.2f}; median (min-max) ms")
    for which, label in ((0, "wall"), (1, "CPU (user + system)")):
        median = {name: statistics.median(t[which] for t in times) * 1000
                  for name, times in runs.items()}
        reference = median["python -c pass"] + median["bare sqlite3 read"]
        print(f"{label}: reference (pass + bare read) {reference:.1f}")
        for name, times in runs.items():
            ratio = "" if name in ("python -c pass", "bare sqlite3 read") else \
                f"  {median[name] / reference:.2f}x pass + bare read"
            print(f"  {name:<24} {median[name]:7.1f} ({min(t[which] for t in times) * 1000:.1f}-"
                  f"{max(t[which] for t in times) * 1000:.1f}){ratio}")
    for name in ("report summary", "record warrants", "finledger --help"):
        cmd = figures[name][0]
        if cmd is record:
            shutil.copyfile(db, copy)
        packages = sorted(importtime(cmd, env).items(), key=lambda kv: -kv[1])
        total = sum(ms for _, ms in packages)
        shown = ", ".join(f"{package} {ms:.0f}" for package, ms in packages[:args.top])
        print(f"importtime {name}: {total:.0f} ms in imports; {shown}")
    print("report summary, CPU by phase (median ms):")
    for name, ms in phases(db, env, max(3, args.repeat // 3)):
        print(f"  {ms:6.1f}  {name}")
    copy.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
