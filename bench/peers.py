"""finledger beside the plain-text accounting tools on the same history (issue 18).

    PYTHONPATH=. .venv/bin/python bench/peers.py --sizes 10000,100000 --repeat 3 \\
        [--work DIR] [--histories DIR] [--update-readme]

For each size: the seeded history (bench/generate.py; taken from `--histories` when a directory
there already holds it, else generated into `--work`), imported into a fresh finledger ledger
(`finledger import`), and written as an hledger/ledger-cli journal and a beancount file
(bench/journal.py: the same holdings, positions and cash). The journal's preferred positions
as of the middle date are checked equal to finledger's `report preferred --as-of --json` before
anything is timed. Then, as whole processes, round-robin (each round runs every command once,
so all see the same load; the figure is the median of `--repeat` rounds, after one warm-up run
each that is not counted):

- `finledger report preferred --as-of MID` beside `hledger bal -e MID+1 Assets:Preferred`,
  `ledger bal -e MID+1 ^Assets:Preferred` (both tools' end date is exclusive) and `bean-query`
  summing each preferred account's postings dated on or before MID, once with beancount's
  pickle cache of the parsed file (what a second run gets) and once without it;
- `finledger audit verify` beside `hledger check` (parse, balanced transactions, balance
  assertions), `hledger check --strict` (also every account and commodity declared) and
  `bean-check --no-cache`.

A tool that is not installed is named as missing and skipped. The ratio is finledger's median
over the peer's, both from the same rounds; the issue's target is finledger faster (ratio < 1).
Prints a table, writes bench/results/peers.json and peers.txt, and with `--update-readme` puts
the table into bench/README.md section 17.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH)]

import journal  # noqa: E402  (bench/journal.py)
import run  # noqa: E402  (bench/run.py: one way of timing whole processes)

os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(run.ROOT), os.environ.get("PYTHONPATH", "")) if p)
README_START = "<!-- bench:peers:start -->"
README_END = "<!-- bench:peers:end -->"
NO_CACHE = ["env", "BEANCOUNT_DISABLE_LOAD_CACHE=1", "BEANCOUNT_LOAD_CACHE_FILENAME=.nocache-{filename}"]


def finledger_command(given: str | None) -> list[str]:
    """The `finledger` to time: --finledger, else one on PATH or beside this Python, else
    `python -m cli` (this checkout is first on PYTHONPATH for every process either way)."""
    if given:
        return [given]
    found = shutil.which("finledger") or (run.FINLEDGER if Path(run.FINLEDGER).exists() else None)
    return [found] if found else [run.PYTHON, "-m", "cli"]


def tools() -> dict[str, str | None]:
    """Each peer's executable, None when it is not installed."""
    beside = str(Path(run.PYTHON).parent)
    return {
        "hledger": shutil.which("hledger"),
        "ledger": shutil.which("ledger"),
        "bean-query": shutil.which("bean-query") or shutil.which("bean-query", path=beside),
        "bean-check": shutil.which("bean-check") or shutil.which("bean-check", path=beside),
    }


INSTALL = {"hledger": "apt-get install hledger", "ledger": "apt-get install ledger",
           "bean-query": "pip install beanquery", "bean-check": "pip install beancount"}


def version(tool: str, path: str) -> str:
    if tool.startswith("bean"):
        try:
            import beancount

            return f"beancount {beancount.__version__}"
        except ImportError:
            return "beancount"
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout.strip().splitlines() or [tool])[0].split(",")[0]


def find_history(n: int, seed: int, sources: list[Path], work: Path) -> tuple[Path, dict[str, Any]]:
    from generate import GENERATOR_VERSION

    name = f"history-{n}-seed{seed}-v{GENERATOR_VERSION}"
    for folder in sources:
        path, facts = folder / f"{name}.jsonl", folder / f"{name}.json"
        if path.exists() and facts.exists():
            return path, json.loads(facts.read_text())
    return run.history(n, seed, work)


def round_robin(commands: dict[str, list[str]], repeats: int, timeout: float
                ) -> dict[str, run.Figure]:
    """Every command once per round, `repeats` rounds after one uncounted warm-up round;
    the median of each. A command that fails or times out is dropped from later rounds."""
    runs: dict[str, list[float]] = {k: [] for k in commands}
    rss: dict[str, float] = dict.fromkeys(commands, 0.0)
    failed: dict[str, run.Figure] = {}
    for index in range(repeats + 1):
        for key, command in commands.items():
            if key in failed:
                continue
            proc = run.run_process(command, timeout, keep_stdout=False)
            if proc.timed_out:
                failed[key] = run.Figure("timeout", detail=f"> {timeout:.0f} s")
            elif proc.rc != 0:
                line = (proc.stderr.strip().splitlines() or [f"exit {proc.rc}"])[-1][:120]
                failed[key] = run.Figure("failed", detail=f"exit {proc.rc}: {line}")
            elif index > 0:
                runs[key].append(proc.seconds)
                rss[key] = max(rss[key], proc.maxrss_mb)
        print(f"    round {index}{' (warm-up)' if index == 0 else ''} done, load "
              f"{os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    return {key: failed.get(key) or run.Figure("ok", statistics.median(runs[key]), runs[key],
                                                 rss[key])
            for key in commands}


def journal_matches(built: journal.Journal, fin: list[str], db: Path, on: str) -> dict[str, Any]:
    """The journal's preferred positions as of `on` beside `report preferred --as-of --json`."""
    proc = run.run_process([*fin, "--db", str(db), "report", "preferred", "--as-of", on, "--json"],
                           3600)
    report = json.loads(proc.stdout)
    want = {(h["holder"], s["series"]): h["outstanding"]
            for s in report["series"] for h in s["holders"] if h["outstanding"]}
    holder = {v: k for k, v in built.names.holders.items()}
    series = {v: k for k, v in built.names.series.items()}
    got = {(holder[account.split(":")[2]], series[commodity]): int(amount)
           for (account, commodity), amount in
           built.balances(date.fromisoformat(on), journal.PREFERRED + ":").items()}
    return {"equal": got == want, "positions": len(want), "shares": sum(want.values())}


def bench_size(n: int, args: argparse.Namespace, fin: list[str], found: dict[str, str | None]
               ) -> dict[str, Any]:
    print(f"size {n:,}", file=sys.stderr, flush=True)
    work: Path = args.work
    data, facts = find_history(n, args.seed, args.histories, work)
    middle = facts["middle_date"]
    end = (date.fromisoformat(middle) + timedelta(days=1)).isoformat()
    db = work / f"peers-ledger-{n}.db"
    run.remove_db(db)
    result: dict[str, Any] = {"events": n, "history": str(data), "middle_date": middle,
                              "facts": facts}

    imported, _ = run.measure([*fin, "--db", str(db), "import", str(data)], 1, args.timeout)
    result["import"] = asdict(imported)
    if not imported.ok:
        raise SystemExit(f"finledger import failed: {imported.label()}")
    started = datetime.now(UTC)
    built = journal.build(journal.read_lines(data))
    ledger_file, bean_file = work / f"peers-{n}.journal", work / f"peers-{n}.beancount"
    with ledger_file.open("w", encoding="utf-8") as out:
        journal.write_hledger(built, out)
    with bean_file.open("w", encoding="utf-8") as out:
        journal.write_beancount(built, out)
    result["journal"] = {
        "seconds_to_write": (datetime.now(UTC) - started).total_seconds(),
        "transactions": len(built.txns), "accounts": len(built.accounts),
        "hledger_bytes": ledger_file.stat().st_size, "beancount_bytes": bean_file.stat().st_size,
    }
    result["journal_matches"] = journal_matches(built, fin, db, middle)
    print(f"  journal: {len(built.txns):,} transactions, {len(built.accounts):,} accounts; "
          f"preferred as of {middle} equal to finledger's: {result['journal_matches']}",
          file=sys.stderr, flush=True)
    del built
    # the first `--as-of` after import builds the checkpoints: timed apart, not counted
    first, _ = run.measure([*fin, "--db", str(db), "report", "preferred", "--as-of", middle], 1,
                           args.timeout)
    result["as_of_first"] = asdict(first)

    query = (f"SELECT account, currency, sum(number) WHERE date <= {middle} "
             "AND account ~ '^Assets:Preferred:' GROUP BY account, currency")
    report: dict[str, list[str]] = {
        "finledger": [*fin, "--db", str(db), "report", "preferred", "--as-of", middle]}
    if found["hledger"]:
        report["hledger"] = [found["hledger"], "-f", str(ledger_file), "bal", "-e", end,
                             "Assets:Preferred"]
    if found["ledger"]:
        report["ledger"] = [found["ledger"], "-f", str(ledger_file), "bal", "-e", end,
                            "^Assets:Preferred"]
    if found["bean-query"]:
        report["bean-query"] = [found["bean-query"], str(bean_file), query]
        report["bean-query, no cache"] = [*NO_CACHE, found["bean-query"], str(bean_file), query]
    load = [os.getloadavg()[0]]
    print(f"  report preferred --as-of {middle}: {', '.join(report)}", file=sys.stderr, flush=True)
    result["report"] = {k: asdict(v) for k, v in
                        round_robin(report, args.repeat, args.timeout).items()}
    load.append(os.getloadavg()[0])
    result["report_load"] = load

    verify: dict[str, list[str]] = {"finledger": [*fin, "--db", str(db), "audit", "verify"]}
    if found["hledger"]:
        verify["hledger check"] = [found["hledger"], "-f", str(ledger_file), "check"]
        verify["hledger check --strict"] = [found["hledger"], "-f", str(ledger_file), "check",
                                            "--strict"]
    if found["bean-check"]:
        verify["bean-check"] = [*NO_CACHE, found["bean-check"], "--no-cache", str(bean_file)]
    load = [os.getloadavg()[0]]
    print(f"  audit verify: {', '.join(verify)}", file=sys.stderr, flush=True)
    result["verify"] = {k: asdict(v) for k, v in
                        round_robin(verify, args.repeat, args.timeout).items()}
    load.append(os.getloadavg()[0])
    result["verify_load"] = load
    if not args.keep:
        run.remove_db(db)
        for path in (ledger_file, bean_file, work / f".{bean_file.name}.picklecache"):
            path.unlink(missing_ok=True)
    return result


def rows(results: dict[int, dict[str, Any]]) -> list[dict[str, str]]:
    table: list[dict[str, str]] = []
    for group, name, peers_of in (
        ("report", "report preferred --as-of MID", {
            "hledger": "hledger bal -e MID+1", "ledger": "ledger bal -e MID+1",
            "bean-query": "bean-query (pickle cache)",
            "bean-query, no cache": "bean-query (no cache)"}),
        ("verify", "audit verify", {"hledger check": "hledger check",
                                    "hledger check --strict": "hledger check --strict",
                                    "bean-check": "bean-check --no-cache"}),
    ):
        for n in sorted(results):
            figures = {k: run.Figure(**v) for k, v in results[n][group].items()}
            fin = figures["finledger"]
            lo, hi = results[n][f"{group}_load"]
            for key, label in peers_of.items():
                peer = figures.get(key)
                row = {"figure": name, "events": f"{n:,}",
                       "finledger": run.fmt_s(fin.seconds) if fin.ok else fin.label(),
                       "peer": label, "peer_time": "", "ratio": "", "met": "",
                       "load": f"{lo:.1f}-{hi:.1f}"}
                if peer is None:
                    row["peer_time"] = "not installed"
                elif not peer.ok:
                    row["peer_time"] = peer.label()
                else:
                    row["peer_time"] = run.fmt_s(peer.seconds)
                    if fin.ok:
                        ratio = fin.seconds / peer.seconds
                        row["ratio"] = f"{ratio:.2f}x"
                        row["met"] = "yes" if ratio < 1 else "NO"
                table.append(row)
    return table


def render(table: list[dict[str, str]], title: str) -> Table:
    t = Table(title=title, title_justify="left")
    for header, justify in (("Figure", "left"), ("Events", "right"), ("finledger", "right"),
                            ("Peer", "left"), ("Peer time", "right"),
                            ("finledger/peer", "right"), ("Faster? (target)", "left"),
                            ("Load 1m", "right")):
        t.add_column(header, justify=justify)  # type: ignore[arg-type]
    previous = None
    for row in table:
        if previous is not None and (row["figure"], row["events"]) != previous:
            t.add_section()
        previous = (row["figure"], row["events"])
        t.add_row(row["figure"], row["events"], row["finledger"], row["peer"], row["peer_time"],
                  row["ratio"], row["met"], row["load"])
    return t


def update_readme(text: str) -> None:
    readme = BENCH / "README.md"
    content = readme.read_text()
    start, end = content.index(README_START), content.index(README_END)
    readme.write_text(content[:start] + f"{README_START}\n```\n{text.rstrip()}\n```\n"
                      + content[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="finledger beside hledger, ledger-cli and "
                                     "beancount on the same history (bench/README.md, 17)")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated event counts")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per figure (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    parser.add_argument("--work", type=Path, default=BENCH / ".work",
                        help="where histories, ledgers and journals are written")
    parser.add_argument("--histories", type=Path, action="append", default=[],
                        help="a directory of generated histories to read (never written)")
    parser.add_argument("--finledger", help="the finledger executable (default: see above)")
    parser.add_argument("--keep", action="store_true", help="keep the ledgers and journals")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "peers.json")
    parser.add_argument("--update-readme", action="store_true",
                        help="replace the peers table in bench/README.md")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    fin = finledger_command(args.finledger)
    found = tools()
    print(f"finledger: {' '.join(fin)} (PYTHONPATH {run.ROOT})", file=sys.stderr)
    for tool, path in found.items():
        if path is None:
            print(f"{tool}: not installed, skipped ({INSTALL[tool]})", file=sys.stderr)
        else:
            print(f"{tool}: {path} ({version(tool, path)})", file=sys.stderr)
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    started = datetime.now(UTC)
    results = {n: bench_size(n, args, fin, found) for n in sizes}
    info = run.machine()
    peers = ", ".join(version(t, p) for t, p in found.items() if p and t != "bean-check")
    title = (f"finledger beside its peers {started:%Y-%m-%d %H:%M} UTC, {info['cpus']} cores, "
             f"commit {info['commit']}"
             + (" + uncommitted changes" if info["uncommitted_changes_in_code"] else "")
             + f"; {peers}; median of {args.repeat} round-robin rounds")
    table = rows(results)
    console = Console(record=True, width=170)
    console.print(render(table, title))
    for n, r in results.items():
        console.print(f"{n:,} events: journal {r['journal']['transactions']:,} transactions, "
                      f"{r['journal']['accounts']:,} accounts; its preferred positions as of "
                      f"{r['middle_date']} equal finledger's report: "
                      f"{'yes' if r['journal_matches']['equal'] else 'NO'} "
                      f"({r['journal_matches']['positions']:,} holder positions); first "
                      f"--as-of after import (builds checkpoints, not counted) "
                      f"{run.fmt_s(r['as_of_first']['seconds'])}")
    text = console.export_text()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"started": started.isoformat(), "machine": info,
                                    "tools": found, "finledger": fin,
                                    "sizes": {str(n): r for n, r in results.items()},
                                    "table": table}, indent=2) + "\n")
    args.out.with_suffix(".txt").write_text(text)
    if args.update_readme:
        update_readme(text)
    return 0 if all(r["journal_matches"]["equal"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
