"""One holder's register as of a date (`report holder NAME`): its open preferred lots (with
the lot each came from), its warrants, the common and the cash the ledger's events gave it,
and every event that involved it.

Pure: it reads the books of the timeline through the date (lots and warrants, with the
same accrual and expiry rules as the other reports) and the timeline's events themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from events import (
    COMMON,
    ClosingCompleted,
    ConversionRequested,
    DividendDeclared,
    DividendForm,
    LedgerEvent,
    SharesRedeemed,
    WarrantsExercised,
)
from ledger.errors import NotFound
from ledger.terms import accrual_start
from projections.books import Books
from projections.mentions import outcome, parties, warrant_holders
from projections.reports import ZERO, holder_accrued, money_sum, warrant_outstanding


@dataclass(frozen=True, slots=True)
class HolderLot:
    series: str
    lot: str
    origin: str | None  # the lot it came from (by a transfer)
    closing: str | None
    issued_on: date
    accrual_start: date
    shares: int
    accrued_dividends: Decimal


@dataclass(frozen=True, slots=True)
class HolderWarrant:
    ref: str
    exercise_price: Decimal
    expires: date | None
    outstanding: int


@dataclass(frozen=True, slots=True)
class CommonReceived:
    conversions: int
    stock_dividends: int
    exercises: int
    closings: int
    total: int


@dataclass(frozen=True, slots=True)
class CashReceived:
    dividends: Decimal
    cash_in_lieu: Decimal
    redemptions: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class HolderEvent:
    position: int
    effective_date: date
    type: str
    summary: str


@dataclass(frozen=True, slots=True)
class HolderReport:
    as_of: date
    holder: str
    preferred: tuple[HolderLot, ...]
    warrants: tuple[HolderWarrant, ...]
    common_received: CommonReceived
    cash_received: CashReceived
    history: tuple[HolderEvent, ...]


def _summary(event: LedgerEvent, name: str) -> str:
    """What the event did for the holder: its own part of a closing or a dividend, else the
    event's outcome."""
    if isinstance(event, ClosingCompleted):
        bought = sum(a.shares for a in event.allocations if a.investor == name)
        return (f"{event.ref}: bought {bought:,} {event.security} at {event.price_per_share} "
                f"(of {event.shares:,})")
    if isinstance(event, DividendDeclared):
        paid = next(p for p in event.payments if p.holder == name)
        stock = f", {paid.common_shares:,} common, cash in lieu {paid.cash}" \
            if event.form == DividendForm.STOCK else ""
        return (f"{event.series} through {event.through}: {event.form} {paid.amount} "
                f"(of {event.amount}){stock}")
    return outcome(event)


def holder(books: Books, events: Iterable[LedgerEvent], name: str, on: date) -> HolderReport:
    """`books`: the books of the timeline through `on`; `events`: that timeline, in order."""
    timeline = [e for e in events if e.effective_date <= on]
    holders = warrant_holders(timeline)
    lots: list[HolderLot] = []
    for lot in sorted(books.lots.values(), key=lambda lot: lot.order):
        if lot.holder != name or lot.outstanding <= 0:
            continue
        series = books.series[lot.series]
        last = books.last_through(lot.series)
        lots.append(HolderLot(
            series=lot.series,
            lot=lot.id,
            origin=lot.origin or None,
            closing=lot.closing,
            issued_on=lot.issued_on,
            accrual_start=accrual_start(lot.issued_on, last),
            shares=lot.outstanding,
            accrued_dividends=holder_accrued(series, [lot], last, on),
        ))
    force = books.in_force()
    warrants = tuple(
        HolderWarrant(w.ref, force.exercise_price(w), w.expires, warrant_outstanding(w, on, force))
        for w in sorted(books.warrants.values(), key=lambda w: (w.issued_on, w.position))
        if w.holder == name
    )
    common = {"conversions": 0, "stock_dividends": 0, "exercises": 0, "closings": 0}
    cash = {"dividends": ZERO, "cash_in_lieu": ZERO, "redemptions": ZERO}
    history: list[HolderEvent] = []
    for event in timeline:
        if name not in parties(event, holders):
            continue
        history.append(HolderEvent(event.originator_version, event.effective_date,
                                   type(event).__name__, _summary(event, name)))
        if isinstance(event, ConversionRequested):
            common["conversions"] += event.common_shares
            cash["cash_in_lieu"] += event.cash_in_lieu
            cash["dividends"] += event.accrued_paid_in_cash
        elif isinstance(event, DividendDeclared):
            for payment in event.payments:
                if payment.holder != name:
                    continue
                common["stock_dividends"] += payment.common_shares
                cash["cash_in_lieu" if event.form == DividendForm.STOCK else "dividends"] += payment.cash
        elif isinstance(event, WarrantsExercised):
            common["exercises"] += event.common_shares
        elif isinstance(event, ClosingCompleted) and event.security == COMMON:
            common["closings"] += sum(a.shares for a in event.allocations if a.investor == name)
        elif isinstance(event, SharesRedeemed):
            cash["redemptions"] += event.total
    if not history:
        known = sorted({p for e in timeline for p in parties(e, holders)})
        raise NotFound(
            f"no holder {name!r} in the ledger on or before {on} (holders: "
            f"{', '.join(known) or 'none yet'}); give a name as recorded")
    return HolderReport(
        as_of=on,
        holder=name,
        preferred=tuple(lots),
        warrants=warrants,
        common_received=CommonReceived(**common, total=sum(common.values())),
        cash_received=CashReceived(**cash, total=money_sum(cash.values())),
        history=tuple(history),
    )
