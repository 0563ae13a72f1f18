"""What falls due on each series (DOMAIN.md 17): the next scheduled dividend per holder,
arrears of scheduled periods not declared, and what was paid to date.

A pure function of the books as of a date. The amounts are the ones `record dividend` would
pay (`reports.holder_dividend`, the accrual of DOMAIN.md 3-4 on the holdings of the date), and
a stock preview splits each holder's amount as a stock dividend does (`calc.stock_payment`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from events import STOCK_FORMS, DividendForm
from ledger.calc import stock_payment
from ledger.schedule import period_end_after, period_end_before, period_end_on_or_after
from projections.books import Books, LotRow, SeriesRow
from projections.reports import MERGED, OMITTED, ZERO, holder_dividend, money_sum


def next_through(frequency: str, on: date, last_through: date | None) -> date:
    """The first period end on or after `on` that is after the last through date declared."""
    scheduled = period_end_on_or_after(frequency, on)
    if last_through is not None and scheduled <= last_through:
        return period_end_after(frequency, last_through)
    return scheduled


def arrears_through(series: SeriesRow, on: date, last_through: date | None) -> date | None:
    """The latest period end before `on` when it is after the last through date and the
    series is cumulative (what is in arrears accrued through it); else None (also when that
    period ended before the series was designated: no period of it has passed)."""
    if not series.cumulative:
        return None
    end = period_end_before(series.frequency, on)
    if end is None or end <= series.designated_on:
        return None
    return end if last_through is None or end > last_through else None


def _holder_lots(books: Books, series: str) -> dict[str, list[LotRow]]:
    """Each holder's open lots of a series on the books' date, oldest first."""
    by_holder: dict[str, list[LotRow]] = {}
    ordered = sorted(books.lots.values(), key=lambda lot: lot.order)
    for lot in ordered:
        if lot.series == series and lot.outstanding > 0:
            by_holder.setdefault(lot.holder, []).append(lot)
    return by_holder


@dataclass(frozen=True, slots=True)
class StockPreview:
    """What the next dividend would issue paid in stock at the price asked for (both None
    for a series that pays cash only)."""

    next_common_shares: int | None
    next_cash_in_lieu: Decimal | None


@dataclass(frozen=True, slots=True)
class DividendHolder:
    holder: str
    next_amount: Decimal
    arrears: Decimal
    preview: StockPreview | None = field(metadata=MERGED)


@dataclass(frozen=True, slots=True)
class DividendSeries:
    series: str
    frequency: str
    cumulative: bool
    dividend_rate: Decimal
    dividend_form: str
    last_through: date | None
    next_through: date
    next_amount: Decimal
    arrears_through: date | None
    arrears: Decimal
    dividends_declared: int
    paid_cash: Decimal
    paid_common_shares: int
    paid_cash_in_lieu: Decimal
    holders: tuple[DividendHolder, ...]
    preview: StockPreview | None = field(metadata=MERGED)


@dataclass(frozen=True, slots=True)
class DividendTotals:
    next_amount: Decimal
    arrears: Decimal
    paid_cash: Decimal
    paid_cash_in_lieu: Decimal
    paid_common_shares: int
    preview: StockPreview | None = field(metadata=MERGED)


@dataclass(frozen=True, slots=True)
class DividendsReport:
    as_of: date
    series: tuple[DividendSeries, ...]
    totals: DividendTotals
    price: Decimal | None = field(metadata=OMITTED)


def _preview(amount: Decimal, price: Decimal | None, allowed: bool) -> StockPreview | None:
    if price is None:
        return None
    return StockPreview(*stock_payment(amount, price)) if allowed else StockPreview(None, None)


def _previews(rows: Sequence[DividendHolder | DividendSeries], price: Decimal | None,
              allowed: bool = True) -> StockPreview | None:
    """The previews of `rows` summed (none for a series that pays cash only)."""
    if price is None:
        return None
    if not allowed:
        return StockPreview(None, None)
    shown = [row.preview for row in rows if row.preview is not None]
    return StockPreview(sum(p.next_common_shares or 0 for p in shown),
                        money_sum(p.next_cash_in_lieu or ZERO for p in shown))


def dividends(books: Books, on: date, price: Decimal | None = None) -> DividendsReport:
    """Per series as of `on`: frequency, last and next through dates, the next dividend and
    the arrears per holder, and the dividends declared to date by form. With `price`, the
    common a stock dividend at that price would issue for the next dividend, and the cash in
    lieu (None for a series that pays cash only)."""
    rows: list[DividendSeries] = []
    for series in sorted(books.series.values(), key=lambda s: (s.designated_on, s.position)):
        last = books.last_through(series.series)
        upcoming = next_through(series.frequency, on, last)
        behind = arrears_through(series, on, last)
        allowed = series.dividend_form in STOCK_FORMS
        holders = []
        for holder, lots in _holder_lots(books, series.series).items():
            amount = holder_dividend(series, lots, last, upcoming)
            holders.append(DividendHolder(
                holder=holder,
                next_amount=amount,
                arrears=ZERO if behind is None else holder_dividend(series, lots, last, behind),
                preview=_preview(amount, price, allowed),
            ))
        paid = [d for d in books.dividends.values()
                if d.series == series.series and d.declared_on <= on]
        rows.append(DividendSeries(
            series=series.series,
            frequency=series.frequency,
            cumulative=series.cumulative,
            dividend_rate=series.dividend_rate,
            dividend_form=series.dividend_form,
            last_through=last,
            next_through=upcoming,
            next_amount=money_sum(h.next_amount for h in holders),
            arrears_through=behind,
            arrears=money_sum(h.arrears for h in holders),
            dividends_declared=len(paid),
            paid_cash=money_sum(d.cash for d in paid if d.form == DividendForm.CASH),
            paid_common_shares=sum(d.common_shares for d in paid),
            paid_cash_in_lieu=money_sum(d.cash for d in paid if d.form == DividendForm.STOCK),
            holders=tuple(holders),
            preview=_previews(holders, price, allowed),
        ))
    totals = DividendTotals(
        next_amount=money_sum(s.next_amount for s in rows),
        arrears=money_sum(s.arrears for s in rows),
        paid_cash=money_sum(s.paid_cash for s in rows),
        paid_cash_in_lieu=money_sum(s.paid_cash_in_lieu for s in rows),
        paid_common_shares=sum(s.paid_common_shares for s in rows),
        preview=_previews(rows, price),
    )
    return DividendsReport(as_of=on, series=tuple(rows), totals=totals, price=price)
