"""Deciding on a date, then checking every stored outcome that follows (`ledger.decision`):
back-dated entries, reversals and imports keep every later event's stored outcome true."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from events import EventReversed
from ledger.head_snapshot import HeadState
from ledger.service import Ledger
from ledger.state import LedgerState
from ledger.store import LEDGER_ID

SERIES_A = ["record", "series", "Series A", "--date", "2004-01-01", "--stated-value", "1000",
            "--conversion-price", "2", "--dividend-rate", "8", "--authorized", "1000"]


def ok(fl: Any, *args: str) -> Any:
    r = fl(*args)
    assert r.code == 0, (args, r.err)
    return r


def refused(fl: Any, *args: str) -> str:
    r = fl(*args)
    assert r.code == 1, (args, r.out, r.err)
    assert r.err.startswith("Error: ") and r.err.count("\n") == 1, r.err
    return str(r.err)


def closing(ref: str, on: str, *investors: str) -> list[str]:
    args = ["record", "closing", "Series A", "--date", on, "--ref", ref]
    for investor in investors:
        args += ["--investor", investor]
    return args


def convert(shares: int, on: str, holder: str = "H1") -> list[str]:
    return ["record", "conversion", "Series A", "--holder", holder, "--shares", str(shares),
            "--date", on]


def log(fl: Any) -> list[dict[str, Any]]:
    return json.loads(ok(fl, "log", "--json").out)  # type: ignore[no-any-return]


def test_a_back_dated_lot_that_changes_what_a_conversion_took_is_refused(fl: Any) -> None:
    ok(fl, *SERIES_A)
    ok(fl, *closing("C1", "2004-02-01", "H1=50"))
    ok(fl, *convert(30, "2004-03-01"))
    # FIFO would now take C0's lot, but the conversion stored C1's (and its accrual).
    message = refused(fl, *closing("C0", "2004-01-15", "H1=50"))
    assert "back-dated to 2004-01-15" in message
    assert "the later ConversionRequested at position 3 (2004-03-01)" in message
    assert "C0/H1 (30)" in message and "C1/H1 (30)" in message
    assert len(log(fl)) == 3
    assert ok(fl, "audit", "verify").out.startswith("OK: 3 events")


def test_the_same_facts_in_date_order_convert_the_older_lot(fl: Any) -> None:
    ok(fl, *SERIES_A)
    ok(fl, *closing("C0", "2004-01-15", "H1=50"))
    ok(fl, *closing("C1", "2004-02-01", "H1=50"))
    ok(fl, *convert(30, "2004-03-01"))
    data = log(fl)[3]["data"]
    assert [lot["lot"] for lot in data["lots"]] == ["C0/H1"]
    assert (data["accrued"], data["common_shares"]) == ("302.47", 15151)


def test_a_back_dated_lot_after_the_conversion_is_accepted(fl: Any) -> None:
    ok(fl, *SERIES_A)
    ok(fl, *closing("C1", "2004-02-01", "H1=50"))
    ok(fl, *convert(30, "2004-03-01"))
    ok(fl, *closing("C2", "2004-02-15", "H1=50"))  # newer than C1: FIFO still takes C1
    ok(fl, *closing("C3", "2004-01-15", "H2=50"))  # another holder's lot
    assert ok(fl, "audit", "verify").out.startswith("OK: 5 events")


def test_reversing_a_conversion_whose_holder_converted_again_later_is_refused(fl: Any) -> None:
    ok(fl, *SERIES_A)
    ok(fl, *closing("C1", "2004-01-15", "H1=50"))
    ok(fl, *closing("C2", "2004-02-01", "H1=50"))
    ok(fl, *convert(50, "2004-03-01"))  # takes C1
    ok(fl, *convert(30, "2004-04-01"))  # takes C2 (C1 is empty)
    message = refused(fl, "record", "reversal", "4", "--reason", "notice withdrawn")
    assert message.startswith("Error: cannot reverse ConversionRequested at position 4: the "
                              "later ConversionRequested at position 5 (2004-04-01)")
    assert len(log(fl)) == 5
    ok(fl, "record", "reversal", "5", "--reason", "notice withdrawn")
    ok(fl, "record", "reversal", "4", "--reason", "notice withdrawn")
    assert ok(fl, "audit", "verify").out.startswith("OK: 7 events")


SERIES_D = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
            "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]
CLOSING_D = ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
             "--investor", "SCO Capital Partners=250", "--investor", "SDS Merchant Fund=194"]


def test_a_conversion_and_a_dividend_on_one_date_reverse_later_first(fl: Any) -> None:
    ok(fl, *SERIES_D)
    ok(fl, *CLOSING_D)
    ok(fl, "record", "conversion", "Series D", "--holder", "SCO Capital Partners",
       "--shares", "20", "--date", "2003-07-01")
    ok(fl, "record", "dividend", "Series D", "--through", "2003-06-30", "--form", "cash",
       "--date", "2003-07-01")
    # Same date: recording order decides, so the dividend (4) is the later one.
    message = refused(fl, "record", "reversal", "3", "--reason", "withdrawn")
    assert "the later DividendDeclared at position 4 (2003-07-01)" in message
    ok(fl, "record", "reversal", "4", "--reason", "declared in error")
    ok(fl, "record", "reversal", "3", "--reason", "withdrawn")
    assert ok(fl, "audit", "verify").out.startswith("OK: 6 events")
    preferred = json.loads(ok(fl, "report", "preferred", "--json").out)
    assert preferred["totals"]["outstanding"] == 444


def _reversal_line(position: int, on: str) -> str:
    return json.dumps({"type": "EventReversed", "effective_date": on, "position": 9,
                       "data": {"reversed_position": position, "reason": "mistake"}})


def test_an_import_whose_reversal_record_reversal_refuses_is_refused(
    fl: Any, tmp_path: Path
) -> None:
    ok(fl, *SERIES_D)
    ok(fl, *CLOSING_D)
    ok(fl, "record", "dividend", "Series D", "--through", "2003-06-30", "--form", "cash",
       "--date", "2003-07-01")
    refused(fl, "record", "reversal", "2", "--reason", "mistake")
    exported = ok(fl, "export").out
    path = tmp_path / "history.jsonl"
    path.write_text(exported + _reversal_line(2, "2003-07-02") + "\n")
    other = str(tmp_path / "other.db")
    from tests.conftest import invoke

    r = invoke("--db", other, "import", str(path))
    assert r.code == 1, r.out
    assert r.err.startswith("Error: line 4: cannot reverse ClosingCompleted at position 2: "
                            "the later DividendDeclared at position 3"), r.err
    assert invoke("--db", other, "log", "--json").out.strip() in ("", "[]")


def test_verify_finds_a_reversal_recorded_before_what_depended_on_it(db: str) -> None:
    from tests.conftest import invoke

    for args in (SERIES_D, CLOSING_D, ["record", "dividend", "Series D", "--through",
                                       "2003-06-30", "--form", "cash", "--date", "2003-07-01"]):
        assert invoke("--db", db, *args).code == 0
    # A reversal the rules refuse, appended past them (as an older import let through).
    with Ledger(db) as book:
        events = book.events()

        def decide() -> tuple[Any, HeadState]:
            event = book._envelope(events, EventReversed, date(2003, 7, 2), {
                "reversed_position": 2, "reason": "mistake", "reversed": events[1]})
            return event, HeadState(LEDGER_ID, 4, LedgerState(), event.hash)

        book._append(decide)
    r = invoke("--db", db, "audit", "verify")
    assert r.code == 1
    assert ("position 4: reverses ClosingCompleted at position 2, but the later "
            "DividendDeclared at position 3 (2003-07-01) computed its amounts with it") in r.out
