"""The term rules: lot identity, accrual start and expiry (defined here once, for the fold
and every report), and how a split and a price-based anti-dilution adjustment change terms
(DOMAIN.md 12-13).

Pure arithmetic on prices and counts; the commands (`ledger.commands`) decide with it, and
what it computes is stored on the event, so the fold and the reports never compute it again.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledger.calc import EXACT, mul, places4, price4, scaled_shares

ANTI_DILUTION = ("none", "full-ratchet", "weighted-average")
FULL_RATCHET = "full-ratchet"
WEIGHTED_AVERAGE = "weighted-average"


# --- the term rules the fold and every report share (defined here once) -------------------


def lot_id(closing: str, holder: str) -> str:
    """The id of the lot `holder` bought in closing `closing`."""
    return f"{closing}/{holder}"


def transferred_lot_id(ref: str, holder: str, number: int) -> str:
    """The id of the `number`th lot (from 1) that transfer `ref` gave `holder`."""
    return f"{ref}/{holder}/{number}"


def accrual_start(issued_on: date, last_through: date | None) -> date:
    """Where a lot's dividends accrue from (DOMAIN.md 3): its issue date, or its series' last
    dividend's through date when that is later."""
    return issued_on if last_through is None or last_through < issued_on else last_through


def expired_on(expires: date | None, on: date) -> bool:
    """Whether a warrant expiring on `expires` (None: never) is expired on `on`: on any date
    after its expiry date."""
    return expires is not None and on > expires


def split_price(price: Decimal, new: int, old: int) -> Decimal:
    """A price after an N-for-M split: price x M / N, rounded half-up to 4 places."""
    return price4(EXACT.divide(mul(price, old), Decimal(new)))


def split_shares(shares: int, new: int, old: int) -> int:
    """A count after an N-for-M split: floor(shares x N / M)."""
    return scaled_shares(shares, new, old)


def weighted_average_b(gross: Decimal, old_price: Decimal) -> Decimal:
    """B: the closing's gross proceeds divided by the old price, as stored and shown: to 4
    places, half-up. (The new price is worked from the exact quotient: `reset_price`.)"""
    return places4(EXACT.divide(gross, old_price))


def reset_price(method: str, old_price: Decimal, closing_price: Decimal, *, a: int,
                gross: Decimal, c: int, floor: Decimal | None) -> Decimal | None:
    """The new price a closing of common at `closing_price` sets on an instrument protected
    by `method`, or None when the rule leaves it as it is (the closing is not below the
    price, the reset would not lower it, or the floor stops it). Full ratchet: the closing's
    price. Weighted average (broad-based): old x (A + B) / (A + C) with B = gross / old,
    worked as (old x A + gross) / (A + C), the same figure with no rounding of B. Never
    below the floor, rounded half-up to 4 places, never above the old price."""
    if closing_price >= old_price:
        return None
    if method == FULL_RATCHET:
        new = closing_price
    elif method == WEIGHTED_AVERAGE:
        new = EXACT.divide(EXACT.add(mul(old_price, a), gross), Decimal(a + c))
    else:
        return None
    if floor is not None and new < floor:
        new = floor
    new = price4(new)
    return new if new < old_price else None


def reset_shares(outstanding: int, old_price: Decimal, new_price: Decimal) -> int:
    """A warrant's outstanding after a reset: floor(outstanding x old / new), so its
    aggregate exercise price stays the same (never more)."""
    return scaled_shares(outstanding, old_price, new_price)
