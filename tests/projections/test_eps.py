"""`report eps` (DOMAIN.md 18, ASC 260) on a quarter whose every figure is worked by hand.

The quarter 2021-01-01 to 2021-03-31 has 31 + 28 + 31 = 90 days.

  2020-06-30 series Q designated (stated 1,000, converts at 100.00, 12% cumulative) and
             sold: Z 1,000 shares (as-converted 1,000 x 1,000 / 100 = 10,000 common)
  2020-12-31 series P designated (stated 1,000, converts at 10.00, 10% cumulative)
  2020-12-31 common outstanding 1,000,000
  2020-12-31 warrants W-IN: 100,000 at 2.00; W-OUT: 50,000 at 6.00
  2021-02-15 closing of 180,000 common at 5.00 (mid-quarter)
  2021-02-15 closing of P: X 1,000 shares (as-converted 1,000 x 1,000 / 10 = 100,000 common)

Weighted average common: 1,000,000 x 90 days + 180,000 x 45 days (Feb 15 to Mar 31, both
included: 14 + 31) = 98,100,000 share-days / 90 = 1,090,000.
Preferred dividends of the quarter, accrued over (2020-12-31, 2021-03-31]:
  P: its lot accrues from its issue date, (Feb 15, Mar 31] = 44 days:
     1,000 x 1,000 x 10% x 44/365 = 12,054.7945 -> 12,054.79
  Q: 90 days: 1,000 x 1,000 x 12% x 90/365 = 29,589.0411 -> 29,589.04
  total 41,643.83
Incremental shares at an average price of 5.00:
  W-IN: floor(100,000 x (5 - 2) / 5) = 60,000, all 90 days -> 60,000, adds back 0
  W-OUT: 6.00 >= 5.00, out of the money -> 0
  P: 100,000 x 45 days / 90 = 50,000, adds back 12,054.79 (0.2411 per share)
  Q: 10,000, adds back 29,589.04 (2.9589 per share)
"""

from __future__ import annotations

import json
from typing import Any

PERIOD = ["--from", "2021-01-01", "--to", "2021-03-31"]


def quarter(fl: Any) -> None:
    for args in (
        ["record", "series", "Q", "--date", "2020-06-30", "--stated-value", "1000",
         "--conversion-price", "100", "--dividend-rate", "12", "--authorized", "1000"],
        ["record", "closing", "Q", "--date", "2020-06-30", "--investor", "Z=1000"],
        ["record", "series", "P", "--date", "2020-12-31", "--stated-value", "1000",
         "--conversion-price", "10", "--dividend-rate", "10", "--authorized", "1000"],
        ["record", "common-outstanding", "1000000", "--date", "2020-12-31"],
        ["record", "warrants", "--holder", "H", "--shares", "100000", "--exercise-price", "2.00",
         "--date", "2020-12-31", "--ref", "W-IN"],
        ["record", "warrants", "--holder", "H", "--shares", "50000", "--exercise-price", "6.00",
         "--date", "2020-12-31", "--ref", "W-OUT"],
        ["record", "closing", "common", "--date", "2021-02-15", "--price-per-share", "5.00",
         "--investor", "New Fund=180000", "--ref", "CC"],
        ["record", "closing", "P", "--date", "2021-02-15", "--investor", "X=1000", "--ref", "P-1"],
    ):
        r = fl(*args)
        assert r.code == 0, r.err


def eps(fl: Any, *args: str) -> dict[str, Any]:
    r = fl("report", "eps", *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)  # type: ignore[no-any-return]


def brief(entries: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return [(e["security"], e["incremental_shares"], e["add_back"]) for e in entries]


def test_a_quarter_with_a_mid_quarter_closing(fl: Any) -> None:
    quarter(fl)
    report = eps(fl, *PERIOD, "--net-income", "1000000", "--average-price", "5.00")
    assert (report["from"], report["to"], report["days"]) == ("2021-01-01", "2021-03-31", 90)
    assert report["weighted_average_common"] == 1_090_000
    assert report["common_share_days"] == 98_100_000
    assert report["net_income"] == "1000000.00"
    assert [(p["series"], p["amount"]) for p in report["preferred"]] == [
        ("Q", "29589.04"), ("P", "12054.79")]
    assert report["preferred_dividends"] == "41643.83"
    # 1,000,000.00 - 41,643.83
    assert report["income_to_common"] == "958356.17"
    # 958,356.17 / 1,090,000 = 0.87922 -> 0.88
    assert report["basic_eps"] == "0.88"
    # Taken in order: W-IN (0 per share): 958,356.17 / 1,150,000 = 0.83335 < 0.87922, kept;
    # P (0.2411): 970,410.96 / 1,200,000 = 0.80868 < 0.83335, kept;
    # Q (2.9589): 1,000,000.00 / 1,210,000 = 0.82645 > 0.80868, anti-dilutive.
    assert brief(report["dilutive"]) == [("W-IN", 60_000, "0.00"), ("P", 50_000, "12054.79")]
    assert brief(report["anti_dilutive"]) == [("Q", 10_000, "29589.04"), ("W-OUT", 0, "0.00")]
    assert report["diluted_income"] == "970410.96"
    assert report["diluted_weighted_average"] == 1_200_000
    # 970,410.96 / 1,200,000 = 0.808676 -> 0.81
    assert report["diluted_eps"] == "0.81"
    assert [e["reason"] for e in report["anti_dilutive"]] == [
        "would not lower diluted EPS", "out of the money at the average price"]


def test_warrants_in_and_out_of_the_money_at_the_average_price(fl: Any) -> None:
    quarter(fl)
    # At 8.00 both warrants are in the money: W-IN floor(100,000 x 6 / 8) = 75,000,
    # W-OUT floor(50,000 x 2 / 8) = 12,500.
    at_8 = eps(fl, *PERIOD, "--net-income", "1000000", "--average-price", "8.00")
    assert brief(at_8["dilutive"])[:2] == [("W-IN", 75_000, "0.00"), ("W-OUT", 12_500, "0.00")]
    # At 1.50 neither is: both 0 incremental shares, anti-dilutive.
    at_150 = eps(fl, *PERIOD, "--net-income", "1000000", "--average-price", "1.50")
    assert [e["security"] for e in at_150["dilutive"]] == ["P"]
    assert ("W-IN", 0, "0.00") in brief(at_150["anti_dilutive"])
    assert ("W-OUT", 0, "0.00") in brief(at_150["anti_dilutive"])
    # Exactly at the exercise price is not in the money either
    at_2 = eps(fl, *PERIOD, "--net-income", "1000000", "--average-price", "2.00")
    assert ("W-IN", 0, "0.00") in brief(at_2["anti_dilutive"])


def test_a_loss_quarter_is_anti_dilutive_throughout(fl: Any) -> None:
    quarter(fl)
    report = eps(fl, *PERIOD, "--net-income", "-500000", "--average-price", "5.00")
    assert report["net_income"] == "-500000.00"
    # -500,000.00 - 41,643.83 = -541,643.83; / 1,090,000 = -0.496921 -> -0.50
    assert report["income_to_common"] == "-541643.83"
    assert report["basic_eps"] == "-0.50"
    assert report["diluted_eps"] == "-0.50"
    assert report["dilutive"] == []
    assert brief(report["anti_dilutive"]) == [
        ("W-IN", 60_000, "0.00"), ("P", 50_000, "12054.79"), ("Q", 10_000, "29589.04"),
        ("W-OUT", 0, "0.00")]
    r = fl("report", "eps", *PERIOD, "--net-income=-500000", "--average-price", "5.00")
    assert r.code == 0, r.err
    assert "Net loss" in r.out and "$(0.50)" in r.out


def test_the_table_reads_like_a_10q_note(fl: Any) -> None:
    quarter(fl)
    r = fl("report", "eps", *PERIOD, "--net-income", "1000000", "--average-price", "5.00")
    assert r.code == 0, r.err
    lines = [line.rstrip() for line in r.out.splitlines()]
    assert lines[0] == "Earnings per share, 2021-01-01 to 2021-03-31 (90 days)"

    def row(label: str) -> str:
        (found,) = [line for line in lines if line.strip().startswith(label)]
        return found.split()[-1]

    assert row("Net income") == "1,000,000.00"
    assert row("Less: dividends on Q") == "(29,589.04)"
    assert row("Less: dividends on P") == "(12,054.79)"
    assert row("Income available to common stockholders, basic") == "958,356.17"
    assert row("Add back: dividends on P") == "12,054.79"
    assert row("Income available to common stockholders, diluted") == "970,410.96"
    assert row("Common shares outstanding, basic") == "1,090,000"
    assert row("Warrant W-IN") == "60,000"
    assert row("P (if-converted") == "50,000"
    assert row("Common shares outstanding, diluted") == "1,200,000"
    assert row("Basic") == "$0.88"
    assert row("Diluted") == "$0.81"
    assert "Anti-dilutive securities excluded from diluted EPS" in lines
    assert any(line.startswith("Q (if-converted at $100") and "10,000" in line
               and "29,589.04" in line for line in lines)


def test_refused_without_a_baseline_at_the_start_of_the_period(fl: Any) -> None:
    quarter(fl)
    r = fl("report", "eps", "--from", "2020-12-01", "--to", "2021-03-31", "--net-income", "1",
           "--average-price", "5")
    assert r.code == 1
    assert r.out == ""
    assert r.err.startswith("Error: no common-outstanding baseline on or before 2020-12-01")
    assert "the first one in the period is on 2020-12-31" in r.err
    assert len(r.err.splitlines()) == 1


def test_bad_periods_and_prices_are_usage_errors(fl: Any) -> None:
    quarter(fl)
    for args, option in (
        (["--from", "2021-03-31", "--to", "2021-01-01", "--net-income", "1",
          "--average-price", "5"], "--to"),
        ([*PERIOD, "--net-income", "1", "--average-price", "0"], "--average-price"),
        ([*PERIOD, "--net-income", "1,000", "--average-price", "5"], "--net-income"),
    ):
        r = fl("report", "eps", *args)
        assert r.code == 2, (args, r.err)
        assert r.err.startswith("Error: ") and option in r.err and len(r.err.splitlines()) == 1


def test_as_recorded_counts_the_ledger_as_it_stood(fl: Any) -> None:
    quarter(fl)
    # Position 7 is the common closing: as recorded at 6, the common is 1,000,000 all quarter
    # and P (position 8) is not sold yet.
    report = eps(fl, *PERIOD, "--net-income", "1000000", "--average-price", "5.00",
                 "--as-recorded", "6")
    assert report["weighted_average_common"] == 1_000_000
    assert report["preferred_dividends"] == "29589.04"
    # 970,410.96 / 1,000,000 -> 0.97; with W-IN 970,410.96 / 1,060,000 = 0.91548 -> 0.92;
    # Q: 1,000,000 / 1,070,000 = 0.93458 > 0.91548, anti-dilutive
    assert (report["basic_eps"], report["diluted_eps"]) == ("0.97", "0.92")
    assert [e["security"] for e in report["anti_dilutive"]] == ["Q", "W-OUT"]


def test_a_conversion_mid_quarter_moves_shares_from_diluted_to_basic(fl: Any) -> None:
    quarter(fl)
    # Z converts all 1,000 Q shares on 2021-03-01: 1,000,000 stated + accrued
    # (2020-06-30, 2021-03-01] = 244 days: 120,000 x 244/365 = 80,219.18 -> 1,080,219.18
    # / 100 = 10,802 common from that day (31 days: Mar 1 to Mar 31).
    assert fl("record", "conversion", "Q", "--holder", "Z", "--shares", "1000",
              "--date", "2021-03-01").code == 0
    report = eps(fl, *PERIOD, "--net-income", "1000000", "--average-price", "5.00")
    # common share-days: 98,100,000 + 10,802 x 31 = 98,434,862 -> / 90 = 1,093,720.69
    assert report["common_share_days"] == 98_434_862
    assert report["weighted_average_common"] == 1_093_721
    # Q outstanding Jan 1 to Feb 28 (59 days): 10,000 x 59 / 90 = 6,555.56 -> 6,556;
    # its accrual: (2020-12-31, 2021-03-01] = 60 days: 120,000 x 60/365 = 19,726.03
    (q,) = [e for e in report["anti_dilutive"] + report["dilutive"] if e["security"] == "Q"]
    assert (q["incremental_shares"], q["add_back"]) == (6_556, "19726.03")
