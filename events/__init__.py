"""The domain events of a financing ledger: plain, frozen data and nothing else.

Every event is a keyword-only frozen dataclass. Money and prices are `Decimal`, share counts
are `int`, business dates are `date`. The class path of each event is stored in the database
(it is the event's topic), so renaming a class needs a topic alias and changing its fields
needs a `class_version` and an upcaster, each with a test that reads the old form.

An event stores the outcome of every computation it implies (common shares issued, cash in
lieu, each holder's dividend), so replaying history with later code reproduces exactly what
was decided when it was recorded. This package imports the standard library only.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

COMMON = "common"


class DividendForm(StrEnum):
    """How a series may pay (`dividend_form`: all three) and how a dividend was paid
    (`form`: cash or stock). A str, so stored and compared as the text it always was."""

    CASH = "cash"
    STOCK = "stock"
    EITHER = "either"


PAYMENT_FORMS = (DividendForm.CASH, DividendForm.STOCK)
STOCK_FORMS = (DividendForm.STOCK, DividendForm.EITHER)  # the series that may pay in stock


class Instrument(StrEnum):
    """What a change of terms applies to."""

    SERIES = "series"
    WARRANT = "warrant"


@dataclass(frozen=True, kw_only=True)
class LedgerEvent:
    """What every recorded event carries besides its own data.

    `originator_version` is the event's position in the ledger (1, 2, 3, ...), in recording
    order. `prev_hash` and `hash` chain each event to the one recorded before it.
    """

    originator_id: UUID
    originator_version: int
    effective_date: date
    recorded_at: datetime
    actor: str
    prev_hash: str
    hash: str

    @property
    def position(self) -> int:
        return self.originator_version

    @property
    def source(self) -> Source | None:
        """Where an imported event was first recorded (its position and hash in the ledger
        that was exported), None for an event recorded here. Not a dataclass field: it is
        stored, and covered by the event's hash, only on an event that has one, so every
        other event's stored form and hash are what they always were."""
        return self.__dict__.get("source")


def with_source(event: LedgerEvent, source: Source | None) -> LedgerEvent:
    """The event (not yet sealed or seen by anyone) carrying `source`."""
    if source is not None:
        event.__dict__["source"] = source
    return event


# --- values carried inside events -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Allocation:
    """The shares one investor bought in a closing (a lot, when the security is preferred)."""

    investor: str
    shares: int
    gross: Decimal


@dataclass(frozen=True, kw_only=True)
class LotConversion:
    """The part of one lot retired by a conversion, with the dividends accrued on it."""

    lot: str
    shares: int
    accrued: Decimal


@dataclass(frozen=True, kw_only=True)
class LotTransfer:
    """The part of one lot a transfer moved: the lot it came from, the lot it became for the
    transferee, and what the new lot keeps (its closing, issue date and accrual start)."""

    lot: str
    shares: int
    new_lot: str
    closing: str
    issued_on: date
    accrual_start: date


@dataclass(frozen=True, kw_only=True)
class Source:
    """An imported event's provenance: its position and hash in the exported ledger."""

    position: int
    hash: str


@dataclass(frozen=True, kw_only=True)
class SeriesPriceChange:
    """A series' conversion price before and after a split (DOMAIN.md 12)."""

    series: str
    old_price: Decimal
    new_price: Decimal


@dataclass(frozen=True, kw_only=True)
class WarrantChange:
    """A warrant's exercise price and outstanding shares before and after a split."""

    warrant: str
    old_price: Decimal
    new_price: Decimal
    old_shares: int
    new_shares: int


@dataclass(frozen=True, kw_only=True)
class AntiDilutionAdjustment:
    """One price-based anti-dilution adjustment a common closing caused (DOMAIN.md 13).

    `instrument` is `series` or `warrant` and `name` the series name or warrant reference.
    Shares are a warrant's outstanding before and after (None for a series, whose preferred
    shares do not change). `a`, `b` and `c` are the weighted-average inputs (None for a full
    ratchet): fully diluted common just before the closing, the closing's gross proceeds
    divided by the old price (exact), and the common shares the closing issued."""

    instrument: str
    name: str
    method: str
    old_price: Decimal
    new_price: Decimal
    old_shares: int | None
    new_shares: int | None
    a: int | None
    b: Decimal | None
    c: int | None


@dataclass(frozen=True, kw_only=True)
class HolderDividend:
    """One holder's share of a declared dividend, as it was paid."""

    holder: str
    amount: Decimal
    common_shares: int
    cash: Decimal


# --- the events ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SeriesDesignated(LedgerEvent):
    series: str
    stated_value: Decimal
    par_value: Decimal
    conversion_price: Decimal
    dividend_rate: Decimal
    authorized: int
    cumulative: bool
    frequency: str
    day_count: str
    dividend_form: str
    convert_accrued: bool
    # Optional fields (OPTIONAL_FIELDS): left out of the data while at their default, so
    # events recorded before they existed keep their stored form and hash.
    anti_dilution: str = "none"
    price_floor: Decimal | None = None
    ownership_cap: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class SeriesAuthorizationIncreased(LedgerEvent):
    series: str
    shares: int
    authorized: int


@dataclass(frozen=True, kw_only=True)
class ClosingCompleted(LedgerEvent):
    ref: str
    security: str
    price_per_share: Decimal
    allocations: tuple[Allocation, ...]
    shares: int
    gross: Decimal
    fees: Decimal
    net: Decimal
    # Optional (OPTIONAL_FIELDS): a common closing recorded as exempt from anti-dilution, and
    # the adjustments a (non-exempt) common closing below a protected price caused.
    exempt: bool = False
    adjustments: tuple[AntiDilutionAdjustment, ...] = ()


@dataclass(frozen=True, kw_only=True)
class WarrantsIssued(LedgerEvent):
    ref: str
    holder: str
    shares: int
    exercise_price: Decimal
    expires: date | None
    label: str
    closing: str | None
    anti_dilution: str = "none"  # optional (OPTIONAL_FIELDS)
    price_floor: Decimal | None = None
    ownership_cap: Decimal | None = None
    exercisable_from: date | None = None


@dataclass(frozen=True, kw_only=True)
class WarrantsExercised(LedgerEvent):
    warrant: str
    shares: int
    cashless: bool
    market_price: Decimal | None
    common_shares: int
    proceeds: Decimal
    # Added later: the holder's common as the command stated it (for the ownership cap).
    holder_owns: int | None = None


@dataclass(frozen=True, kw_only=True)
class DividendDeclared(LedgerEvent):
    series: str
    through: date
    form: str
    price: Decimal | None
    payments: tuple[HolderDividend, ...]
    amount: Decimal
    common_shares: int
    cash: Decimal


@dataclass(frozen=True, kw_only=True)
class ConversionRequested(LedgerEvent):
    series: str
    holder: str
    shares: int
    lots: tuple[LotConversion, ...]
    stated_value: Decimal
    accrued: Decimal
    accrued_converted: bool
    value: Decimal
    common_shares: int
    cash_in_lieu: Decimal
    accrued_paid_in_cash: Decimal
    # Added later: the holder's common as the command stated it (for the ownership cap).
    holder_owns: int | None = None


@dataclass(frozen=True, kw_only=True)
class CommonOutstandingReported(LedgerEvent):
    shares: int


@dataclass(frozen=True, kw_only=True)
class StockSplit(LedgerEvent):
    """The common stock split `new` for every `old` (a 1-for-25 reverse split: 1 for 25),
    with every price and count it changed, and the common outstanding just before it
    (`common_before`, as fully diluted counts it) carried over as the new baseline
    `common_after` = floor(common_before x new / old)."""

    new: int
    old: int
    common_before: int
    common_after: int
    series: tuple[SeriesPriceChange, ...]
    warrants: tuple[WarrantChange, ...]


@dataclass(frozen=True, kw_only=True)
class TermsAdjusted(LedgerEvent):
    """A board decision: a series' new conversion price (`series`; shares None), or a
    warrant's new exercise price and outstanding shares (`warrant`), old and new stored."""

    series: str | None
    warrant: str | None
    old_price: Decimal
    new_price: Decimal
    old_shares: int | None
    new_shares: int | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class SharesTransferred(LedgerEvent):
    """Preferred shares moved from one holder to another (DOMAIN.md 11), oldest lots first;
    each part names the lot it came from and the lot it became."""

    ref: str
    series: str
    from_holder: str
    to_holder: str
    shares: int
    lots: tuple[LotTransfer, ...]


@dataclass(frozen=True, kw_only=True)
class WarrantsTransferred(LedgerEvent):
    """Part or all of a warrant assigned to another holder: a new warrant `ref` with the
    terms of `warrant`, all stored (DOMAIN.md 11)."""

    ref: str
    warrant: str
    from_holder: str
    holder: str
    shares: int
    exercise_price: Decimal
    expires: date | None
    label: str
    closing: str | None
    issued_on: date
    exercisable_from: date | None
    ownership_cap: Decimal | None


@dataclass(frozen=True, kw_only=True)
class SharesRedeemed(LedgerEvent):
    """The company bought preferred shares back (DOMAIN.md 15): the lots taken oldest first
    with the dividends accrued on each, the price, and what was paid."""

    ref: str
    series: str
    holder: str
    shares: int
    lots: tuple[LotConversion, ...]
    price_per_share: Decimal
    amount: Decimal
    accrued: Decimal
    total: Decimal


@dataclass(frozen=True, kw_only=True)
class EventReversed(LedgerEvent):
    """An earlier event found to be a mistake. The reversed event is carried whole, so a
    projection can take its effects back out without reading history again."""

    reversed_position: int
    reason: str
    reversed: LedgerEvent


# Every event type, closed: a renderer that matches on it ends with `assert_never`, so a new
# event type (added here, its one registration) is a type error until it is rendered.
AnyEvent = (
    SeriesDesignated
    | SeriesAuthorizationIncreased
    | ClosingCompleted
    | WarrantsIssued
    | WarrantsExercised
    | DividendDeclared
    | ConversionRequested
    | CommonOutstandingReported
    | EventReversed
    | StockSplit
    | TermsAdjusted
    | SharesTransferred
    | WarrantsTransferred
    | SharesRedeemed
)
EVENT_TYPES: tuple[type[LedgerEvent], ...] = typing.get_args(AnyEvent)
VALUE_TYPES: tuple[type, ...] = (Allocation, LotConversion, HolderDividend, Source, LotTransfer,
                                 SeriesPriceChange, WarrantChange, AntiDilutionAdjustment)

# Fields added after events of their type were first stored, each with the default an event
# recorded before it has. An event's data leaves such a field out while it holds its default,
# so an old event's stored form, data and hash stay exactly what they were.
OPTIONAL_FIELDS: dict[type[LedgerEvent], dict[str, object]] = {
    SeriesDesignated: {"anti_dilution": "none", "price_floor": None, "ownership_cap": None},
    WarrantsIssued: {"anti_dilution": "none", "price_floor": None, "ownership_cap": None,
                     "exercisable_from": None},
    ClosingCompleted: {"exempt": False, "adjustments": ()},
    WarrantsExercised: {"holder_owns": None},
    ConversionRequested: {"holder_owns": None},
}
EVENTS_BY_NAME: dict[str, type[LedgerEvent]] = {cls.__name__: cls for cls in EVENT_TYPES}

__all__ = [
    "COMMON",
    "EVENTS_BY_NAME",
    "EVENT_TYPES",
    "OPTIONAL_FIELDS",
    "PAYMENT_FORMS",
    "STOCK_FORMS",
    "VALUE_TYPES",
    "Allocation",
    "AntiDilutionAdjustment",
    "AnyEvent",
    "ClosingCompleted",
    "CommonOutstandingReported",
    "ConversionRequested",
    "DividendDeclared",
    "DividendForm",
    "EventReversed",
    "HolderDividend",
    "Instrument",
    "LedgerEvent",
    "LotConversion",
    "LotTransfer",
    "SeriesAuthorizationIncreased",
    "SeriesDesignated",
    "SeriesPriceChange",
    "SharesRedeemed",
    "SharesTransferred",
    "Source",
    "StockSplit",
    "TermsAdjusted",
    "WarrantChange",
    "WarrantsExercised",
    "WarrantsIssued",
    "WarrantsTransferred",
    "with_source",
]
