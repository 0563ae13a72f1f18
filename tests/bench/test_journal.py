"""The peers' journals hold what finledger reports (bench/journal.py, bench/peers.py; issue 18).

A 300-event generated history is imported, then a split, two transfers of preferred (one
reversed), a warrant assignment and a redemption are recorded on top, and the ledger is
exported: that export is what the journals are written from. As of several dates, each
holder's preferred shares per series, each warrant's outstanding shares and the gross raised,
read back from the written text of the hledger journal and of the beancount file by the
test's own parser, equal `report preferred|warrants|capital --as-of D --json`. hledger,
ledger-cli and beancount each also check and query the files when installed; those parts
skip, saying which tool is missing, when not.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import invoke
from tests.paths import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import journal
from generate import write

EVENTS = 300
Positions = dict[tuple[str, str], int]


@dataclass
class Case:
    db: str
    hledger: Path
    beancount: Path
    names: journal.Names
    dates: list[date]


def _json(db: str, *words: str) -> dict[str, object]:
    r = invoke("--db", db, *words, "--json")
    assert r.code == 0, r.err
    result: dict[str, object] = json.loads(r.out)
    return result


def _ok(db: str, *words: str) -> None:
    r = invoke("--db", db, *words)
    assert r.code == 0, r.err


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    work = tmp_path_factory.mktemp("peers")
    history = work / "history.jsonl"
    with history.open("w", encoding="utf-8") as fh:
        facts = write(EVENTS, fh)
    db = str(work / "ledger.db")
    _ok(db, "import", str(history))
    last = str(facts["last_date"])
    preferred = _json(db, "report", "preferred", "--as-of", last)
    held = [(s["series"], h["holder"], h["outstanding"])
            for s in preferred["series"] for h in s["holders"]  # type: ignore[attr-defined]
            if h["outstanding"] >= 4]
    assert len(held) >= 2, "the history leaves too few holders to move shares between"
    (series, seller, shares), (series2, seller2, _) = held[0], held[1]
    warrants = _json(db, "report", "warrants", "--as-of", last)
    live = [w for w in warrants["warrants"] if w["outstanding"] >= 4]  # type: ignore[attr-defined]
    assert live, "the history leaves no warrant to assign"
    _ok(db, "record", "split", "--new", "3", "--old", "2", "--date", last)
    _ok(db, "record", "transfer", series, "--from", seller, "--to", "New Holder LLC",
        "--shares", str(shares // 2), "--date", last)
    # the seller takes one share back the same day: its balance that day ends above the
    # one asserted after the first transfer
    _ok(db, "record", "transfer", series, "--from", "New Holder LLC", "--to", seller,
        "--shares", "1", "--date", last)
    _ok(db, "record", "transfer", series2, "--from", seller2, "--to", "Mistaken Buyer",
        "--shares", "1", "--date", last)
    head = len(invoke("--db", db, "export").out.splitlines())  # the mistaken transfer's position
    _ok(db, "record", "reversal", str(head), "--reason", "recorded by mistake")
    _ok(db, "record", "warrant-transfer", live[0]["ref"], "--to", "New Holder LLC",
        "--shares", str(live[0]["outstanding"] // 3), "--date", last)
    _ok(db, "record", "redemption", series, "--holder", "New Holder LLC", "--shares", "1",
        "--date", last)
    export = work / "export.jsonl"
    _ok(db, "export", "-o", str(export))
    kinds = {json.loads(line)["type"] for line in export.read_text().splitlines()}
    assert {"StockSplit", "SharesTransferred", "EventReversed", "WarrantsTransferred",
            "SharesRedeemed", "ConversionRequested", "WarrantsExercised"} <= kinds

    built = journal.build(journal.read_lines(export))
    hledger, beancount = work / "history.journal", work / "history.beancount"
    with hledger.open("w", encoding="utf-8") as out:
        journal.write_hledger(built, out)
    with beancount.open("w", encoding="utf-8") as out:
        journal.write_beancount(built, out)
    first = date.fromisoformat(str(facts["first_date"]))
    end = date.fromisoformat(last)
    middle = date.fromisoformat(str(facts["middle_date"]))
    dates = sorted({first + (end - first) // 4, middle, end - timedelta(days=1), end,
                    end + timedelta(days=4000)})
    return Case(db, hledger, beancount, built.names, dates)


# --- the test's own reading of the written files ------------------------------------------


_TXN = re.compile(r"^(\d{4}-\d{2}-\d{2}) \*")
_BALANCE = re.compile(r"^(\d{4}-\d{2}-\d{2}) balance (\S+)\s+(-?[\d.]+) ([A-Z][A-Z0-9_]*)$")
_POSTING = re.compile(r'^\s+(\S+)\s+(-?[\d.]+) "?([A-Z][A-Z0-9_]*)"?(?: = (-?[\d.]+) "?[A-Z0-9_]+"?)?$')


def read_text_balances(path: Path, on: date) -> dict[tuple[str, str], Decimal]:
    """Every (account, commodity) balance at the end of `on`, from a journal's text; each
    balance assertion (hledger's on a posting, beancount's `balance` directive, both written
    in date order) checked against the running balance on the way."""
    totals: dict[tuple[str, str], Decimal] = {}
    running: dict[tuple[str, str], Decimal] = {}
    day: date | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := _BALANCE.match(line):  # beancount: the balance at the start of its date
            assert running.get((m.group(2), m.group(4)), Decimal(0)) == Decimal(m.group(3)), line
            continue
        if m := _TXN.match(line):
            day = date.fromisoformat(m.group(1))
            continue
        if day is None or not (m := _POSTING.match(line)):
            continue
        key = (m.group(1), m.group(3))
        running[key] = running.get(key, Decimal(0)) + Decimal(m.group(2))
        if m.group(4) is not None:
            assert running[key] == Decimal(m.group(4)), line
        if day <= on:
            totals[key] = totals.get(key, Decimal(0)) + Decimal(m.group(2))
    return {k: v for k, v in totals.items() if v}


def journal_positions(balances: dict[tuple[str, str], Decimal], names: journal.Names
                      ) -> tuple[Positions, Positions, Decimal]:
    """Preferred shares per (holder, series), warrant shares per (holder, ref), gross raised."""
    holder = {v: k for k, v in names.holders.items()}
    series = {v: k for k, v in names.series.items()}
    ref = {v: k for k, v in names.refs.items()}
    preferred: Positions = {}
    warrants: Positions = {}
    for (account, commodity), amount in balances.items():
        parts = account.split(":")
        if account.startswith(journal.PREFERRED + ":"):
            preferred[(holder[parts[2]], series[commodity])] = int(amount)
        elif account.startswith(journal.WARRANTS + ":"):
            warrants[(holder[parts[2]], ref[parts[3]])] = int(amount)
    return preferred, warrants, -balances.get((journal.CAPITAL, journal.USD), Decimal(0))


def reported(db: str, on: date) -> tuple[Positions, Positions, Decimal]:
    preferred = _json(db, "report", "preferred", "--as-of", on.isoformat())
    warrants = _json(db, "report", "warrants", "--as-of", on.isoformat())
    capital = _json(db, "report", "capital", "--as-of", on.isoformat())
    return (
        {(h["holder"], s["series"]): h["outstanding"]
         for s in preferred["series"] for h in s["holders"]  # type: ignore[attr-defined]
         if h["outstanding"]},
        {(w["holder"], w["ref"]): w["outstanding"]
         for w in warrants["warrants"] if w["outstanding"]},  # type: ignore[attr-defined]
        Decimal(capital["totals"]["gross"]),  # type: ignore[index]
    )


@pytest.mark.parametrize("which", ["hledger", "beancount"])
def test_the_written_journal_holds_what_finledger_reports_as_of_each_date(case: Case, which: str
                                                                          ) -> None:
    path = case.hledger if which == "hledger" else case.beancount
    for on in case.dates:
        want_preferred, want_warrants, want_gross = reported(case.db, on)
        got_preferred, got_warrants, got_gross = journal_positions(
            read_text_balances(path, on), case.names)
        assert got_preferred == want_preferred, on
        assert got_warrants == want_warrants, on
        assert got_gross == want_gross, on
        assert want_preferred, f"nothing held on {on}: the comparison would be empty"


def _hledger_balances(path: Path, on: date) -> dict[tuple[str, str], Decimal]:
    """`hledger bal -e NEXT_DAY` (hledger's end date is exclusive), one row per commodity."""
    out = subprocess.run(
        ["hledger", "-f", str(path), "bal", "-e", (on + timedelta(days=1)).isoformat(),
         "--flat", "-O", "csv", "Assets:Preferred", "Assets:Warrants", "Equity:Issuer:Capital"],
        capture_output=True, text=True, check=True).stdout
    balances: dict[tuple[str, str], Decimal] = {}
    for row in list(csv.reader(io.StringIO(out)))[1:]:
        if row[0] == "total":
            continue
        for amount in row[1].split(", "):
            number, commodity = amount.rsplit(" ", 1)
            balances[(row[0], commodity.strip('"'))] = Decimal(number)
    return {k: v for k, v in balances.items() if v}


def test_hledger_checks_the_journal_and_its_balances_are_finledgers(case: Case) -> None:
    if shutil.which("hledger") is None:
        pytest.skip("hledger is not installed (apt-get install hledger): its part not run")
    check = subprocess.run(["hledger", "-f", str(case.hledger), "check", "--strict"],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    for on in case.dates:
        assert journal_positions(_hledger_balances(case.hledger, on), case.names) \
            == reported(case.db, on), on


def test_ledger_cli_reads_the_journal_and_its_assertions_hold(case: Case) -> None:
    if shutil.which("ledger") is None:
        pytest.skip("ledger-cli is not installed (apt-get install ledger): its part not run")
    on = case.dates[1]
    out = subprocess.run(
        ["ledger", "-f", str(case.hledger), "bal", "--flat", "--no-total", "-e",
         (on + timedelta(days=1)).isoformat(), "^Assets:Preferred:"],
        capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    want, _, _ = reported(case.db, on)
    # one line per commodity, the account named on the last line of each account's block
    shown = sum(int(line.split()[0]) for line in out.stdout.splitlines() if line.strip())
    assert shown == sum(want.values())


def test_beancount_checks_the_file_and_its_balances_are_finledgers(case: Case) -> None:
    bean_check, bean_query = shutil.which("bean-check", path=str(Path(sys.executable).parent)), \
        shutil.which("bean-query", path=str(Path(sys.executable).parent))
    if bean_check is None:
        pytest.skip("beancount is not installed (pip install beancount): its part not run")
    check = subprocess.run([bean_check, "-C", str(case.beancount)], capture_output=True,
                           text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    if bean_query is None:
        pytest.skip("bean-check passed; bean-query is not installed (pip install beanquery)")
    for on in case.dates:
        out = subprocess.run(
            [bean_query, "-f", "csv", str(case.beancount),
             f"SELECT account, currency, sum(number) WHERE date <= {on.isoformat()} "
             "AND account ~ '^(Assets:Preferred|Assets:Warrants|Equity:Issuer:Capital)' "
             "GROUP BY account, currency"],
            capture_output=True, text=True, check=True,
            env={"BEANCOUNT_DISABLE_LOAD_CACHE": "1", "PATH": "/usr/bin:/bin"}).stdout
        balances = {(row[0], row[1]): Decimal(row[2].strip())
                    for row in list(csv.reader(io.StringIO(out)))[1:]}
        assert journal_positions({k: v for k, v in balances.items() if v}, case.names) \
            == reported(case.db, on), on
