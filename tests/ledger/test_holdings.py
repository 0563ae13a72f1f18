"""Holders change (issue 12, DOMAIN.md 11, 15, 16): transfers, warrant transfers, redemptions,
ownership caps, exercisable-from and one holder's register, with figures worked by hand.

The series of every example: Series D, stated value 10,000, converts at 2.35, 8% cumulative,
actual/365, accrued dividends convert; a year's dividend on one share is 800.00, so a lot of
N shares accrues N x 800 x days / 365.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Result

D = Decimal
SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "600"]
# A holds D-1/A (150, 8 May) and D-2/A (50, 14 May); B holds D-1/B (100, 8 May).
CLOSINGS = [
    ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
     "--investor", "A=150", "--investor", "B=100"],
    ["record", "closing", "Series D", "--date", "2003-05-14", "--ref", "D-2",
     "--investor", "A=50"],
]


def ok(fl: Any, *args: str) -> Result:
    r: Result = fl(*args)
    assert r.code == 0, r.err
    return r


def refused(fl: Any, *args: str) -> str:
    before = json.loads(fl("log", "--json").out or "[]")
    r: Result = fl(*args)
    assert r.code == 1, (r.out, r.err)
    assert r.err.startswith("Error: ") and r.err.count("\n") == 1, r.err
    assert json.loads(fl("log", "--json").out or "[]") == before  # nothing appended
    return r.err


def last(fl: Any) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(fl("log", "--json").out)[-1]
    return entry


def report(fl: Any, *args: str) -> dict[str, Any]:
    r = ok(fl, "report", *args, "--json")
    result: dict[str, Any] = json.loads(r.out)
    return result


def start(fl: Any, *more: list[str]) -> None:
    for args in (SERIES, *CLOSINGS, *more):
        ok(fl, *args)


# --- transfers -------------------------------------------------------------------------------


def test_a_partial_lot_transfer_then_a_dividend_then_a_conversion_by_the_transferee(fl: Any) -> None:
    start(fl)
    r = ok(fl, "record", "transfer", "Series D", "--from", "A", "--to", "X", "--shares", "170",
           "--date", "2003-06-01")
    # FIFO: D-1/A whole (150), then 20 of D-2/A's 50 (the lot splits: A keeps 30)
    assert r.out.strip() == (
        "Recorded SharesTransferred at position 4 (ref TR-0004, effective 2003-06-01): "
        "170 Series D from A to X, lots D-1/A (150), D-2/A (20)")
    data = last(fl)["data"]
    assert [(p["lot"], p["shares"], p["new_lot"], p["closing"], p["issued_on"],
             p["accrual_start"]) for p in data["lots"]] == [
        ("D-1/A", 150, "TR-0004/X/1", "D-1", "2003-05-08", "2003-05-08"),
        ("D-2/A", 20, "TR-0004/X/2", "D-2", "2003-05-14", "2003-05-14"),
    ]
    ok(fl, "record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01",
       "--form", "cash")
    paid = {p["holder"]: p["amount"] for p in last(fl)["data"]["payments"]}
    # X is paid the whole period on its lots, the days before the transfer included:
    # (150 x 800 x 53 + 20 x 800 x 47) / 365 = 7,112,000 / 365 = 19,484.93
    # A: 30 x 800 x 47 / 365 = 3,090.41; B: 100 x 800 x 53 / 365 = 11,616.44
    assert paid == {"X": "19484.93", "A": "3090.41", "B": "11616.44"}
    r = ok(fl, "record", "conversion", "Series D", "--holder", "X", "--shares", "160",
           "--date", "2003-08-01")
    conversion = last(fl)["data"]
    # FIFO over the inherited lots: TR-0004/X/1 (from D-1, 8 May) whole, then 10 of
    # TR-0004/X/2; accrued since 30 June, 32 days: 150 x 800 x 32 / 365 = 10,520.55 and
    # 10 x 800 x 32 / 365 = 701.37, together 4,096,000 / 365 = 11,221.92.
    assert [(p["lot"], p["shares"], p["accrued"]) for p in conversion["lots"]] == [
        ("TR-0004/X/1", 150, "10520.55"), ("TR-0004/X/2", 10, "701.37")]
    assert conversion["accrued"] == "11221.92"
    # 1,611,221.92 / 2.35 = 685,626.35...: 685,626 common, 1,611,221.92 - 1,611,221.10 = 0.82
    assert (conversion["common_shares"], conversion["cash_in_lieu"]) == (685_626, "0.82")
    assert r.out.strip().endswith(
        ": X 160 Series D -> 685,626 common (accrued 11221.92), cash in lieu 0.82")
    assert "(ref CV-0006," in r.out
    holders = {h["holder"]: h for h in report(fl, "preferred", "--as-of", "2003-08-01")
               ["series"][0]["holders"]}
    assert {name: h["outstanding"] for name, h in holders.items()} == {"A": 30, "B": 100, "X": 10}
    assert holders["X"]["issued"] == 170 and holders["A"]["issued"] == 30


def test_a_transfer_is_refused_to_oneself_beyond_holdings_and_for_an_unknown_holder(fl: Any) -> None:
    start(fl)
    assert "to another holder" in refused(
        fl, "record", "transfer", "Series D", "--from", "A", "--to", "A", "--shares", "1",
        "--date", "2003-06-01")
    assert "'A' holds 200 shares of 'Series D' on 2003-06-01; it can transfer at most" in refused(
        fl, "record", "transfer", "Series D", "--from", "A", "--to", "X", "--shares", "201",
        "--date", "2003-06-01")
    err = refused(fl, "record", "transfer", "Series D", "--from", "Nobody", "--to", "X",
                  "--shares", "1", "--date", "2003-06-01")
    assert "unknown as a holder of it then (its holders: A, B)" in err
    err = refused(fl, "record", "conversion", "Series D", "--holder", "Nobody", "--shares", "1",
                  "--date", "2003-06-01")
    assert "'Nobody' holds 0 shares" in err and "(its holders: A, B)" in err


def test_a_back_dated_transfer_that_changes_a_later_conversion_is_refused_naming_it(fl: Any) -> None:
    start(fl, ["record", "conversion", "Series D", "--holder", "A", "--shares", "100",
               "--date", "2003-07-01"])
    err = refused(fl, "record", "transfer", "Series D", "--from", "A", "--to", "X",
                  "--shares", "150", "--date", "2003-05-20")
    assert ("back-dated to 2003-05-20, this would invalidate the later ConversionRequested at "
            "position 4 (2003-07-01)") in err


def test_a_back_dated_transfer_that_changes_a_later_dividend_is_refused_naming_it(fl: Any) -> None:
    start(fl, ["record", "dividend", "Series D", "--through", "2003-06-30", "--date",
               "2003-07-01", "--form", "cash"])
    err = refused(fl, "record", "transfer", "Series D", "--from", "A", "--to", "X",
                  "--shares", "10", "--date", "2003-06-01")
    assert "the later DividendDeclared at position 4 (2003-07-01)" in err
    assert "changes what accrues" in err
    # dated after the dividend it changes nothing the dividend computed
    ok(fl, "record", "transfer", "Series D", "--from", "A", "--to", "X", "--shares", "10",
       "--date", "2003-07-01")


def test_a_transfer_is_reversed_only_once_what_computed_with_it_is(fl: Any) -> None:
    start(fl, ["record", "transfer", "Series D", "--from", "A", "--to", "X", "--shares", "10",
               "--date", "2003-06-01"],
          ["record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01",
           "--form", "cash"])
    assert "the later DividendDeclared at position 5" in refused(
        fl, "record", "reversal", "4", "--reason", "wrong buyer")
    ok(fl, "record", "reversal", "5", "--reason", "declared too early")
    ok(fl, "record", "reversal", "4", "--reason", "wrong buyer")
    holders = {h["holder"]: h["outstanding"] for h in report(fl, "preferred")["series"][0]["holders"]}
    assert holders == {"A": 200, "B": 100}
    assert ok(fl, "audit", "verify").code == 0


# --- warrants --------------------------------------------------------------------------------


def test_a_warrant_transfer_then_an_exercise_by_both_holders(fl: Any) -> None:
    ok(fl, *SERIES)
    ok(fl, "record", "warrants", "--holder", "A", "--shares", "100000", "--exercise-price", "3.00",
       "--date", "2003-05-08", "--expires", "2008-05-08", "--label", "Series D-1", "--ref", "W")
    r = ok(fl, "record", "warrant-transfer", "W", "--to", "X", "--shares", "40000",
           "--date", "2003-06-01", "--ref", "W-X")
    assert r.out.strip() == (
        "Recorded WarrantsTransferred at position 3 (ref W-X, effective 2003-06-01): "
        "40,000 of W from A to X as W-X at 3.00")
    new = last(fl)["data"]
    assert (new["exercise_price"], new["expires"], new["label"], new["issued_on"]) == (
        "3.00", "2008-05-08", "Series D-1", "2003-05-08")
    assert "60,000 shares outstanding" in refused(
        fl, "record", "exercise", "W", "--shares", "60001", "--date", "2003-07-01")
    r = ok(fl, "record", "exercise", "W", "--shares", "60000", "--date", "2003-07-01")
    assert r.out.strip().endswith(": 60,000 of W exercised, 60,000 common, proceeds 180000.00")
    # cashless at 4.00: floor(40,000 x (4.00 - 3.00) / 4.00) = 10,000 common
    r = ok(fl, "record", "exercise", "W-X", "--shares", "40000", "--date", "2003-07-02",
           "--cashless", "--market-price", "4.00")
    assert "10,000 common, cashless" in r.out
    warrants = {w["ref"]: w for w in report(fl, "warrants", "--as-of", "2003-07-02")["warrants"]}
    assert {ref: (w["issued"], w["transferred"], w["exercised"], w["outstanding"])
            for ref, w in warrants.items()} == {"W": (100_000, -40_000, 60_000, 0),
                                                "W-X": (0, 40_000, 40_000, 0)}
    assert report(fl, "capital")["totals"]["gross"] == "180000.00"
    assert "W' has 0 shares outstanding on 2003-07-03" in refused(
        fl, "record", "warrant-transfer", "W", "--to", "Y", "--shares", "1", "--date", "2003-07-03")
    holder = report(fl, "holder", "X")
    assert holder["common_received"] == {"conversions": 0, "stock_dividends": 0,
                                         "exercises": 10_000, "closings": 0, "total": 10_000}
    assert [h["type"] for h in holder["history"]] == ["WarrantsTransferred", "WarrantsExercised"]
    log = json.loads(ok(fl, "log", "--ref", "W", "--json").out)
    assert [e["type"] for e in log] == ["WarrantsIssued", "WarrantsTransferred",
                                        "WarrantsExercised"]


def test_an_exercise_before_the_exercisable_date_is_refused_and_the_overhang_shows_it(fl: Any) -> None:
    ok(fl, "record", "warrants", "--holder", "A", "--shares", "1000", "--exercise-price", "3.00",
       "--date", "2003-05-08", "--exercisable-from", "2003-11-08", "--ref", "W")
    assert "exercisable from 2003-11-08; it cannot be exercised on 2003-11-07" in refused(
        fl, "record", "exercise", "W", "--shares", "1", "--date", "2003-11-07")
    ok(fl, "record", "exercise", "W", "--shares", "1", "--date", "2003-11-08")
    (row,) = report(fl, "warrants")["warrants"]
    assert row["exercisable_from"] == "2003-11-08"
    table = ok(fl, "report", "warrants").out
    assert "Exercisable" in table and "2003-11-08" in table
    r = fl("record", "warrants", "--holder", "A", "--shares", "1", "--exercise-price", "3",
           "--date", "2003-05-08", "--exercisable-from", "2003-05-01")
    assert r.code == 1 and "before the issue date" in r.err


# --- redemptions -----------------------------------------------------------------------------


def test_a_redemption_of_a_partly_converted_holder_pays_price_and_accrued_dividends(fl: Any) -> None:
    start(fl, ["record", "dividend", "Series D", "--through", "2003-06-30", "--date",
               "2003-07-01", "--form", "cash"],
          ["record", "conversion", "Series D", "--holder", "B", "--shares", "40",
           "--date", "2003-07-15"])
    r = ok(fl, "record", "redemption", "Series D", "--holder", "B", "--shares", "50",
           "--date", "2003-09-30")
    # 50 of D-1/B's 60 left; 92 days since 30 June: 50 x 800 x 92 / 365 = 10,082.19
    assert r.out.strip() == (
        "Recorded SharesRedeemed at position 6 (ref RD-0006, effective 2003-09-30): "
        "B 50 Series D at 10000: 500000.00 + accrued 10082.19 = 510082.19")
    data = last(fl)["data"]
    assert [(p["lot"], p["shares"], p["accrued"]) for p in data["lots"]] == [
        ("D-1/B", 50, "10082.19")]
    series = report(fl, "preferred", "--as-of", "2003-09-30")["series"][0]
    assert (series["issued"], series["converted"], series["redeemed"], series["outstanding"]) == (
        300, 40, 50, 210)
    b = next(h for h in series["holders"] if h["holder"] == "B")
    assert (b["issued"], b["converted"], b["redeemed"], b["outstanding"]) == (100, 40, 50, 10)
    entries = report(fl, "capital")["entries"]
    assert entries[-1] | {"cumulative_gross": None} == {
        "date": "2003-09-30", "source": "redemption", "ref": "RD-0006", "security": "Series D",
        "position": 6, "gross": "-500000.00", "fees": "0.00", "net": "-500000.00",
        "cumulative_gross": None}
    assert entries[-1]["cumulative_gross"] == "2500000.00"  # 3,000,000 raised - 500,000
    cash = report(fl, "holder", "B")["cash_received"]
    # the dividend (11,616.44), the redemption (510,082.19), cash in lieu of the conversion
    assert cash["dividends"] == "11616.44" and cash["redemptions"] == "510082.19"
    assert "'B' holds 10 shares" in refused(
        fl, "record", "redemption", "Series D", "--holder", "B", "--shares", "11",
        "--date", "2003-10-01")
    ok(fl, "record", "redemption", "Series D", "--holder", "B", "--shares", "10",
       "--date", "2003-10-01", "--price-per-share", "10500", "--ref", "CALL-1")
    assert last(fl)["data"]["amount"] == "105000.00"


# --- ownership caps --------------------------------------------------------------------------


CAPPED = [
    ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
     "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "600",
     "--ownership-cap", "9.99"],
    ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
     "--investor", "A=150"],
    ["record", "common-outstanding", "3108100", "--date", "2003-05-09"],
]


def test_a_conversion_refused_by_a_cap_is_accepted_at_the_number_the_refusal_named(fl: Any) -> None:
    for args in CAPPED:
        ok(fl, *args)
    # 100 shares on 9 May (1 day accrued: 219.18): floor(1,000,219.18 / 2.35) = 425,625
    # common, of 3,108,100 + 425,625 = 3,533,725: 12.04%. Under 9.99%: common c with
    # 100 c <= 9.99 (3,108,100 + c), c <= 344,960; 81 shares give floor(810,177.53 / 2.35)
    # = 344,756, 82 give 349,012.
    err = refused(fl, "record", "conversion", "Series D", "--holder", "A", "--shares", "100",
                  "--date", "2003-05-09")
    assert ("owning 425,625 of 3,533,725 common shares outstanding on 2003-05-09 (12.04%), over "
            "its 9.99% ownership cap; at most 81 shares fit under it") in err
    r = ok(fl, "record", "conversion", "Series D", "--holder", "A", "--shares", "81",
           "--date", "2003-05-09")
    assert "-> 344,756 common" in r.out
    # now A owns 344,756 of 3,452,856 (9.98%): one more share would put it over
    err = refused(fl, "record", "conversion", "Series D", "--holder", "A", "--shares", "1",
                  "--date", "2003-05-09")
    assert "no shares fit under it" in err


def test_the_holders_stated_common_replaces_the_ledgers_count(fl: Any) -> None:
    for args in CAPPED:
        ok(fl, *args)
    # stating 100,000 common already held: c + 100,000 <= 9.99% (3,108,100 + c), c <= 233,861;
    # 54 shares give floor(540,118.36 / 2.35) = 229,837, 55 give 234,093
    err = refused(fl, "record", "conversion", "Series D", "--holder", "A", "--shares", "81",
                  "--date", "2003-05-09", "--holder-owns", "100000")
    assert "at most 54 shares fit under it (its common counted 100,000" in err
    ok(fl, "record", "conversion", "Series D", "--holder", "A", "--shares", "54",
       "--date", "2003-05-09", "--holder-owns", "100000")
    assert last(fl)["data"]["holder_owns"] == 100_000


def test_a_capped_warrant_exercise_is_refused_over_the_cap(fl: Any) -> None:
    ok(fl, "record", "common-outstanding", "1000000", "--date", "2003-05-01")
    ok(fl, "record", "warrants", "--holder", "A", "--shares", "200000", "--exercise-price", "3",
       "--date", "2003-05-08", "--ownership-cap", "4.99", "--ref", "W")
    # c <= 4.99% (1,000,000 + c): c <= 52,520
    err = refused(fl, "record", "exercise", "W", "--shares", "60000", "--date", "2003-06-01")
    assert "over its 4.99% ownership cap; at most 52,520 shares fit under it" in err
    ok(fl, "record", "exercise", "W", "--shares", "52520", "--date", "2003-06-01")


def test_an_uncapped_series_stores_and_hashes_as_before(fl: Any) -> None:
    ok(fl, *SERIES)
    data = last(fl)["data"]
    assert "ownership_cap" not in data  # an added field at its default is left out
    ok(fl, *CAPPED[0][:2], "Series E", *CAPPED[0][3:])
    assert last(fl)["data"]["ownership_cap"] == "9.99"
    assert ok(fl, "audit", "verify").code == 0


@pytest.mark.parametrize("cap", ["0", "101", "-1"])
def test_a_cap_outside_0_to_100_is_refused(fl: Any, cap: str) -> None:
    r = fl(*CAPPED[0][:-1], cap)
    assert r.code in (1, 2) and r.err.startswith(("Error", "Usage")), r.err


# --- one holder's register -------------------------------------------------------------------


def test_the_holder_report_as_of_a_date(fl: Any) -> None:
    start(fl, ["record", "transfer", "Series D", "--from", "A", "--to", "X", "--shares", "170",
               "--date", "2003-06-01"],
          ["record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01",
           "--form", "stock", "--price", "3.10"])
    got = report(fl, "holder", "X", "--as-of", "2003-07-31")
    assert set(got) == {"as_of", "holder", "preferred", "warrants", "common_received",
                        "cash_received", "history"}
    # the stock dividend: 19,484.93 / 3.10 = 6,285.46...: 6,285 common, cash in lieu 1.43
    assert got["common_received"]["stock_dividends"] == 6_285
    assert got["cash_received"] == {"dividends": "0.00", "cash_in_lieu": "1.43",
                                    "redemptions": "0.00", "total": "1.43"}
    # 31 days since 30 June: 150 x 800 x 31 / 365 = 10,191.78 and 20 x 800 x 31 / 365 = 1,358.90
    assert [(lot["lot"], lot["origin"], lot["closing"], lot["issued_on"], lot["accrual_start"],
             lot["shares"], lot["accrued_dividends"]) for lot in got["preferred"]] == [
        ("TR-0004/X/1", "D-1/A", "D-1", "2003-05-08", "2003-06-30", 150, "10191.78"),
        ("TR-0004/X/2", "D-2/A", "D-2", "2003-05-14", "2003-06-30", 20, "1358.90"),
    ]
    assert [h["position"] for h in got["history"]] == [4, 5]
    before = report(fl, "holder", "X", "--as-of", "2003-06-15")
    assert before["common_received"]["total"] == 0 and len(before["history"]) == 1
    csv = ok(fl, "report", "holder", "X", "--as-of", "2003-07-31", "--csv").out.splitlines()
    assert csv[:2] == ["series,lot,origin,closing,issued_on,accrual_start,shares,accrued_dividends",
                       "Series D,TR-0004/X/1,D-1/A,D-1,2003-05-08,2003-06-30,150,10191.78"]
    err = fl("report", "holder", "Nobody")
    assert err.code == 1 and "no holder 'Nobody'" in err.err and "A, B, X" in err.err


def test_log_filters_by_holder_series_and_reference(fl: Any) -> None:
    start(fl, ["record", "transfer", "Series D", "--from", "A", "--to", "X", "--shares", "10",
               "--date", "2003-06-01"])
    types = [e["type"] for e in json.loads(ok(fl, "log", "--holder", "X", "--json").out)]
    assert types == ["SharesTransferred"]
    assert len(json.loads(ok(fl, "log", "--series", "Series D", "--json").out)) == 4
    assert [e["position"] for e in json.loads(ok(fl, "log", "--ref", "TR-0004", "--json").out)] == [4]
    assert [e["position"] for e in json.loads(ok(fl, "log", "--ref", "D-2", "--json").out)] == [3]


def test_a_redemption_and_a_warrant_transfer_are_reversed_like_the_events_they_mirror(
    fl: Any,
) -> None:
    start(fl, ["record", "redemption", "Series D", "--holder", "B", "--shares", "10",
               "--date", "2003-06-01"],
          ["record", "warrants", "--holder", "A", "--shares", "1000", "--exercise-price", "3",
           "--date", "2003-05-08", "--ref", "W"],
          ["record", "warrant-transfer", "W", "--to", "X", "--shares", "400", "--date",
           "2003-06-01", "--ref", "W-X"],
          ["record", "exercise", "W-X", "--shares", "100", "--date", "2003-06-02"])
    # the new warrant was exercised: its transfer stands until the exercise is reversed
    assert "depends on it" in refused(fl, "record", "reversal", "6", "--reason", "no sale")
    ok(fl, "record", "reversal", "7", "--reason", "not exercised")
    ok(fl, "record", "reversal", "6", "--reason", "no sale")
    ok(fl, "record", "reversal", "4", "--reason", "no buy-back")
    assert report(fl, "capital")["totals"]["gross"] == "3000000.00"
    (w,) = report(fl, "warrants")["warrants"]
    assert (w["ref"], w["transferred"], w["outstanding"]) == ("W", 0, 1000)
    assert report(fl, "preferred")["series"][0]["redeemed"] == 0
    assert ok(fl, "audit", "verify").code == 0


def test_the_holder_report_table_names_the_holder(fl: Any) -> None:
    start(fl)
    text = ok(fl, "report", "holder", "B", "--as-of", "2003-06-30").out
    assert text.startswith("Holder B: preferred as of 2003-06-30")
