"""The books: the fold every report reads, from the timeline or from the materialized tables.

`apply(books, event)` folds one event in and `unapply(books, event)` takes it back out (what
an `EventReversed` does to the event it carries). Every figure the books keep is a sum or a
set keyed by the position of the event that produced it, so applying events in recording
order with reversals un-applied gives exactly the books of a replay of the timeline: that
law is what lets the materialized read model be caught up incrementally.

No I/O. For speed `apply` and `unapply` update the books they are given and return them;
the rows inside are frozen and replaced, never edited, so `copy()` is a cheap snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import singledispatch
from typing import Any, TypeVar

from events import (
    COMMON,
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
from ledger.calc import cents
from ledger.state import timeline
from ledger.terms import lot_id

CLOSING = "closing"
EXERCISE = "exercise"
REDEMPTION = "redemption"
TOTALS = "ledger"  # the key of the one row of running totals
ZERO = Decimal("0.00")
Row = TypeVar("Row")


def replace(row: Row, **changes: Any) -> Row:
    """`dataclasses.replace` for the frozen rows below, at a fraction of its cost (a read
    model build replaces a row per event): every field of theirs is set by `__init__` and
    none has a `__post_init__`, so a copy of the fields with `changes` applied is what
    `__init__` would build. Only names of fields are accepted."""
    new: Row = object.__new__(type(row))
    attrs = new.__dict__
    attrs.update(row.__dict__)
    for name, value in changes.items():
        if name not in attrs:
            raise TypeError(f"{type(row).__name__} has no field {name!r}")
        attrs[name] = value
    return new


@dataclass(frozen=True, kw_only=True)
class SeriesRow:
    series: str
    position: int
    designated_on: date
    stated_value: Decimal
    par_value: Decimal
    conversion_price: Decimal
    dividend_rate: Decimal
    cumulative: bool
    frequency: str
    dividend_form: str
    day_count: str
    convert_accrued: bool
    authorized: int
    issued: int = 0
    converted: int = 0
    anti_dilution: str = "none"
    price_floor: Decimal | None = None
    redeemed: int = 0

    @property
    def outstanding(self) -> int:
        return self.issued - self.converted - self.redeemed


@dataclass(frozen=True, kw_only=True)
class LotRow:
    """The shares one holder bought in one closing, or received by a transfer (`origin`:
    the lot they came from; `issued` is then the shares received, and the lot keeps its
    origin's closing and issue date). `converted` and `redeemed` of them are retired,
    `transferred` moved on to another holder's lot."""

    id: str
    series: str
    holder: str
    closing: str
    position: int
    seq: int  # the allocation's place in its closing, so holders keep the order recorded
    issued_on: date
    issued: int
    converted: int = 0
    redeemed: int = 0
    transferred: int = 0
    origin: str = ""

    @property
    def outstanding(self) -> int:
        return self.issued - self.converted - self.redeemed - self.transferred

    @property
    def order(self) -> tuple[date, int, int, str]:
        """Where the lot stands among the others: by issue date, closing and the order of its
        allocation; a transferred lot beside the one it came from (by id, so whatever order
        the lots were added in)."""
        return self.issued_on, self.position, self.seq, self.id


@dataclass(frozen=True, kw_only=True)
class DividendRow:
    position: int
    series: str
    declared_on: date
    through: date
    form: str
    amount: Decimal
    common_shares: int
    cash: Decimal  # the cash paid: the whole amount in cash, or the cash in lieu in stock


@dataclass(frozen=True, kw_only=True)
class WarrantRow:
    ref: str
    holder: str
    label: str
    closing: str | None
    position: int
    issued_on: date
    expires: date | None
    exercise_price: Decimal  # as issued (the price in force: `Books.in_force`)
    issued: int
    exercised: int = 0
    anti_dilution: str = "none"
    price_floor: Decimal | None = None
    # Shares received from (+) or assigned to (-) other warrants by transfers: a warrant
    # transferred to another holder is a new row with issued 0 and transferred +N, so the
    # issued total counts each instrument's shares once.
    transferred: int = 0
    exercisable_from: date | None = None
    ownership_cap: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class CapitalRow:
    """Cash in: a closing's proceeds or a cash exercise of warrants; cash out (a negative
    gross): a redemption."""

    position: int
    date: date
    source: str
    ref: str
    security: str
    gross: Decimal
    fees: Decimal
    net: Decimal


@dataclass(frozen=True, kw_only=True)
class CommonIssueRow:
    """Common stock issued by one of the ledger's own events."""

    position: int
    date: date
    source: str
    shares: int


@dataclass(frozen=True, kw_only=True)
class BaselineRow:
    position: int
    date: date
    shares: int


@dataclass(frozen=True, kw_only=True)
class TermsRow:
    """A price set on a series or warrant after its designation or issue: by a split, an
    anti-dilution adjustment or by hand (DOMAIN.md 12-14). `adjusted` is the warrant shares
    it added (negative: took away). The price in force is the latest row's (`in_force`)."""

    key: str
    position: int
    date: date
    instrument: str  # series | warrant
    name: str
    cause: str  # split | anti-dilution | adjustment
    price: Decimal
    adjusted: int


@dataclass(frozen=True, kw_only=True)
class TotalsRow:
    """Running sums over rows whose number grows with history, kept so that a current
    summary reads one row instead of every row: capital raised (each entry rounded to cents,
    as the capital report adds them), warrant shares issued and exercised, and common issued
    by the ledger's own events."""

    key: str = TOTALS
    capital_gross: Decimal = ZERO
    capital_fees: Decimal = ZERO
    capital_net: Decimal = ZERO
    warrants_issued: int = 0
    warrants_exercised: int = 0
    common_issued: int = 0


def _no_totals() -> dict[str, TotalsRow]:
    return {TOTALS: TotalsRow()}


@dataclass
class Books:
    series: dict[str, SeriesRow] = field(default_factory=dict)
    lots: dict[str, LotRow] = field(default_factory=dict)
    dividends: dict[int, DividendRow] = field(default_factory=dict)
    warrants: dict[str, WarrantRow] = field(default_factory=dict)
    capital: dict[int, CapitalRow] = field(default_factory=dict)
    common_issues: dict[int, CommonIssueRow] = field(default_factory=dict)
    baselines: dict[int, BaselineRow] = field(default_factory=dict)
    totals: dict[str, TotalsRow] = field(default_factory=_no_totals)
    terms: dict[str, TermsRow] = field(default_factory=dict)

    def copy(self) -> Books:
        return Books(
            series=dict(self.series),
            lots=dict(self.lots),
            dividends=dict(self.dividends),
            warrants=dict(self.warrants),
            capital=dict(self.capital),
            common_issues=dict(self.common_issues),
            baselines=dict(self.baselines),
            totals=dict(self.totals),
            terms=dict(self.terms),
        )

    def in_force(self) -> InForce:
        """The prices in force and the warrant shares adjusted, from the terms rows."""
        return in_force(self.terms.values())

    def last_through(self, series: str) -> date | None:
        throughs = [d.through for d in self.dividends.values() if d.series == series]
        return max(throughs) if throughs else None


@dataclass(frozen=True)
class InForce:
    """Of every series and warrant whose terms changed: the price in force (the latest
    change's, by date then position) and a warrant's shares adjusted (the sum)."""

    series_prices: dict[str, Decimal]
    warrant_prices: dict[str, Decimal]
    adjusted: dict[str, int]

    def conversion_price(self, series: SeriesRow) -> Decimal:
        return self.series_prices.get(series.series, series.conversion_price)

    def exercise_price(self, warrant: WarrantRow) -> Decimal:
        return self.warrant_prices.get(warrant.ref, warrant.exercise_price)

    def adjusted_shares(self, warrant: WarrantRow) -> int:
        return self.adjusted.get(warrant.ref, 0)


def in_force(rows: Iterable[TermsRow]) -> InForce:
    series: dict[str, Decimal] = {}
    warrants: dict[str, Decimal] = {}
    adjusted: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: (r.date, r.position)):
        (series if row.instrument == "series" else warrants)[row.name] = row.price
        if row.adjusted:
            adjusted[row.name] = adjusted.get(row.name, 0) + row.adjusted
    return InForce(series, warrants, adjusted)


# --- apply ---------------------------------------------------------------------------------


@singledispatch
def _apply(event: LedgerEvent, books: Books, sign: int) -> None:
    raise TypeError(f"no projection rule for {type(event).__name__}")


@_apply.register
def _designated(event: SeriesDesignated, books: Books, sign: int) -> None:
    if sign < 0:
        del books.series[event.series]
        return
    books.series[event.series] = SeriesRow(
        series=event.series,
        position=event.originator_version,
        designated_on=event.effective_date,
        stated_value=event.stated_value,
        par_value=event.par_value,
        conversion_price=event.conversion_price,
        dividend_rate=event.dividend_rate,
        cumulative=event.cumulative,
        frequency=event.frequency,
        dividend_form=event.dividend_form,
        day_count=event.day_count,
        convert_accrued=event.convert_accrued,
        authorized=event.authorized,
        anti_dilution=event.anti_dilution,
        price_floor=event.price_floor,
    )


@_apply.register
def _authorization(event: SeriesAuthorizationIncreased, books: Books, sign: int) -> None:
    row = books.series[event.series]
    books.series[event.series] = replace(row, authorized=row.authorized + sign * event.shares)


def _add_totals(books: Books, **deltas: int | Decimal) -> None:
    """The totals row with `deltas` added (a new row, as `replace` builds one: once per
    event, so without its checks; the names are TotalsRow's own)."""
    row = books.totals[TOTALS]
    new: TotalsRow = object.__new__(TotalsRow)
    attrs = new.__dict__
    attrs.update(row.__dict__)
    for name, delta in deltas.items():
        attrs[name] += delta
    books.totals[TOTALS] = new


def _capital(books: Books, row: CapitalRow, sign: int) -> None:
    if sign < 0:
        del books.capital[row.position]
    else:
        books.capital[row.position] = row
    _add_totals(books, capital_gross=sign * cents(row.gross), capital_fees=sign * cents(row.fees),
                capital_net=sign * cents(row.net))


def _common_issue(books: Books, event: LedgerEvent, source: str, shares: int, sign: int) -> None:
    position = event.originator_version
    if shares > 0:
        _add_totals(books, common_issued=sign * shares)
    if sign < 0:
        books.common_issues.pop(position, None)
    elif shares > 0:
        books.common_issues[position] = CommonIssueRow(
            position=position, date=event.effective_date, source=source, shares=shares
        )


@_apply.register
def _closing(event: ClosingCompleted, books: Books, sign: int) -> None:
    position = event.originator_version
    _capital(books, CapitalRow(
        position=position, date=event.effective_date, source=CLOSING, ref=event.ref,
        security=event.security, gross=event.gross, fees=event.fees, net=event.net,
    ), sign)
    if event.security == COMMON:
        _common_issue(books, event, CLOSING, event.shares, sign)
        _terms(event, books, sign)
        return
    row = books.series[event.security]
    books.series[event.security] = replace(row, issued=row.issued + sign * event.shares)
    for seq, allocation in enumerate(event.allocations):
        key = lot_id(event.ref, allocation.investor)
        if sign < 0:
            del books.lots[key]
        else:
            books.lots[key] = LotRow(
                id=key, series=event.security, holder=allocation.investor, closing=event.ref,
                position=position, seq=seq, issued_on=event.effective_date,
                issued=allocation.shares,
            )


@_apply.register
def _warrants(event: WarrantsIssued, books: Books, sign: int) -> None:
    _add_totals(books, warrants_issued=sign * event.shares)
    if sign < 0:
        del books.warrants[event.ref]
        return
    books.warrants[event.ref] = WarrantRow(
        ref=event.ref, holder=event.holder, label=event.label, closing=event.closing,
        position=event.originator_version, issued_on=event.effective_date,
        expires=event.expires, exercise_price=event.exercise_price, issued=event.shares,
        anti_dilution=event.anti_dilution, price_floor=event.price_floor,
        exercisable_from=event.exercisable_from, ownership_cap=event.ownership_cap,
    )


@_apply.register
def _warrant_transfer(event: WarrantsTransferred, books: Books, sign: int) -> None:
    row = books.warrants[event.warrant]
    books.warrants[event.warrant] = replace(row, transferred=row.transferred - sign * event.shares)
    if sign < 0:
        del books.warrants[event.ref]
        return
    books.warrants[event.ref] = WarrantRow(
        ref=event.ref, holder=event.holder, label=event.label, closing=event.closing,
        position=event.originator_version, issued_on=event.issued_on, expires=event.expires,
        exercise_price=event.exercise_price, issued=0, transferred=event.shares,
        exercisable_from=event.exercisable_from, ownership_cap=event.ownership_cap,
    )


@_apply.register
def _transfer(event: SharesTransferred, books: Books, sign: int) -> None:
    for part in event.lots:
        lot = books.lots[part.lot]
        books.lots[part.lot] = replace(lot, transferred=lot.transferred + sign * part.shares)
        if sign < 0:
            del books.lots[part.new_lot]
        else:
            books.lots[part.new_lot] = LotRow(
                id=part.new_lot, series=event.series, holder=event.to_holder,
                closing=part.closing, position=lot.position, seq=lot.seq,
                issued_on=part.issued_on, issued=part.shares, origin=part.lot,
            )


@_apply.register
def _redemption(event: SharesRedeemed, books: Books, sign: int) -> None:
    row = books.series[event.series]
    books.series[event.series] = replace(row, redeemed=row.redeemed + sign * event.shares)
    for part in event.lots:
        lot = books.lots[part.lot]
        books.lots[part.lot] = replace(lot, redeemed=lot.redeemed + sign * part.shares)
    _capital(books, CapitalRow(
        position=event.originator_version, date=event.effective_date, source=REDEMPTION,
        ref=event.ref, security=event.series, gross=-event.amount, fees=ZERO,
        net=-event.amount,
    ), sign)


@_apply.register
def _exercise(event: WarrantsExercised, books: Books, sign: int) -> None:
    position = event.originator_version
    row = books.warrants[event.warrant]
    books.warrants[event.warrant] = replace(row, exercised=row.exercised + sign * event.shares)
    _add_totals(books, warrants_exercised=sign * event.shares)
    if not event.cashless:
        _capital(books, CapitalRow(
            position=position, date=event.effective_date, source=EXERCISE,
            ref=event.warrant, security=COMMON, gross=event.proceeds,
            fees=ZERO, net=event.proceeds,
        ), sign)
    _common_issue(books, event, EXERCISE, event.common_shares, sign)


@_apply.register
def _dividend(event: DividendDeclared, books: Books, sign: int) -> None:
    position = event.originator_version
    if sign < 0:
        del books.dividends[position]
    else:
        books.dividends[position] = DividendRow(
            position=position, series=event.series, declared_on=event.effective_date,
            through=event.through, form=event.form, amount=event.amount,
            common_shares=event.common_shares, cash=event.cash,
        )
    _common_issue(books, event, "dividend", event.common_shares, sign)


@_apply.register
def _conversion(event: ConversionRequested, books: Books, sign: int) -> None:
    row = books.series[event.series]
    books.series[event.series] = replace(row, converted=row.converted + sign * event.shares)
    for part in event.lots:
        lot = books.lots[part.lot]
        books.lots[part.lot] = replace(lot, converted=lot.converted + sign * part.shares)
    _common_issue(books, event, "conversion", event.common_shares, sign)


def terms_key(position: int, instrument: str, name: str) -> str:
    return f"{position}/{instrument}/{name}"


def terms_changes(event: LedgerEvent) -> Iterator[tuple[str, str, str, Decimal, int]]:
    """(instrument, name, cause, new price, shares added) for each change of terms."""
    if isinstance(event, StockSplit):
        for s in event.series:
            yield "series", s.series, "split", s.new_price, 0
        for w in event.warrants:
            yield "warrant", w.warrant, "split", w.new_price, w.new_shares - w.old_shares
    elif isinstance(event, ClosingCompleted):
        for a in event.adjustments:
            added = (a.new_shares or 0) - (a.old_shares or 0)
            yield a.instrument, a.name, "anti-dilution", a.new_price, added
    elif isinstance(event, TermsAdjusted):
        if event.series is not None:
            yield "series", event.series, "adjustment", event.new_price, 0
        elif event.warrant is not None:
            added = (event.new_shares or 0) - (event.old_shares or 0)
            yield "warrant", event.warrant, "adjustment", event.new_price, added


def _terms(event: LedgerEvent, books: Books, sign: int) -> None:
    position = event.originator_version
    for instrument, name, cause, price, added in terms_changes(event):
        key = terms_key(position, instrument, name)
        if sign < 0:
            del books.terms[key]
        else:
            books.terms[key] = TermsRow(key=key, position=position, date=event.effective_date,
                                        instrument=instrument, name=name, cause=cause,
                                        price=price, adjusted=added)


@_apply.register
def _split(event: StockSplit, books: Books, sign: int) -> None:
    _terms(event, books, sign)
    position = event.originator_version
    if sign < 0:
        del books.baselines[position]
    else:  # the common outstanding just before it, split: a new baseline (DOMAIN.md 12)
        books.baselines[position] = BaselineRow(
            position=position, date=event.effective_date, shares=event.common_after)


@_apply.register
def _adjusted(event: TermsAdjusted, books: Books, sign: int) -> None:
    _terms(event, books, sign)


@_apply.register
def _baseline(event: CommonOutstandingReported, books: Books, sign: int) -> None:
    position = event.originator_version
    if sign < 0:
        del books.baselines[position]
    else:
        books.baselines[position] = BaselineRow(
            position=position, date=event.effective_date, shares=event.shares
        )


@_apply.register
def _reversal(event: EventReversed, books: Books, sign: int) -> None:
    if sign < 0:
        raise ValueError("a reversal is never reversed")
    _apply(event.reversed, books, -1)


def apply(books: Books, event: LedgerEvent) -> Books:
    """Fold one event in (an `EventReversed` takes its reversed event back out)."""
    _apply(event, books, 1)
    return books


def unapply(books: Books, event: LedgerEvent) -> Books:
    """Take one applied event back out."""
    _apply(event, books, -1)
    return books


def touches(event: LedgerEvent) -> Iterator[tuple[str, object]]:
    """Every row (attribute of `Books`, key) that applying or un-applying `event` reads or
    writes: what the read model loads before folding the event into its tables."""
    if isinstance(event, EventReversed):
        yield from touches(event.reversed)
        return
    position = event.originator_version
    yield "totals", TOTALS
    if isinstance(event, SeriesDesignated | SeriesAuthorizationIncreased):
        yield "series", event.series
    elif isinstance(event, ClosingCompleted):
        yield "capital", position
        yield "common_issues", position
        yield from _terms_touched(event)
        if event.security != COMMON:
            yield "series", event.security
            for allocation in event.allocations:
                yield "lots", lot_id(event.ref, allocation.investor)
    elif isinstance(event, WarrantsIssued):
        yield "warrants", event.ref
    elif isinstance(event, WarrantsExercised):
        yield "warrants", event.warrant
        yield "capital", position
        yield "common_issues", position
    elif isinstance(event, DividendDeclared):
        yield "dividends", position
        yield "common_issues", position
    elif isinstance(event, ConversionRequested):
        yield "series", event.series
        for part in event.lots:
            yield "lots", part.lot
        yield "common_issues", position
    elif isinstance(event, CommonOutstandingReported):
        yield "baselines", position
    elif isinstance(event, StockSplit):
        yield "baselines", position
        yield from _terms_touched(event)
    elif isinstance(event, TermsAdjusted):
        yield from _terms_touched(event)
    elif isinstance(event, SharesTransferred):
        for moved in event.lots:
            yield "lots", moved.lot
            yield "lots", moved.new_lot
    elif isinstance(event, SharesRedeemed):
        yield "series", event.series
        yield "capital", position
        for part in event.lots:
            yield "lots", part.lot
    elif isinstance(event, WarrantsTransferred):
        yield "warrants", event.warrant
        yield "warrants", event.ref
    else:
        raise TypeError(f"no projection rule for {type(event).__name__}")


def _terms_touched(event: LedgerEvent) -> Iterator[tuple[str, object]]:
    for instrument, name, _, _, _ in terms_changes(event):
        yield "terms", terms_key(event.originator_version, instrument, name)


def replay(events: Iterable[LedgerEvent], on: date | None = None) -> Books:
    """The books of the timeline of `events`, as of `on` (every event effective by then)."""
    books = Books()
    for event in timeline(events):
        if on is not None and event.effective_date > on:
            break
        apply(books, event)
    return books


def apply_in_recording_order(books: Books, events: Iterable[LedgerEvent]) -> Books:
    """What the incremental read model does: each event as recorded, reversals un-applying."""
    for event in events:
        apply(books, event)
    return books
