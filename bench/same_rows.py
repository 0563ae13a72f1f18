"""Reports that cost what they show (issue 18): `report preferred`, `report warrants` and
`report capital` on a long history, each beside the same report on a ledger that prints as
many rows, built from the history itself.

    PYTHONPATH=. .venv/bin/python bench/same_rows.py HISTORY LEDGER --work DIR [--repeat 5]

HISTORY is a generated export (bench/generate.py) and LEDGER the ledger imported from it.
For each report a short history is written that prints the same rows and nothing else:

- preferred: each series designated as in the history, then one closing per series with one
  share for every holder the series ever had (so as many series and holder rows);
- warrants: every warrant issued in the history (same refs, holders, prices, expiries,
  closings), each closing it names recorded as a closing of common on its date (so as many
  warrant, closing and price rows), and nothing exercised;
- capital: one closing of common for each entry of the history's capital report, on its date
  with its gross (so as many entries and periods).

The reports' row counts are checked equal (from `--json`), then each report runs as whole
processes, alternating with the same report on its small ledger (`run.measure_pair`), both as
a table (a pipe, 160 columns) and as `--json`; the figure is the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH)]

import run  # noqa: E402  (bench/run.py: one way of timing whole processes)

# the installed command, else this checkout's (PYTHONPATH set to it for the processes)
FINLEDGER = [run.FINLEDGER] if Path(run.FINLEDGER).exists() else [run.PYTHON, "-m", "cli"]
if not Path(run.FINLEDGER).exists():
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(run.ROOT), os.environ.get("PYTHONPATH", "")) if p)
REPORTS = ("preferred", "warrants", "capital")
TARGET = 1.5


def _lines(history: Path) -> Iterator[dict[str, Any]]:
    with history.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _line(kind: str, on: str, data: dict[str, Any]) -> str:
    return json.dumps({"type": kind, "effective_date": on, "data": data}) + "\n"


def preferred_lines(history: Path) -> list[str]:
    designated: dict[str, tuple[str, dict[str, Any]]] = {}
    holders: dict[str, dict[str, None]] = {}
    for entry in _lines(history):
        data = entry["data"]
        if entry["type"] == "SeriesDesignated":
            designated[data["series"]] = (entry["effective_date"], dict(data))
        elif entry["type"] == "ClosingCompleted" and data["security"] in designated:
            names = holders.setdefault(data["security"], {})
            for allocation in data["allocations"]:
                names.setdefault(allocation["investor"], None)
    out: list[str] = []
    for index, (series, (on, data)) in enumerate(designated.items()):
        names = list(holders.get(series, {}))
        data["authorized"] = max(int(data["authorized"]), len(names))
        out.append(_line("SeriesDesignated", on, data))
        if names:
            out.append(_line("ClosingCompleted", on, {
                "ref": f"SR-{index}", "security": series, "price_per_share": data["stated_value"],
                "allocations": [{"investor": name, "shares": 1, "gross": data["stated_value"]}
                                for name in names]}))
    return out


def _common_closing(ref: str, on: str, price: str) -> str:
    return _line("ClosingCompleted", on, {
        "ref": ref, "security": "common", "price_per_share": price,
        "allocations": [{"investor": "Same Rows", "shares": 1, "gross": price}]})


def warrant_lines(history: Path) -> list[str]:
    closings: dict[str, str] = {}
    warrants: list[tuple[str, dict[str, Any]]] = []
    for entry in _lines(history):
        if entry["type"] == "ClosingCompleted":
            closings[entry["data"]["ref"]] = entry["effective_date"]
        elif entry["type"] == "WarrantsIssued":
            warrants.append((entry["effective_date"], entry["data"]))
    named = {data["closing"] for _, data in warrants if data.get("closing")}
    dated = [(on, 0, _common_closing(ref, on, "1.00")) for ref, on in closings.items()
             if ref in named]
    dated += [(on, 1, _line("WarrantsIssued", on, data)) for on, data in warrants]
    return [text for _, _, text in sorted(dated, key=lambda item: (item[0], item[1]))]


def capital_lines(history: Path) -> list[str]:
    out: list[str] = []
    for entry in _lines(history):
        data, on = entry["data"], entry["effective_date"]
        if entry["type"] == "ClosingCompleted":
            gross = data["gross"]
        elif entry["type"] == "WarrantsExercised" and not data.get("cashless"):
            gross = data["proceeds"]
        else:
            continue
        if Decimal(gross) > 0:
            out.append(_common_closing(f"CR-{len(out)}", on, gross))
    return out


BUILDERS = {"preferred": preferred_lines, "warrants": warrant_lines, "capital": capital_lines}


def rows(report: str, document: dict[str, Any]) -> dict[str, int]:
    """How many rows of each kind the report prints."""
    if report == "preferred":
        return {"series": len(document["series"]),
                "holders": sum(len(s["holders"]) for s in document["series"])}
    if report == "warrants":
        return {key: len(document[key]) for key in ("warrants", "by_price", "by_closing")}
    return {key: len(document[key]) for key in ("entries", "periods")}


def _json(db: Path, report: str) -> dict[str, Any]:
    proc = subprocess.run([*FINLEDGER, "--db", str(db), "report", report, "--json"],
                          capture_output=True, text=True, check=True)
    document: dict[str, Any] = json.loads(proc.stdout)
    return document


def small_ledger(report: str, history: Path, work: Path) -> Path:
    """The ledger that prints as many rows as `report` on the history (built once)."""
    db = work / f"same-rows-{report}-{history.stem}.db"
    if not db.exists():
        lines = work / f"same-rows-{report}-{history.stem}.jsonl"
        lines.write_text("".join(BUILDERS[report](history)), encoding="utf-8")
        proc = run.run_process([*FINLEDGER, "--db", str(db), "import", str(lines)], 3600)
        if proc.rc != 0:
            run.remove_db(db)
            raise SystemExit(f"same-rows ledger for {report}: {proc.stderr[-2000:]}")
    return db


def bench(history: Path, ledger: Path, work: Path, repeat: int, timeout: float
          ) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for report in REPORTS:
        small = small_ledger(report, history, work)
        big_rows, small_rows = rows(report, _json(ledger, report)), rows(report, _json(small, report))
        entry: dict[str, Any] = {"rows": big_rows, "small_rows": small_rows,
                                 "rows_match": big_rows == small_rows}
        for form, extra in (("table", []), ("json", ["--json"])):
            fig, ref = run.measure_pair(
                [*FINLEDGER, "--db", str(ledger), "report", report, *extra],
                [*FINLEDGER, "--db", str(small), "report", report, *extra], repeat, timeout)
            entry[form] = {"seconds": fig.seconds, "runs": fig.runs, "status": fig.status,
                           "small_seconds": ref.seconds, "small_runs": ref.runs,
                           "ratio": fig.seconds / ref.seconds if fig.ok and ref.ok else None}
        results[report] = entry
    return results


def lines_of(results: dict[str, Any], events: int) -> list[str]:
    out = []
    for report, entry in results.items():
        for form in ("table", "json"):
            figure = entry[form]
            ratio = figure["ratio"]
            met = "" if ratio is None else ("yes" if ratio <= TARGET else "NO")
            out.append(
                f"report {report:<9} {form:<5} {events:>9,} events: "
                f"{figure['seconds'] * 1000:7.0f} ms vs {figure['small_seconds'] * 1000:7.0f} ms "
                f"on a ledger printing the same rows {entry['rows']}"
                f"{'' if entry['rows_match'] else ' (rows differ: ' + str(entry['small_rows']) + ')'}"
                f" -> {ratio:.2f}x (target <= {TARGET}x: {met})" if ratio is not None else
                f"report {report} {form}: {figure['status']}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("history", type=Path)
    parser.add_argument("ledger", type=Path)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = bench(args.history, args.ledger, args.work, args.repeat, args.timeout)
    events = sum(1 for _ in args.history.open(encoding="utf-8"))
    print("\n".join(lines_of(results, events)))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
