"""The computations of DOMAIN.md, exact: `Decimal` money, integer shares.

Money is rounded half-up to cents only where it is settled or reported; shares from a
division are rounded down and the fraction is paid as cash in lieu.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, DefaultContext

CENT = Decimal("0.01")
ACTUAL_365 = "actual/365"
THIRTY_360 = "30/360"
DAY_COUNTS = (ACTUAL_365, THIRTY_360)
BASIS = {ACTUAL_365: 365, THIRTY_360: 360}
# The limits on what a command accepts (README.md, "Limits"): far beyond any real financing,
# and small enough that every figure derived from them stays exact within PRECISION and every
# share count fits a SQLite INTEGER (a signed 64-bit integer) with room for totals.
# Any share count given, and any a single event derives (a conversion's common, a stock
# dividend's common): at most MAX_SHARES. Every series' as-converted common at its full
# authorization, all series together: at most MAX_AS_CONVERTED. Totals are sums of these, so
# a 64-bit integer holds them for any ledger under nine million events.
MAX_SHARES = 10**12 - 1
MAX_AS_CONVERTED = 10**15 - 1
# Money and prices (stated value, price per share, fees, exercise and market prices): below
# MAX_MONEY, with at most MAX_PLACES decimal places; rates: 0 to MAX_RATE percent, the same
# places. So a closing's gross (shares x price) has at most 28 significant digits.
MAX_MONEY = Decimal(10**10)
MAX_PLACES = 6
MAX_RATE = Decimal(100)
# Enough digits that no intermediate quotient in this ledger is ever rounded.
PRECISION = 60
# The context every computation here runs in, passed explicitly: the default context with
# PRECISION digits (what `localcontext()` gave each call, without entering and leaving a
# context a dozen times per event), whatever context the calling thread has set.
EXACT = DefaultContext.copy()
EXACT.prec = PRECISION


def cents(amount: Decimal) -> Decimal:
    """Round half-up to cents (where money is settled or reported)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP, context=EXACT)


def floor_shares(value: Decimal, price: Decimal) -> int:
    """Whole shares that `value` buys at `price`, rounded down."""
    return int(EXACT.divide(value, price).to_integral_value(rounding=ROUND_DOWN, context=EXACT))


PRICE_PLACES = Decimal("0.0001")


def places4(value: Decimal) -> Decimal:
    """Rounded half-up to 4 decimal places, written with all 4."""
    return value.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP, context=EXACT)


def price4(price: Decimal) -> Decimal:
    """A price set by a split or an anti-dilution adjustment: rounded half-up to 4 decimal
    places (DOMAIN.md 12-13), written as a price is (at least cents, no trailing zeros
    beyond them: 58.75, 75.00, 2.2276)."""
    rounded = places4(price).normalize(context=EXACT)
    exponent = rounded.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        rounded = rounded.quantize(CENT, context=EXACT)
    return rounded


def scaled_shares(shares: int, numerator: int | Decimal, denominator: int | Decimal) -> int:
    """floor(shares x numerator / denominator), exactly."""
    return floor_shares(mul(shares, numerator), Decimal(denominator))


def nearest_shares(share_days: int, days: int) -> int:
    """A weighted average of whole shares (share-days / days), reported as whole shares:
    rounded half-up to the nearest share. (Shares *issued* from a division are rounded
    down, the fraction paid in cash; an average issues nothing, so it is not floored.)"""
    quotient = EXACT.divide(Decimal(share_days), Decimal(days))
    return int(quotient.to_integral_value(rounding=ROUND_HALF_UP, context=EXACT))


def days_between(start: date, end: date, day_count: str) -> int:
    """Days in the interval (start, end] under the series' day-count convention."""
    if day_count == ACTUAL_365:
        return (end - start).days
    if day_count == THIRTY_360:
        d1, d2 = start.day, end.day
        if d1 == 31:
            d1 = 30
        if d2 == 31 and d1 >= 30:
            d2 = 30
        return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
    raise ValueError(f"unknown day count {day_count!r}")


def accrual_numerator(  # noqa: PLR0917 (the formula's six terms, in its order)
    shares: int, stated_value: Decimal, rate_percent: Decimal, start: date, end: date,
    day_count: str,
) -> Decimal:
    """shares x stated value x rate% x days, before the division by 100 x basis.

    Summing numerators and dividing once keeps a holder's accrual exact across its lots.
    Non-positive intervals accrue nothing.
    """
    days = days_between(start, end, day_count)
    if days <= 0 or shares <= 0:
        return Decimal(0)
    multiply = EXACT.multiply
    return multiply(multiply(multiply(Decimal(shares), stated_value), rate_percent), Decimal(days))


def accrual_amount(numerator: Decimal, day_count: str) -> Decimal:
    """The exact (unrounded) accrued amount for a summed numerator."""
    return EXACT.divide(numerator, Decimal(100 * BASIS[day_count]))


def cashless_shares(shares: int, exercise_price: Decimal, market_price: Decimal) -> int:
    """floor(N x (P - K) / P): net shares of a cashless exercise, or treasury-stock shares."""
    if market_price <= exercise_price:
        return 0
    spread = EXACT.subtract(market_price, exercise_price)
    return floor_shares(EXACT.multiply(Decimal(shares), spread), market_price)


def stock_payment(amount: Decimal, price: Decimal) -> tuple[int, Decimal]:
    """A dividend `amount` paid in common at `price`: floor(amount / price) shares, and the
    rest as cash in lieu, in cents (DOMAIN.md 4)."""
    shares = floor_shares(amount, price)
    return shares, cents(EXACT.subtract(amount, EXACT.multiply(Decimal(shares), price)))


def mul(a: Decimal | int, b: Decimal | int) -> Decimal:
    return EXACT.multiply(Decimal(a), Decimal(b))


def total(values: Iterable[Decimal], start: Decimal = Decimal(0)) -> Decimal:
    """The exact sum (the built-in `sum` rounds to the thread's 28 digits)."""
    result = start
    for value in values:
        result = EXACT.add(result, value)
    return result
