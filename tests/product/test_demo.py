"""`finledger demo`: the May 2003 financing, with the press release's figures findable."""

from __future__ import annotations

import json
import re
from typing import Any


def test_demo_prints_the_press_release_figures(fl: Any) -> None:
    r = fl("demo")
    assert r.code == 0, r.err
    out = r.out
    assert re.search(r"^2003-05 +6,000,000\.00 ", out, re.M)  # raised in May 2003
    for figure in ("6,000,000.00", "331,914", "944,681", "2,157,441.00", "6,140,426.50",
                   "3,108,100", "as of 2003-05-14"):
        assert figure in out, figure
    assert "Refused, as it must be:" in out and "authorization increase" in out
    assert "Recorded SeriesAuthorizationIncreased" in out
    assert "Assumed (not public):" in out
    for assumed in ("Investor split", "Warrant expiry", "Day count", "Fees"):
        assert assumed in out


def test_reports_on_the_demo_ledger_return_the_figures(fl: Any) -> None:
    assert fl("demo").code == 0
    capital = json.loads(fl("report", "capital", "--by", "month", "--json").out)
    assert capital["periods"] == [
        {"period": "2003-05", "gross": "6000000.00", "fees": "0.00", "net": "6000000.00"}]
    assert [e["gross"] for e in capital["entries"]] == ["4440000.00", "1560000.00"]
    warrants = json.loads(fl("report", "warrants", "--as-of", "2003-05-14", "--json").out)
    by_closing = {c["closing"]: c for c in warrants["by_closing"]}
    assert by_closing["D-1"]["potential_proceeds"] == "6140426.50"
    assert by_closing["D-2"]["potential_proceeds"] == "2157441.00"
    second = [w for w in warrants["warrants"] if w["closing"] == "D-2"]
    assert [(w["exercise_price"], w["outstanding"]) for w in second] == [
        ("3.00", 331_914), ("3.50", 331_914)]
    first = [w for w in warrants["warrants"] if w["closing"] == "D-1"]
    assert [w["outstanding"] for w in first] == [944_681, 944_681]
    summary = json.loads(fl("report", "summary", "--as-of", "2003-05-14", "--json").out)
    assert summary["capital"]["gross"] == "6000000.00"
    assert summary["preferred"]["outstanding"] == 600
    # 4 holders x floor(150 x 10,000 / 2.35 = 638,297.87)
    assert summary["preferred"]["as_converted_common"] == 2_553_188
    assert summary["fully_diluted"]["common_outstanding"] == 3_108_100
    assert summary["fully_diluted"]["total"] == 3_108_100 + 2_553_188 + 2_553_190
    # Before the second closing only the first is there.
    early = json.loads(fl("report", "summary", "--as-of", "2003-05-13", "--json").out)
    assert early["capital"]["gross"] == "4440000.00"
    assert early["warrants"]["potential_proceeds"] == "6140426.50"


def test_demo_refuses_a_ledger_that_holds_events(fl: Any) -> None:
    assert fl("demo").code == 0
    r = fl("demo")
    assert r.code == 1
    assert r.err.startswith("Error: ") and "--db" in r.err and "already holds 9 events" in r.err
