"""`export` and `import`: JSON lines out, every line re-checked on the way in, all or nothing."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, invoke

# The May 2003 Series D financing, plus the events that exercise every computation: a
# back-dated baseline, a stock dividend, a conversion, cash and cashless exercises, a closing
# of common, and a reversal. Warrant expiries and the investor split are assumed.
SPECTRUM: list[list[str]] = [
    ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
     "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444",
     "--par-value", "0.001"],
    ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
     "--investor", "SCO Capital Partners=150", "--investor", "SDS Merchant Fund=100",
     "--investor", "Xmark Funds=100", "--investor", "ProMed Partners, L.P.=94"],
    ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
     "--exercise-price", "3.00", "--date", "2003-05-08", "--expires", "2099-05-08",
     "--closing", "D-1", "--label", "Series D-1", "--ref", "W-D1-300"],
    ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
     "--exercise-price", "3.50", "--date", "2003-05-08", "--expires", "2099-05-08",
     "--closing", "D-1", "--label", "Series D-1", "--ref", "W-D1-350"],
    ["record", "authorization", "Series D", "--shares", "156", "--date", "2003-05-14"],
    ["record", "closing", "Series D", "--date", "2003-05-14", "--ref", "D-2",
     "--investor", "SCO Capital Partners=56", "--investor", "Xmark Funds=100",
     "--fees", "93600"],
    ["record", "warrants", "--holder", "Xmark Funds", "--shares", "331914",
     "--exercise-price", "3.00", "--date", "2003-05-14", "--closing", "D-2", "--ref", "W-D2"],
    ["record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01",
     "--form", "stock", "--price", "3.10"],
    ["record", "conversion", "Series D", "--holder", "SCO Capital Partners", "--shares", "20",
     "--date", "2003-09-02"],
    ["record", "exercise", "W-D1-300", "--shares", "10000", "--date", "2004-01-15"],
    ["record", "exercise", "W-D1-300", "--shares", "10000", "--date", "2004-02-02",
     "--cashless", "--market-price", "4.10"],
    ["record", "closing", "common", "--date", "2004-03-01", "--price-per-share", "3.25",
     "--investor", "SDS Merchant Fund=50000", "--ref", "C-1"],
    ["record", "common-outstanding", "3108100", "--date", "2003-05-09"],
    ["record", "warrants", "--holder", "ProMed Partners, L.P.", "--shares", "5000",
     "--exercise-price", "4.00", "--date", "2003-06-01", "--ref", "W-MISTAKE"],
    ["record", "reversal", "14", "--reason", "entered for the wrong holder"],
    # holders change (issue 12): a transfer taking one lot whole and one in part, part of a
    # warrant assigned, a redemption with accrued dividends
    ["record", "transfer", "Series D", "--from", "SCO Capital Partners", "--to", "Xmark Funds",
     "--shares", "140", "--date", "2003-10-01"],
    ["record", "warrant-transfer", "W-D1-350", "--to", "SDS Merchant Fund", "--shares",
     "100000", "--date", "2003-10-01", "--ref", "W-D1-350-SDS"],
    ["record", "redemption", "Series D", "--holder", "ProMed Partners, L.P.", "--shares", "10",
     "--date", "2003-11-03"],
]
# Terms that change (DOMAIN.md 12-14), recorded after SPECTRUM (and anything a test adds to
# it): a protected warrant reset by a cheaper common closing, an adjustment by hand, a
# 1-for-25 reverse split.
TERMS: list[list[str]] = [
    ["record", "warrants", "--holder", "Xmark Funds", "--shares", "100000",
     "--exercise-price", "4.00", "--date", "2004-06-01", "--ref", "W-AD",
     "--anti-dilution", "full-ratchet", "--price-floor", "1.00"],
    ["record", "closing", "common", "--date", "2004-07-01", "--price-per-share", "2.00",
     "--investor", "SDS Merchant Fund=10000", "--ref", "C-AD"],
    ["record", "adjustment", "--warrant", "W-D2", "--exercise-price", "2.75", "--date",
     "2004-08-01", "--reason", "board resolution of 2004-07-28"],
    ["record", "split", "--new", "1", "--old", "25", "--date", "2005-01-03"],
]
REPORTS = [["report", "preferred", "--json"], ["report", "warrants", "--json"],
           ["report", "capital", "--json", "--by", "quarter"], ["report", "summary", "--json"]]


def record_all(target: str, commands: list[list[str]]) -> None:
    for args in commands:
        r = invoke("--db", target, *args)
        assert r.code == 0, (args, r.err)


@contextlib.contextmanager
def another_ledger(db: str, tmp_path: Path) -> Iterator[str]:
    """A second empty ledger on the same backend as `db`."""
    if db.startswith("postgres"):
        from tests.pg import fresh_ledger_url

        with fresh_ledger_url() as url:
            yield url
    else:
        yield str(tmp_path / "copy.db")


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_lines(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return path


def event_count(target: str) -> int:
    r = invoke("--db", target, "log", "--json")
    if r.code == 1 and "no ledger at" in r.err:
        return 0  # a refused import into a new ledger leaves no ledger behind (issue 15)
    assert r.code == 0, r.err
    return len(json.loads(r.out))


@pytest.fixture
def spectrum(fl: Any, db: str, tmp_path: Path) -> Path:
    """The recorded Spectrum ledger, exported to a file."""
    record_all(db, SPECTRUM)
    path = tmp_path / "spectrum.jsonl"
    r = fl("export", "-o", str(path))
    assert r.code == 0, r.err
    return path


def test_export_writes_every_event_with_its_metadata(fl: Any, spectrum: Path) -> None:
    exported = lines(spectrum)
    log = json.loads(fl("log", "--json").out)
    assert exported == log
    assert [e["position"] for e in exported] == list(range(1, 19))
    assert exported[13]["reversed_by"] == 15
    assert {"type", "effective_date", "data", "recorded_at", "actor", "hash"} <= set(exported[0])
    r = fl("export")
    assert r.code == 0
    assert [json.loads(line) for line in r.out.splitlines()] == exported


def test_export_then_import_reproduces_identical_reports(
    fl: Any, db: str, spectrum: Path, tmp_path: Path
) -> None:
    with another_ledger(db, tmp_path) as copy:
        r = invoke("--db", copy, "import", str(spectrum))
        assert r.code == 0, r.err
        assert r.out.strip() == "Imported 18 events at positions 1 to 18"
        for report in REPORTS:
            original, imported = fl(*report), invoke("--db", copy, *report)
            assert original.code == 0 and imported.code == 0, imported.err
            assert json.loads(imported.out) == json.loads(original.out), report
        # Everything but the new chain (and the source that points back at the old one) is
        # kept, recorded_at and actor included.
        strip = ("prev_hash", "hash", "source")
        logged = json.loads(invoke("--db", copy, "log", "--json").out)
        exported_again = [{k: v for k, v in e.items() if k not in strip} for e in logged]
        assert exported_again == [{k: v for k, v in e.items() if k not in strip}
                                  for e in lines(spectrum)]
        assert [e["source"] for e in logged] == [
            {"position": e["position"], "hash": e["hash"]} for e in lines(spectrum)]
        verified = invoke("--db", copy, "audit", "verify")
        assert verified.code == 0, verified.out


def test_a_refused_line_is_named_and_nothing_is_appended(
    fl: Any, db: str, spectrum: Path, tmp_path: Path
) -> None:
    entries = lines(spectrum)[:6]
    entries[5]["data"]["allocations"][0]["shares"] = 5000  # beyond the 600 authorized
    bad = write_lines(tmp_path / "bad.jsonl", entries)
    with another_ledger(db, tmp_path) as copy:
        r = invoke("--db", copy, "import", str(bad))
        assert r.code == 1
        assert r.err.startswith("Error: line 6:") and "authorized" in r.err
        assert r.err.count("\n") == 1
        assert event_count(copy) == 0
    before = event_count(db)
    r = fl("import", str(spectrum))  # the same events again: the series exists already
    assert r.code == 1 and r.err.startswith("Error: line 1:") and "already" in r.err
    assert event_count(db) == before


def test_an_outcome_that_recording_would_not_compute_is_refused(
    spectrum: Path, tmp_path: Path
) -> None:
    entries = lines(spectrum)
    conversion = entries[8]
    assert conversion["type"] == "ConversionRequested"
    conversion["data"]["common_shares"] += 1
    bad = write_lines(tmp_path / "edited.jsonl", entries)
    r = invoke("--db", str(tmp_path / "fresh.db"), "import", str(bad))
    assert r.code == 1
    assert r.err.startswith("Error: line 9: the file says common_shares = ")
    assert "never changes history" in r.err
    assert event_count(str(tmp_path / "fresh.db")) == 0


def test_lines_need_only_type_date_and_data(tmp_path: Path) -> None:
    minimal = [
        {"type": "SeriesDesignated", "effective_date": "2003-05-08",
         "data": {"series": "Series D", "stated_value": "10000", "conversion_price": "2.35",
                  "dividend_rate": "8", "authorized": 444}},
        {"type": "ClosingCompleted", "effective_date": "2003-05-08",
         "data": {"security": "Series D", "ref": "D-1", "allocations": [
             {"investor": "SCO Capital Partners", "shares": 444, "gross": "4440000.00"}]}},
        {"type": "ConversionRequested", "effective_date": "2003-09-02",
         "data": {"series": "Series D", "holder": "SCO Capital Partners", "shares": 20}},
    ]
    target = str(tmp_path / "min.db")
    r = invoke("--db", target, "import", str(write_lines(tmp_path / "min.jsonl", minimal)))
    assert r.code == 0, r.err
    log = json.loads(invoke("--db", target, "log", "--json").out)
    conversion = log[2]["data"]
    # 20 x 10,000 = 200,000 plus 117 days at 8% on 200,000 = 5,128.77; / 2.35 floors.
    assert conversion["accrued"] == "5128.77"
    assert conversion["common_shares"] == 87288
    assert conversion["cash_in_lieu"] == "1.97"


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "not a JSON object"),
    ("[1, 2]", "not a JSON object"),
    ('{"type": "Nope", "effective_date": "2003-05-08", "data": {}}', "not an event type"),
    ('{"type": "CommonOutstandingReported", "data": {"shares": 1}}', "'effective_date' is missing"),
    ('{"type": "CommonOutstandingReported", "effective_date": "2003-13-01", '
     '"data": {"shares": 1}}', "is not a date"),
    ('{"type": "CommonOutstandingReported", "effective_date": "2003-05-08", '
     '"data": {"shares": 1, "colour": "red"}}', "no field 'colour'"),
    ('{"type": "CommonOutstandingReported", "effective_date": "2003-05-08", '
     '"data": {"shares": "many"}}', "whole positive number"),
    ('{"type": "CommonOutstandingReported", "effective_date": "2003-05-08", "data": {}}',
     "needs 'shares'"),
    ('{"type": "WarrantsIssued", "effective_date": "2003-05-08", "data": {"holder": "A", '
     '"shares": 10, "exercise_price": "NaN"}}', "finite decimal"),
    ('{"type": "WarrantsIssued", "effective_date": "2003-05-08", "data": {"holder": "A", '
     '"shares": 10, "exercise_price": "three"}}', "not a valid value"),
    ('{"type": "EventReversed", "effective_date": "2003-05-08", '
     '"data": {"reversed_position": 9, "reason": "x"}}', "not an earlier line"),
])
def test_malformed_lines_are_refused_by_number(tmp_path: Path, text: str, message: str) -> None:
    good = json.dumps({"type": "CommonOutstandingReported", "effective_date": "2003-05-01",
                       "data": {"shares": 3108100}})
    path = tmp_path / "in.jsonl"
    path.write_text(f"{good}\n\n{text}\n")
    target = str(tmp_path / "l.db")
    r = invoke("--db", target, "import", str(path))
    assert r.code == 1, r.out
    assert r.err.startswith("Error: line 3: "), r.err
    assert message in r.err
    assert event_count(target) == 0


def test_a_back_dated_line_is_checked_against_the_later_ones(
    spectrum: Path, tmp_path: Path
) -> None:
    entries = lines(spectrum)[:11]
    late = {"type": "WarrantsExercised", "effective_date": "2003-06-01",
            "data": {"warrant": "W-D1-300", "shares": 930000}}
    entries.append(late)  # back-dated: too little is left for the exercise of 2 February 2004
    path = write_lines(tmp_path / "late.jsonl", entries)
    target = str(tmp_path / "late.db")
    r = invoke("--db", target, "import", str(path))
    assert r.code == 1
    assert r.err.startswith("Error: line 12: back-dated to 2003-06-01")
    assert "WarrantsExercised at position 11" in r.err
    assert event_count(target) == 0


def test_import_into_a_ledger_that_has_events_shifts_positions(tmp_path: Path) -> None:
    target = str(tmp_path / "base.db")
    record_all(target, [["record", "common-outstanding", "3000000", "--date", "2003-01-01"]])
    entries = [
        {"position": 1, "type": "WarrantsIssued", "effective_date": "2003-05-08",
         "data": {"ref": "W1", "holder": "A", "shares": 100, "exercise_price": "3.00"}},
        {"position": 2, "type": "EventReversed", "effective_date": "2003-06-01",
         "data": {"reversed_position": 1, "reason": "wrong holder"}},
    ]
    r = invoke("--db", target, "import", str(write_lines(tmp_path / "w.jsonl", entries)))
    assert r.code == 0, r.err
    log = json.loads(invoke("--db", target, "log", "--json").out)
    assert [e["type"] for e in log] == ["CommonOutstandingReported", "WarrantsIssued",
                                        "EventReversed"]
    assert log[2]["data"]["reversed_position"] == 2
    assert log[1]["reversed_by"] == 3
    assert invoke("--db", target, "audit", "verify").code == 0


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    r: Result = invoke("--db", str(tmp_path / "x.db"), "import", str(tmp_path / "none.jsonl"))
    assert r.code == 1 and "no file" in r.err
