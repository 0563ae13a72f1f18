"""`report dividends` (DOMAIN.md 17) and the schedule warning of `record dividend`, with
every expected figure worked out by hand.

Series D: stated 10,000, 8% cumulative, quarterly, actual/365, so a share accrues
10,000 x 8% = 800.00 a year. Closing D-1 on 2003-05-08: A 150, B 100, C 100, P 94 (444);
closing D-2 on 2003-05-14: A 56, B 100 (156).
"""

from __future__ import annotations

import json
from typing import Any

SERIES_D = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
            "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "600"]


def series_d(fl: Any) -> None:
    for args in (
        SERIES_D,
        ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
         "--investor", "A=150", "--investor", "B=100", "--investor", "C=100", "--investor", "P=94"],
        ["record", "closing", "Series D", "--date", "2003-05-14", "--ref", "D-2",
         "--investor", "A=56", "--investor", "B=100"],
    ):
        r = fl(*args)
        assert r.code == 0, r.err


def dividends(fl: Any, *args: str) -> dict[str, Any]:
    r = fl("report", "dividends", *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)  # type: ignore[no-any-return]


def test_next_quarterly_dividend_of_series_d_per_holder(fl: Any) -> None:
    series_d(fl)
    report = dividends(fl, "--as-of", "2003-09-15")
    assert report["as_of"] == "2003-09-15"
    (d,) = report["series"]
    assert d["series"] == "Series D"
    assert d["frequency"] == "quarterly"
    assert d["last_through"] is None
    assert d["next_through"] == "2003-09-30"  # the first quarter end on or after 2003-09-15
    # Through 2003-09-30: D-1 lots accrue (05-08, 09-30] = 145 days, D-2 lots (05-14, 09-30]
    # = 139 days.
    # A: 150 x 800 x 145/365 = 47,671.2329 + 56 x 800 x 139/365 = 17,060.8219 -> 64,732.05
    # B: 100 x 800 x 145/365 = 31,780.8219 + 100 x 800 x 139/365 = 30,465.7534 -> 62,246.58
    # C: 100 x 800 x 145/365 = 31,780.82;  P: 94 x 800 x 145/365 = 29,873.97
    assert d["holders"] == [
        {"holder": "A", "next_amount": "64732.05", "arrears": "23193.42"},
        {"holder": "B", "next_amount": "62246.58", "arrears": "21917.81"},
        {"holder": "C", "next_amount": "31780.82", "arrears": "11616.44"},
        {"holder": "P", "next_amount": "29873.97", "arrears": "10919.45"},
    ]
    # 64,732.05 + 62,246.58 + 31,780.82 + 29,873.97
    assert d["next_amount"] == "188633.42"
    # Arrears: the quarter ended 2003-06-30 was not declared: (05-08, 06-30] = 53 days,
    # (05-14, 06-30] = 47 days. A: 120,000 x 53/365 = 17,424.6575 + 44,800 x 47/365 =
    # 5,768.7671 -> 23,193.42; B: 80,000 x 53/365 + 80,000 x 47/365 = 21,917.81;
    # C: 80,000 x 53/365 = 11,616.44; P: 75,200 x 53/365 = 10,919.45
    assert d["arrears"] == "67647.12"
    assert (d["paid_cash"], d["paid_common_shares"], d["paid_cash_in_lieu"]) == ("0.00", 0, "0.00")


def test_arrears_after_two_undeclared_quarters(fl: Any) -> None:
    # Series E: stated 1,000, 10% cumulative, quarterly: 100 shares accrue 10,000.00 a year.
    for args in (
        ["record", "series", "E", "--date", "2020-12-31", "--stated-value", "1000",
         "--conversion-price", "10", "--dividend-rate", "10", "--authorized", "100"],
        ["record", "closing", "E", "--date", "2020-12-31", "--investor", "X=100"],
    ):
        assert fl(*args).code == 0
    (e,) = dividends(fl, "--as-of", "2021-07-15")["series"]
    # Quarters ended 2021-03-31 and 2021-06-30, neither declared: arrears through 06-30,
    # (2020-12-31, 2021-06-30] = 181 days: 10,000 x 181/365 = 4,958.904 -> 4,958.90
    assert e["arrears"] == "4958.90"
    # Next: through 2021-09-30, 273 days: 10,000 x 273/365 = 7,479.452 -> 7,479.45
    assert (e["next_through"], e["next_amount"]) == ("2021-09-30", "7479.45")
    # Declare the first quarter in cash: (2020-12-31, 2021-03-31] = 90 days -> 2,465.75
    assert fl("record", "dividend", "E", "--through", "2021-03-31", "--date", "2021-04-05",
              "--form", "cash").code == 0
    (e,) = dividends(fl, "--as-of", "2021-07-15")["series"]
    assert e["last_through"] == "2021-03-31"
    # One quarter left in arrears: (03-31, 06-30] = 91 days: 10,000 x 91/365 = 2,493.15
    assert e["arrears"] == "2493.15"
    # (03-31, 09-30] = 183 days: 10,000 x 183/365 = 5,013.70
    assert e["next_amount"] == "5013.70"
    assert (e["paid_cash"], e["paid_common_shares"], e["paid_cash_in_lieu"]) == ("2465.75", 0, "0.00")
    # On a period end itself: the next through is that date, and the quarter before it is
    # the one in arrears (2021-06-30 -> arrears through 2021-03-31, which was declared: none)
    (e,) = dividends(fl, "--as-of", "2021-06-30")["series"]
    assert (e["next_through"], e["arrears"], e["arrears_through"]) == ("2021-06-30", "0.00", None)


def test_stock_dividend_preview_at_a_price_is_what_the_dividend_pays(fl: Any) -> None:
    series_d(fl)
    report = dividends(fl, "--as-of", "2003-09-15", "--price", "3.10")
    assert report["price"] == "3.10"
    (d,) = report["series"]
    # A: floor(64,732.05 / 3.10) = 20,881 (20,881 x 3.10 = 64,731.10), cash in lieu 0.95
    # B: floor(62,246.58 / 3.10) = 20,079 (62,244.90), 1.68
    # C: floor(31,780.82 / 3.10) = 10,251 (31,778.10), 2.72
    # P: floor(29,873.97 / 3.10) = 9,636 (29,871.60), 2.37
    assert [(h["holder"], h["next_common_shares"], h["next_cash_in_lieu"]) for h in d["holders"]] == [
        ("A", 20881, "0.95"), ("B", 20079, "1.68"), ("C", 10251, "2.72"), ("P", 9636, "2.37")]
    assert (d["next_common_shares"], d["next_cash_in_lieu"]) == (60847, "7.72")
    assert (report["totals"]["next_common_shares"], report["totals"]["next_cash_in_lieu"]) == (
        60847, "7.72")
    # Declared on those terms, the dividend pays exactly what the preview said
    r = fl("record", "dividend", "Series D", "--through", "2003-09-30", "--date", "2003-09-30",
           "--form", "stock", "--price", "3.10")
    assert r.code == 0, r.err
    assert r.err == ""  # a period end: no warning
    (d,) = dividends(fl, "--as-of", "2003-10-15")["series"]
    assert (d["paid_cash"], d["paid_common_shares"], d["paid_cash_in_lieu"]) == ("0.00", 60847, "7.72")
    assert (d["last_through"], d["next_through"]) == ("2003-09-30", "2003-12-31")
    assert d["arrears"] == "0.00"  # the latest quarter end before 10-15 is the one declared


def test_a_non_cumulative_series_has_no_arrears(fl: Any) -> None:
    for args in (
        ["record", "series", "N", "--date", "2020-12-31", "--stated-value", "1000",
         "--conversion-price", "10", "--dividend-rate", "10", "--authorized", "100",
         "--non-cumulative", "--frequency", "semiannual", "--dividend-form", "cash"],
        ["record", "closing", "N", "--date", "2020-12-31", "--investor", "X=100"],
    ):
        assert fl(*args).code == 0
    report = dividends(fl, "--as-of", "2021-08-01", "--price", "2.00")
    (n,) = report["series"]
    # Semiannual: the next period end is 2021-12-31; (2020-12-31, 2021-12-31] = 365 days
    assert (n["frequency"], n["next_through"], n["next_amount"]) == (
        "semiannual", "2021-12-31", "10000.00")
    assert (n["arrears"], n["arrears_through"]) == ("0.00", None)
    assert (n["next_common_shares"], n["next_cash_in_lieu"]) == (None, None)  # cash only
    r = fl("report", "dividends", "--as-of", "2021-08-01", "--price", "2.00")
    assert "cash only" in r.out
    assert "no arrears (non-cumulative)" in r.out


def test_an_off_schedule_through_date_warns_and_is_recorded(fl: Any) -> None:
    series_d(fl)
    r = fl("record", "dividend", "Series D", "--through", "2003-09-15", "--date", "2003-09-16",
           "--form", "cash")
    assert r.code == 0
    assert r.out.startswith("Recorded DividendDeclared at position 4")
    assert r.err.startswith("Warning: 2003-09-15 is not a period end of the quarterly dividend schedule of 'Series D'")
    assert "the scheduled through date of that period is 2003-09-30" in r.err
    assert len(r.err.splitlines()) == 1
    (d,) = dividends(fl, "--as-of", "2003-09-16")["series"]
    assert d["last_through"] == "2003-09-15"
    assert d["next_through"] == "2003-09-30"  # the schedule goes on from the period end
    # a JSON recording warns the same way, on stderr only
    r = fl("record", "dividend", "Series D", "--through", "2003-11-14", "--date", "2003-11-20",
           "--form", "cash", "--json")
    assert r.code == 0 and json.loads(r.out)["type"] == "DividendDeclared"
    assert "the scheduled through date of that period is 2003-12-31" in r.err


def test_as_recorded_shows_the_dividends_before_a_later_declaration(fl: Any) -> None:
    series_d(fl)
    assert fl("record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01",
              "--form", "cash").code == 0
    now = dividends(fl, "--as-of", "2003-09-15")["series"][0]
    then = dividends(fl, "--as-recorded", "3", "--as-of", "2003-09-15")["series"][0]
    assert (now["last_through"], then["last_through"]) == ("2003-06-30", None)
    assert (now["arrears"], then["arrears"]) == ("0.00", "67647.12")
    assert now["paid_cash"] == "67647.12"  # what was in arrears is what the dividend paid
    # current books (the read model) and a replay agree
    assert dividends(fl)["series"][0]["paid_cash"] == "67647.12"


def test_the_table_lists_series_holders_and_totals(fl: Any) -> None:
    series_d(fl)
    r = fl("report", "dividends", "--as-of", "2003-09-15", "--price", "3.10")
    assert r.code == 0, r.err
    lines = [line.rstrip() for line in r.out.splitlines()]
    assert lines[0] == "Dividends as of 2003-09-15; paid in stock at $3.10 per common share"
    assert any(line.startswith("Series D") and "2003-09-30" in line and "188,633.42" in line
               and "67,647.12" in line and "60,847" in line for line in lines)
    assert any(line.startswith("  A ") and "64,732.05" in line and "20,881" in line
               for line in lines)
    assert any(line.startswith("Total") and "188,633.42" in line for line in lines)
    assert "quarterly (Mar 31, Jun 30, Sep 30, Dec 31)" in r.out


def test_a_bad_price_is_a_usage_error(fl: Any) -> None:
    series_d(fl)
    r = fl("report", "dividends", "--price", "0")
    assert r.code == 2
    assert r.err.startswith("Error: ") and "--price" in r.err and len(r.err.splitlines()) == 1


def test_no_arrears_before_the_first_period_of_a_series(fl: Any) -> None:
    series_d(fl)
    # As of 2003-06-15 the latest quarter end before it, 2003-03-31, precedes the series
    (d,) = dividends(fl, "--as-of", "2003-06-15")["series"]
    assert (d["next_through"], d["arrears_through"], d["arrears"]) == ("2003-06-30", None, "0.00")


def test_a_back_dated_off_schedule_dividend_warns_too(fl: Any) -> None:
    series_d(fl)
    # a later entry first, so the dividend is decided on the streamed timeline, not the head
    assert fl("record", "warrants", "--holder", "A", "--shares", "1000", "--exercise-price", "3",
              "--date", "2003-12-01").code == 0
    r = fl("record", "dividend", "Series D", "--through", "2003-08-31", "--date", "2003-09-02",
           "--form", "cash")
    assert r.code == 0, r.err
    assert "the scheduled through date of that period is 2003-09-30" in r.err
    # and a refused one warns of nothing
    r = fl("record", "dividend", "Series D", "--through", "2003-08-15", "--date", "2003-09-03",
           "--form", "cash")
    assert r.code == 1
    assert r.err.startswith("Error: ") and "Warning" not in r.err
