"""What an event is called and whom it concerns: its own reference, the references it names,
the holders it involves and the outcome it computed, in words.

Every event has a reference of its own: the one it stores (a closing's, a warrant's, a
transfer's or a redemption's), a series' name for its designation, else one derived from its
position (`DV-0010` for the dividend at position 10): positions never change, so neither do
these. `record` prints them, `log --ref` finds them.
"""

from __future__ import annotations

from collections.abc import Iterable

from events import (
    ClosingCompleted,
    CommonOutstandingReported,
    ConversionRequested,
    DividendDeclared,
    EventReversed,
    LedgerEvent,
    SeriesAuthorizationIncreased,
    SeriesDesignated,
    SharesRedeemed,
    SharesTransferred,
    StockSplit,
    TermsAdjusted,
    WarrantsExercised,
    WarrantsIssued,
    WarrantsTransferred,
)

# The prefix of a reference derived from the position, for events that store none.
DERIVED: dict[type[LedgerEvent], str] = {
    SeriesAuthorizationIncreased: "AU",
    WarrantsExercised: "EX",
    DividendDeclared: "DV",
    ConversionRequested: "CV",
    CommonOutstandingReported: "CO",
    StockSplit: "SP",
    TermsAdjusted: "TA",
}


def reference_of(event: LedgerEvent) -> str:
    """The event's own reference (a reversal is named by the position it reverses)."""
    ref = getattr(event, "ref", None)
    if isinstance(ref, str):
        return ref
    if isinstance(event, SeriesDesignated):
        return event.series
    if isinstance(event, EventReversed):
        return f"position {event.reversed_position}"
    prefix = DERIVED.get(type(event))
    if prefix is None:
        return f"position {event.originator_version}"
    return f"{prefix}-{event.originator_version:04d}"


def refers_to(event: LedgerEvent) -> tuple[str, ...]:
    """The references an event names besides its own (the warrant exercised or assigned,
    the closing a warrant came with, the event a reversal reverses)."""
    if isinstance(event, WarrantsExercised):
        return (event.warrant,)
    if isinstance(event, WarrantsIssued):
        return (event.closing,) if event.closing else ()
    if isinstance(event, WarrantsTransferred):
        return (event.warrant, *((event.closing,) if event.closing else ()))
    if isinstance(event, TermsAdjusted):
        return (event.warrant,) if event.warrant is not None else ()
    if isinstance(event, EventReversed):
        return (reference_of(event.reversed), *refers_to(event.reversed))
    return ()


def series_of(event: LedgerEvent) -> str | None:
    if isinstance(event, ClosingCompleted):
        return event.security
    if isinstance(event, EventReversed):
        return series_of(event.reversed)
    series = getattr(event, "series", None)
    return series if isinstance(series, str) else None


def warrant_holders(events: Iterable[LedgerEvent]) -> dict[str, str]:
    """Warrant reference -> its holder (references are never reused)."""
    return {e.ref: e.holder for e in events if isinstance(e, WarrantsIssued | WarrantsTransferred)}


def parties(event: LedgerEvent, holders: dict[str, str]) -> tuple[str, ...]:
    """The holders an event involves (`holders`: `warrant_holders` of the ledger)."""
    if isinstance(event, ClosingCompleted):
        return tuple(a.investor for a in event.allocations)
    if isinstance(event, WarrantsIssued | ConversionRequested | SharesRedeemed):
        return (event.holder,)
    if isinstance(event, WarrantsExercised):
        return (holders[event.warrant],) if event.warrant in holders else ()
    if isinstance(event, DividendDeclared):
        return tuple(p.holder for p in event.payments)
    if isinstance(event, SharesTransferred):
        return event.from_holder, event.to_holder
    if isinstance(event, WarrantsTransferred):
        return event.from_holder, event.holder
    if isinstance(event, EventReversed):
        return parties(event.reversed, holders)
    return ()


def outcome(event: LedgerEvent) -> str:
    """What the event computed, in a few words (what a success line and a history say)."""
    if isinstance(event, SeriesAuthorizationIncreased):
        return f"{event.shares:,} more shares of {event.series}, now {event.authorized:,} authorized"
    if isinstance(event, ClosingCompleted):
        return (f"{event.shares:,} {event.security} at {event.price_per_share}, gross "
                f"{event.gross}, fees {event.fees}, net {event.net}")
    if isinstance(event, WarrantsIssued):
        return f"{event.holder}: {event.shares:,} common at {event.exercise_price}"
    if isinstance(event, WarrantsExercised):
        paid = "cashless" if event.cashless else f"proceeds {event.proceeds}"
        return f"{event.shares:,} of {event.warrant} exercised, {event.common_shares:,} common, {paid}"
    if isinstance(event, DividendDeclared):
        stock = (f", {event.common_shares:,} common, cash in lieu {event.cash}"
                 if event.form == "stock" else "")
        return (f"{event.series} through {event.through}: {event.form} {event.amount} to "
                f"{len(event.payments)} holder{'s' if len(event.payments) != 1 else ''}{stock}")
    if isinstance(event, ConversionRequested):
        paid = (f", accrued {event.accrued_paid_in_cash} paid in cash"
                if event.accrued_paid_in_cash else "")
        return (f"{event.holder} {event.shares:,} {event.series} -> {event.common_shares:,} "
                f"common (accrued {event.accrued}), cash in lieu {event.cash_in_lieu}{paid}")
    if isinstance(event, CommonOutstandingReported):
        return f"{event.shares:,} common outstanding"
    if isinstance(event, SharesTransferred):
        lots = ", ".join(f"{p.lot} ({p.shares:,})" for p in event.lots)
        return (f"{event.shares:,} {event.series} from {event.from_holder} to "
                f"{event.to_holder}, lots {lots}")
    if isinstance(event, WarrantsTransferred):
        return (f"{event.shares:,} of {event.warrant} from {event.from_holder} to "
                f"{event.holder} as {event.ref} at {event.exercise_price}")
    if isinstance(event, SharesRedeemed):
        return (f"{event.holder} {event.shares:,} {event.series} at {event.price_per_share}: "
                f"{event.amount} + accrued {event.accrued} = {event.total}")
    if isinstance(event, SeriesDesignated):
        return (f"stated {event.stated_value}, converts at {event.conversion_price}, "
                f"{event.dividend_rate}%, {event.authorized:,} authorized")
    if isinstance(event, EventReversed):
        return f"reverses position {event.reversed_position}: {event.reason}"
    return ""


def mentions(selected: Iterable[LedgerEvent], every: Iterable[LedgerEvent], *,
             holder: str | None = None, series: str | None = None,
             ref: str | None = None) -> list[LedgerEvent]:
    """The events of `selected` that involve `holder`, are of `series` and carry or name
    `ref` (each filter only when given); `every`: the whole ledger (whose warrants are
    whose)."""
    holders = warrant_holders(every) if holder is not None else {}
    return [
        e for e in selected
        if (holder is None or holder in parties(e, holders))
        and (series is None or series_of(e) == series)
        and (ref is None or ref == reference_of(e) or ref in refers_to(e))
    ]
