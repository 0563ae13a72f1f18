"""The recording commands through the CLI: one line out, one event in."""

from __future__ import annotations

import json
from typing import Any

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8%", "--authorized", "444",
          "--par-value", "0.001"]


def test_record_prints_position_and_reference(fl: Any) -> None:
    r = fl(*SERIES)
    assert r.code == 0, r.err
    assert r.out.strip() == (
        "Recorded SeriesDesignated at position 1 (ref Series D, effective 2003-05-08)"
    )
    r = fl("record", "closing", "Series D", "--date", "2003-05-08",
           "--investor", "SCO Capital Partners=200", "--investor", "SDS Merchant Fund=244",
           "--json")
    assert r.code == 0, r.err
    event = json.loads(r.out)
    assert event["position"] == 2
    assert event["type"] == "ClosingCompleted"
    assert event["data"]["ref"] == "CL-0002"
    assert event["data"]["gross"] == "4440000.00"
    assert [a["shares"] for a in event["data"]["allocations"]] == [200, 244]


def test_refusal_is_one_line_and_appends_nothing(fl: Any) -> None:
    assert fl(*SERIES).code == 0
    r = fl("record", "closing", "Series D", "--date", "2003-05-08", "--investor", "A=445")
    assert r.code == 1
    assert r.err.count("\n") == 1 and r.err.startswith("Error: ")
    assert "authorized" in r.err
    log = json.loads(fl("log", "--json").out)
    assert len(log) == 1
