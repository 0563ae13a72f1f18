"""Reversals: appended, never edits; refused when later history depends on the event."""

from __future__ import annotations

import json
from typing import Any

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]
CLOSING = ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
           "--investor", "SCO Capital Partners=250", "--investor", "SDS Merchant Fund=194"]


def ok(fl: Any, *args: str) -> Any:
    r = fl(*args)
    assert r.code == 0, (args, r.err)
    return r


def warrants_json(fl: Any, *extra: str) -> dict[str, Any]:
    return json.loads(ok(fl, "report", "warrants", "--json", *extra).out)  # type: ignore[no-any-return]


def test_reversing_a_warrant_issuance_and_the_ledger_as_recorded_before(fl: Any) -> None:
    ok(fl, *SERIES)
    ok(fl, *CLOSING)
    ok(fl, "record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
       "--exercise-price", "3.00", "--date", "2003-05-08", "--closing", "D-1", "--ref", "W-300")
    ok(fl, "record", "warrants", "--holder", "SDS Merchant Fund", "--shares", "5000",
       "--exercise-price", "3.50", "--date", "2003-05-09", "--ref", "W-WRONG")
    before = warrants_json(fl)
    assert [w["ref"] for w in before["warrants"]] == ["W-300", "W-WRONG"]
    assert before["totals"]["outstanding"] == 949681

    r = ok(fl, "record", "reversal", "4", "--reason", "issued to the wrong holder")
    assert r.out.startswith("Recorded EventReversed at position 5 (ref position 4")

    after = warrants_json(fl)
    assert [w["ref"] for w in after["warrants"]] == ["W-300"]
    assert after["totals"]["outstanding"] == 944681
    assert after["totals"]["potential_proceeds"] == "2834043.00"
    # As recorded at position 4 the reversal was not yet known: the report as it was.
    as_recorded = warrants_json(fl, "--as-recorded", "4")
    assert as_recorded["warrants"] == before["warrants"]
    assert as_recorded["totals"] == before["totals"]
    assert warrants_json(fl, "--as-recorded", "5")["totals"] == after["totals"]

    log = json.loads(ok(fl, "log", "--json").out)
    assert log[3]["reversed_by"] == 5
    assert [e["reversed_by"] for e in log if e["position"] != 4] == [None] * 4
    assert log[4]["data"]["reversed_position"] == 4
    assert log[4]["data"]["reason"] == "issued to the wrong holder"
    assert log[4]["data"]["reversed"]["type"] == "WarrantsIssued"
    assert ok(fl, "audit", "verify").out.startswith("OK: 5 events")


def test_reversing_a_closing_whose_shares_were_converted_is_refused(fl: Any) -> None:
    ok(fl, *SERIES)
    ok(fl, *CLOSING)
    ok(fl, "record", "conversion", "Series D", "--holder", "SCO Capital Partners",
       "--shares", "20", "--date", "2003-09-02")
    r = fl("record", "reversal", "2", "--reason", "wrong price")
    assert r.code == 1
    assert r.err.startswith("Error: cannot reverse ClosingCompleted at position 2: the later "
                            "ConversionRequested at position 3 depends on it")
    assert r.err.count("\n") == 1
    assert len(json.loads(ok(fl, "log", "--json").out)) == 3
    # Reverse the conversion first, then the closing may go.
    ok(fl, "record", "reversal", "3", "--reason", "notice withdrawn")
    ok(fl, "record", "reversal", "2", "--reason", "wrong price")
    preferred = json.loads(ok(fl, "report", "preferred", "--json").out)
    assert preferred["totals"]["outstanding"] == 0


def test_a_reversal_is_never_reversed_and_an_event_is_reversed_once(fl: Any) -> None:
    ok(fl, *SERIES)
    ok(fl, "record", "common-outstanding", "3108100", "--date", "2003-05-09")
    ok(fl, "record", "reversal", "2", "--reason", "wrong filing")
    r = fl("record", "reversal", "3", "--reason", "undo")
    assert r.code == 1 and "a reversal is never reversed" in r.err
    r = fl("record", "reversal", "2", "--reason", "again")
    assert r.code == 1 and "already reversed by position 3" in r.err
    r = fl("record", "reversal", "9", "--reason", "nothing there")
    assert r.code == 1 and "positions run from 1 to 3" in r.err
    r = fl("record", "reversal", "2", "--reason", "   ")
    assert r.code == 1 and "--reason is empty" in r.err
    assert len(json.loads(ok(fl, "log", "--json").out)) == 3


def test_replay_leaves_reversed_events_out_but_as_recorded_keeps_them(fl: Any) -> None:
    ok(fl, *SERIES)
    ok(fl, *CLOSING)
    ok(fl, "record", "authorization", "Series D", "--shares", "156", "--date", "2003-05-14")
    ok(fl, "record", "closing", "Series D", "--date", "2003-05-14", "--ref", "D-2",
       "--investor", "Xmark Funds=100")
    ok(fl, "record", "reversal", "4", "--reason", "recorded twice")
    now = json.loads(ok(fl, "audit", "replay", "--json").out)
    assert [s["position"] for s in now] == [1, 2, 3]
    assert now[-1]["preferred_outstanding"] == 444
    then = json.loads(ok(fl, "audit", "replay", "--to", "4", "--json").out)
    assert [s["position"] for s in then] == [1, 2, 3, 4]
    assert then[-1]["preferred_outstanding"] == 544
    assert then[-1]["capital_gross"] == "5440000.00"
