"""The exact computations of DOMAIN.md, each with its figure worked by hand in a comment."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import calc
from ledger.calc import (
    ACTUAL_365,
    THIRTY_360,
    accrual_amount,
    accrual_numerator,
    cashless_shares,
    cents,
    days_between,
    floor_shares,
)

D = Decimal


def exact(value: Decimal) -> Fraction:
    return Fraction(value)


# --- rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("23232.876712", "23232.88"),
        ("0.005", "0.01"),  # half-up, not banker's rounding (which would give 0.00)
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # banker's rounding would give 0.02
        ("2.344999", "2.34"),
        ("10000", "10000.00"),
    ],
)
def test_cents_rounds_half_up(amount: str, expected: str) -> None:
    result = cents(D(amount))
    assert result == D(expected)
    assert str(result) == expected


def test_floor_shares_rounds_down_never_up() -> None:
    # 2,528,383.56 / 2.35 = 1,075,907.897...; 1,075,907 x 2.35 = 2,528,381.45
    assert floor_shares(D("2528383.56"), D("2.35")) == 1_075_907
    # exactly divisible: 4,700 / 2.35 = 2,000
    assert floor_shares(D("4700"), D("2.35")) == 2000
    # 4,699.99 / 2.35 = 1,999.995...: still 1,999
    assert floor_shares(D("4699.99"), D("2.35")) == 1999


# --- day count -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        # May 8 -> May 31 is 23 days, + 30 days of June = 53
        (date(2003, 5, 8), date(2003, 6, 30), 53),
        # (start, end] : the same day counts nothing, the next day counts one
        (date(2003, 5, 8), date(2003, 5, 8), 0),
        (date(2003, 5, 8), date(2003, 5, 9), 1),
        # Feb 2003 has 28 days: Feb 1 -> Mar 1 = 28
        (date(2003, 2, 1), date(2003, 3, 1), 28),
        # 2004 is a leap year: Feb 1 -> Mar 1 = 29, and the whole year 366
        (date(2004, 2, 1), date(2004, 3, 1), 29),
        (date(2004, 1, 1), date(2005, 1, 1), 366),
        # Jul 1 -> Sep 30: 31 (Jul) + 31 (Aug) + 30 (Sep) - 1 = 91
        (date(2003, 7, 1), date(2003, 9, 30), 91),
    ],
)
def test_actual_365_counts_calendar_days(start: date, end: date, days: int) -> None:
    assert days_between(start, end, ACTUAL_365) == days


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        # no month-end adjustments: 360x0 + 30x1 + (30-8) = 52 (actual/365 gives 53)
        (date(2003, 5, 8), date(2003, 6, 30), 52),
        # D1 = 31 -> 30: Jan 31 -> Feb 28 = 30x1 + (28-30) = 28
        (date(2003, 1, 31), date(2003, 2, 28), 28),
        # D1 = 31 -> 30, then D2 = 31 -> 30 because D1 >= 30: Jan 31 -> Mar 31 = 30x2 + 0 = 60
        (date(2003, 1, 31), date(2003, 3, 31), 60),
        # D1 = 30, D2 = 31 -> 30: Jan 30 -> Mar 31 = 60
        (date(2003, 1, 30), date(2003, 3, 31), 60),
        # D1 = 15 < 30, so D2 = 31 stays: Jan 15 -> Mar 31 = 30x2 + (31-15) = 76
        (date(2003, 1, 15), date(2003, 3, 31), 76),
        # Feb is not stretched to 30: Feb 28 -> Mar 31 = 30x1 + (31-28) = 33
        (date(2003, 2, 28), date(2003, 3, 31), 33),
        # Feb 28 -> Mar 30 = 30 + 2 = 32; Jan 30 -> Feb 28 = 30 - 2 = 28
        (date(2003, 2, 28), date(2003, 3, 30), 32),
        (date(2003, 1, 30), date(2003, 2, 28), 28),
        # leap Feb: Feb 29 2004 -> Mar 31 2004 = 30 + (31-29) = 32
        (date(2004, 2, 29), date(2004, 3, 31), 32),
        # a whole year is 360 whatever the calendar: 360x1 + 0 + 0
        (date(2003, 5, 8), date(2004, 5, 8), 360),
        # across the year end: Dec 31 -> Jan 31 = 360x1 + 30x(-11) + (30-30) = 30
        (date(2003, 12, 31), date(2004, 1, 31), 30),
        # a quarter Jun 30 -> Sep 30 = 30x3 + 0 = 90
        (date(2003, 6, 30), date(2003, 9, 30), 90),
    ],
)
def test_30_360_bond_basis(start: date, end: date, days: int) -> None:
    assert days_between(start, end, THIRTY_360) == days


def test_unknown_day_count_is_a_bug_not_a_silent_zero() -> None:
    with pytest.raises(ValueError, match="unknown day count"):
        days_between(date(2003, 1, 1), date(2003, 2, 1), "actual/360")


@settings(max_examples=100, deadline=None)
@given(
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 1, 1)),
    first=st.integers(min_value=0, max_value=4000),
    second=st.integers(min_value=0, max_value=4000),
)
def test_actual_365_consecutive_periods_neither_overlap_nor_gap(
    start: date, first: int, second: int
) -> None:
    middle = start + timedelta(days=first)
    end = middle + timedelta(days=second)
    assert days_between(start, middle, ACTUAL_365) + days_between(
        middle, end, ACTUAL_365
    ) == days_between(start, end, ACTUAL_365)


@settings(max_examples=100, deadline=None)
@given(
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 1, 1)),
    first=st.integers(min_value=0, max_value=4000),
    second=st.integers(min_value=0, max_value=4000),
)
def test_30_360_periods_between_month_ends_chain_exactly(
    start: date, first: int, second: int
) -> None:
    # Quarter-end through-dates are where 30/360 periods meet; with D on the 30th/31st
    # collapsed to 30, consecutive periods add up to the whole.
    def month_end(d: date) -> date:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return nxt - timedelta(days=1)

    a = month_end(start)
    b = month_end(a + timedelta(days=first))
    c = month_end(b + timedelta(days=second))
    if 2 in (a.month, b.month):  # Feb month-ends are not stretched to the 30th
        return
    assert days_between(a, b, THIRTY_360) + days_between(b, c, THIRTY_360) == days_between(
        a, c, THIRTY_360
    )


# --- accrual -------------------------------------------------------------------------------


def test_accrual_of_one_lot_actual_365() -> None:
    # 200 sh x $10,000 x 8% x 53/365 = 160,000 x 53 / 365 = 8,480,000 / 365
    #   = 23,232.876712328767... -> 23,232.88 when reported
    numerator = accrual_numerator(
        200, D("10000"), D("8"), date(2003, 5, 8), date(2003, 6, 30), ACTUAL_365
    )
    assert numerator == D(200 * 10000 * 8 * 53)  # 848,000,000, before / (100 x 365)
    amount = accrual_amount(numerator, ACTUAL_365)
    assert abs(exact(amount) - Fraction(8_480_000, 365)) < Fraction(1, 10**40)
    assert str(amount).startswith("23232.876712328767123287671232876712")
    assert cents(amount) == D("23232.88")


def test_accrual_of_one_lot_30_360() -> None:
    # 200 sh x $10,000 x 8% x 52/360 = 160,000 x 52 / 360 = 23,111.111... -> 23,111.11
    numerator = accrual_numerator(
        200, D("10000"), D("8"), date(2003, 5, 8), date(2003, 6, 30), THIRTY_360
    )
    amount = accrual_amount(numerator, THIRTY_360)
    assert abs(exact(amount) - Fraction(160_000 * 52, 360)) < Fraction(1, 10**40)
    assert cents(amount) == D("23111.11")


def test_holder_accrual_sums_lots_then_rounds_once() -> None:
    # Lot 1: 1 sh from May 8 to May 10 = 1 x 10,000 x 8% x 2/365 = 1,600/365 = 4.38356...
    # Lot 2: 2 sh from May 9 to May 10 = 2 x 10,000 x 8% x 1/365 = 1,600/365 = 4.38356...
    # Sum then round: 3,200/365 = 8.767123... -> 8.77.
    # Rounding each lot first would give 4.38 + 4.38 = 8.76: a cent lost.
    through = date(2003, 5, 10)
    n1 = accrual_numerator(1, D("10000"), D("8"), date(2003, 5, 8), through, ACTUAL_365)
    n2 = accrual_numerator(2, D("10000"), D("8"), date(2003, 5, 9), through, ACTUAL_365)
    assert cents(accrual_amount(n1 + n2, ACTUAL_365)) == D("8.77")
    assert cents(accrual_amount(n1, ACTUAL_365)) + cents(accrual_amount(n2, ACTUAL_365)) == D(
        "8.76"
    )


def test_no_accrual_for_empty_or_backward_intervals() -> None:
    on = date(2003, 6, 30)
    assert accrual_numerator(200, D("10000"), D("8"), on, on, ACTUAL_365) == 0
    assert accrual_numerator(200, D("10000"), D("8"), on, date(2003, 6, 1), ACTUAL_365) == 0
    assert accrual_numerator(0, D("10000"), D("8"), date(2003, 5, 8), on, ACTUAL_365) == 0


# --- warrants ------------------------------------------------------------------------------


def test_cashless_shares_floor_n_p_minus_k_over_p() -> None:
    # floor(100,000 x (4.10 - 3.00) / 4.10) = floor(110,000 / 4.10) = floor(26,829.268...)
    assert cashless_shares(100_000, D("3.00"), D("4.10")) == 26_829
    # floor(944,681 x (3.50 - 3.00) / 3.50) = floor(472,340.5 / 3.5) = floor(134,954.428...)
    assert cashless_shares(944_681, D("3.00"), D("3.50")) == 134_954
    # exact: 10 x (5 - 3) / 5 = 4
    assert cashless_shares(10, D("3"), D("5")) == 4


def test_cashless_shares_is_zero_at_or_below_the_strike() -> None:
    assert cashless_shares(944_681, D("3.00"), D("3.00")) == 0
    assert cashless_shares(944_681, D("3.00"), D("2.99")) == 0


def test_large_values_stay_exact() -> None:
    # 999,999,999,999,999 sh x 999,999,999,999.99 x 100% x 3,650,000 days: 40 digits, exact
    shares, price = 10**15 - 1, D("999999999999.99")
    numerator = accrual_numerator(
        shares, price, D("100"), date(1, 1, 1), date(9999, 12, 31), ACTUAL_365
    )
    days = (date(9999, 12, 31) - date(1, 1, 1)).days
    assert exact(numerator) == Fraction(shares) * Fraction(price) * 100 * days


@given(
    shares=st.integers(min_value=0, max_value=calc.MAX_SHARES),
    value=st.decimals(min_value=Decimal("0.0000000001"), max_value=calc.MAX_MONEY, places=10),
    price=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=4),
    rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=4),
    days=st.integers(min_value=1, max_value=20_000),
)
def test_the_explicit_context_computes_what_a_local_context_did(
    shares: int, value: Decimal, price: Decimal, rate: Decimal, days: int
) -> None:
    """calc passes one 60-digit context to every operation instead of entering a
    `localcontext()` per call: the figures are the same, digit for digit."""
    from decimal import ROUND_DOWN, ROUND_HALF_UP, localcontext

    with localcontext() as ctx:
        ctx.prec = calc.PRECISION
        assert calc.cents(value) == value.quantize(calc.CENT, rounding=ROUND_HALF_UP)
        assert calc.floor_shares(value, price) == int(
            (value / price).to_integral_value(rounding=ROUND_DOWN))
        start = date(2000, 1, 1)
        numerator = calc.accrual_numerator(shares, price, rate, start,
                                           start + timedelta(days=days), calc.ACTUAL_365)
        assert numerator == shares * price * rate * days
        assert calc.accrual_amount(numerator, calc.ACTUAL_365) == numerator / 36500
        assert calc.mul(shares, price) == Decimal(shares) * price
        if price > value:
            assert calc.cashless_shares(shares, value, price) == int(
                (shares * (price - value) / price).to_integral_value(rounding=ROUND_DOWN))
