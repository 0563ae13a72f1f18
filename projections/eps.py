"""Earnings per share for a period (DOMAIN.md 18, ASC 260): basic and diluted, with the
if-converted and treasury-stock candidates in the order they are taken.

A pure fold: the timeline's events go through the books' own fold (`projections.books`), and
the period's days are read off the books between the dates where something changes. On each
day d of the period the common outstanding is what fully diluted counts on d
(`reports.common_outstanding`), a series' as-converted common what `report preferred` shows
on d (`reports.holder_as_converted` per holder), a warrant's incremental shares the
treasury-stock figure `report warrants` shows on d at the average price
(`reports.warrant_outstanding`, `calc.cashless_shares`); each is summed over the days as
share-days. Only the rows the events of a day touched are counted again. A cumulative
series' dividends of the period are the accrual (DOMAIN.md 3, `calc.accrual_numerator`) of
the shares outstanding over (D1 - 1 day, D2], interval by interval between the dates the
lots change.

Exact: share-days are integers, income a `Decimal`; every EPS is one division of the exact
income by the exact share-days, rounded half-up to cents only when reported. Share figures
are reported as whole shares, rounded half-up (`calc.nearest_shares`); a candidate is judged
and ordered on its exact share-days, never on the rounded figure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from events import CommonOutstandingReported, LedgerEvent
from ledger.calc import (
    EXACT,
    accrual_amount,
    accrual_numerator,
    cashless_shares,
    cents,
    nearest_shares,
)
from ledger.errors import InvalidInput, NotFound
from projections.books import Books, InForce, LotRow, WarrantRow, apply, in_force, touches
from projections.reports import (
    ZERO,
    common_outstanding,
    holder_as_converted,
    json_name,
    money_sum,
    warrant_outstanding,
)

SERIES = "series"
WARRANT = "warrant"
ONE_DAY = timedelta(days=1)


@dataclass
class Security:
    """A potential common security of the period: its share-days of incremental common and
    the income it would add back."""

    security: str
    kind: str  # SERIES or WARRANT
    order: int  # designation or issue order
    share_days: int = 0
    add_back: Decimal = ZERO
    outstanding_days: int = 0  # days it had shares outstanding in the period
    price: Decimal = ZERO  # conversion or exercise price (the latest seen)

    def per_share(self) -> Fraction:
        """Add-back per incremental share (the order candidates are taken in)."""
        return Fraction(self.add_back) / self.share_days


class _Days:
    """The timeline's events folded into books up to a day, one day's worth at a time, and
    the figures of a day kept counted: only the rows the folded events touched
    (`books.touches`) are counted again, so a day costs what changed, not the history."""

    def __init__(self, events: Iterable[LedgerEvent], average_price: Decimal) -> None:
        self.books = Books()
        self._events = iter(events)
        self._next: LedgerEvent | None = next(self._events, None)
        self._price = average_price
        self.common: int | None = None  # None: no baseline yet
        self.open_lots: dict[str, dict[str, LotRow]] = {}  # series -> its open lots
        self.as_converted: dict[str, int] = {}  # series -> as-converted common
        self.live: dict[str, tuple[WarrantRow, int]] = {}  # ref -> (row, treasury shares)
        self.force: InForce = in_force(())  # the prices in force (splits, adjustments)

    def through(self, day: date) -> bool:
        """Fold in every event effective on or before `day`, then count again what they
        touched; whether any was folded."""
        touched: dict[str, set[Any]] = {}
        while self._next is not None and self._next.effective_date <= day:
            apply(self.books, self._next)
            for attr, key in touches(self._next):
                touched.setdefault(attr, set()).add(key)
            self._next = next(self._events, None)
        if touched:
            self._count(touched, day)
        return bool(touched)

    def _count(self, touched: dict[str, set[Any]], day: date) -> None:
        books = self.books
        if touched.keys() & {"baselines", "common_issues"}:
            baseline, issued = common_outstanding(books, day)
            self.common = None if baseline is None else baseline.shares + issued
        series = set(touched.get("series", ()))
        warrants = set(touched.get("warrants", ()))
        if "terms" in touched:  # a price (or a warrant's shares) changed: count those again
            self.force = books.in_force()
            for key in touched["terms"]:
                change = books.terms.get(key)
                if change is not None:
                    (series if change.instrument == "series" else warrants).add(change.name)
        force = self.force
        for lot_id in touched.get("lots", ()):
            lot = books.lots.get(lot_id)
            if lot is None:
                continue
            series.add(lot.series)
            lots = self.open_lots.setdefault(lot.series, {})
            if lot.outstanding > 0:
                lots[lot_id] = lot
            else:
                lots.pop(lot_id, None)
        for name in series:
            row = books.series.get(name)
            if row is None:
                continue
            held: dict[str, int] = {}
            for lot in self.open_lots.get(name, {}).values():
                held[lot.holder] = held.get(lot.holder, 0) + lot.outstanding
            price = force.conversion_price(row)
            self.as_converted[name] = sum(holder_as_converted(row, n, price)
                                          for n in held.values())
        for ref in warrants:
            warrant = books.warrants.get(ref)
            outstanding = 0 if warrant is None else \
                warrant.issued - warrant.exercised + force.adjusted_shares(warrant)
            if warrant is None or outstanding <= 0:
                self.live.pop(ref, None)
            else:
                shares = cashless_shares(outstanding, force.exercise_price(warrant), self._price)
                self.live[ref] = (warrant, shares)

    def next_date(self) -> date | None:
        return self._next.effective_date if self._next is not None else None

    def rest(self) -> Iterator[LedgerEvent]:
        if self._next is not None:
            yield self._next
        yield from self._events

    def accrue(self, start: date, end: date, numerators: dict[str, Decimal]) -> None:
        """Add the accrual over (start, end] of every open lot of a cumulative series."""
        if end <= start:
            return
        for name, lots in self.open_lots.items():
            series = self.books.series[name]
            if not series.cumulative:
                continue
            for lot in lots.values():
                numerators[name] = numerators.get(name, Decimal(0)) + accrual_numerator(
                    lot.outstanding, series.stated_value, series.dividend_rate, start, end,
                    series.day_count)


@dataclass(frozen=True, slots=True)
class EpsPreferred:
    """A series' dividends of the period (accrued if cumulative, else declared)."""

    series: str
    cumulative: bool
    amount: Decimal


@dataclass(frozen=True, slots=True)
class EpsSecurity:
    """A candidate of diluted EPS, dilutive or not, and why."""

    security: str
    kind: str  # SERIES or WARRANT
    method: str
    price: Decimal
    incremental_shares: int
    share_days: int
    add_back: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class EpsReport:
    start: date = field(metadata=json_name("from"))
    end: date = field(metadata=json_name("to"))
    days: int
    average_price: Decimal
    net_income: Decimal
    preferred: tuple[EpsPreferred, ...]
    preferred_dividends: Decimal
    income_to_common: Decimal
    common_share_days: int
    weighted_average_common: int
    basic_eps: Decimal
    diluted_income: Decimal
    diluted_share_days: int
    diluted_weighted_average: int
    diluted_eps: Decimal
    dilutive: tuple[EpsSecurity, ...]
    anti_dilutive: tuple[EpsSecurity, ...]


def _no_baseline(start: date, days: _Days, end: date) -> NotFound:
    within = itertools.takewhile(lambda e: e.effective_date <= end, days.rest())
    later = next((e.effective_date for e in within if isinstance(e, CommonOutstandingReported)),
                 None)
    hint = (f"; the first one in the period is on {later}, so start the period on or after it"
            if later is not None else "")
    return NotFound(
        f"no common-outstanding baseline on or before {start}, the start of the period, so the "
        "weighted average common cannot be counted; record the common outstanding on or before "
        f"{start} with `finledger record common-outstanding N --date YYYY-MM-DD`{hint}")


def eps(
    events: Iterable[LedgerEvent], start: date, end: date, net_income: Decimal,
    average_price: Decimal,
) -> EpsReport:
    """Basic and diluted EPS from `start` to `end`, both included, from the timeline's
    events in timeline order (events after `end` are not read)."""
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start}); give --to on "
                           "or after --from")
    if average_price <= 0:
        raise InvalidInput("the average market price must be more than zero")
    if start == date.min:
        raise InvalidInput(f"a period cannot start on {start}, the calendar's first day; "
                           "give a later --from")
    period_days = (end - start).days + 1
    days = _Days(events, average_price)
    days.through(start - ONE_DAY)
    numerators: dict[str, Decimal] = {}  # cumulative series -> accrual numerator of the period
    accrued_from = start - ONE_DAY
    common_share_days = 0
    securities: dict[str, Security] = {}
    day = start
    while True:
        if days.next_date() == day:  # the books change today: accrue on yesterday's first
            days.accrue(accrued_from, day, numerators)
            accrued_from = day
            days.through(day)
        books = days.books
        if days.common is None:
            raise _no_baseline(start, days, end)
        for ref, (warrant, _) in list(days.live.items()):
            if warrant_outstanding(warrant, day, days.force) == 0:
                del days.live[ref]  # expired: it stays out for the rest of the period
        # the books stay as they are until the next event, and no warrant lapses before the
        # day after its expiry: every day to `last` counts the same
        last = end
        upcoming = days.next_date()
        if upcoming is not None and upcoming - ONE_DAY < last:
            last = upcoming - ONE_DAY
        for warrant, _ in days.live.values():
            if warrant.expires is not None and warrant.expires < last:
                last = warrant.expires
        length = (last - day).days + 1
        common_share_days += days.common * length
        for name, row in books.series.items():
            sec = securities.setdefault(name, Security(name, SERIES, row.position))
            sec.price = days.force.conversion_price(row)
            sec.share_days += days.as_converted.get(name, 0) * length
            if days.open_lots.get(name):
                sec.outstanding_days += length
        for ref, (warrant, shares) in days.live.items():
            sec = securities.setdefault(ref, Security(ref, WARRANT, warrant.position))
            sec.price = days.force.exercise_price(warrant)
            sec.share_days += shares * length
            sec.outstanding_days += length
        if last == end:
            break
        day = last + ONE_DAY
    days.accrue(accrued_from, end, numerators)
    books = days.books

    preferred_rows: list[EpsPreferred] = []
    for name, series in sorted(books.series.items(), key=lambda item: item[1].position):
        if series.cumulative:
            amount = cents(accrual_amount(numerators.get(name, Decimal(0)), series.day_count))
        else:
            amount = money_sum(d.amount for d in books.dividends.values()
                               if d.series == name and start <= d.declared_on <= end)
        held = securities.get(name)
        if held is None:
            continue
        if held.outstanding_days == 0 and amount == 0:
            del securities[name]  # nothing outstanding in the period, and nothing to add back
            continue
        held.add_back = amount
        preferred_rows.append(EpsPreferred(name, series.cumulative, amount))
    preferred_total = money_sum(p.amount for p in preferred_rows)
    to_common = EXACT.subtract(net_income, preferred_total)

    def per_share(income: Decimal, share_days: int) -> Decimal:
        return cents(EXACT.divide(EXACT.multiply(income, Decimal(period_days)),
                                  Decimal(share_days)))

    # The candidates, in the order DOMAIN.md 18 takes them: add-back per incremental share,
    # lowest first (warrants add nothing back), then warrants before series, then by age.
    ranked = sorted(securities.values(), key=lambda s: (s.kind == SERIES, s.order))
    candidates = sorted((s for s in ranked if s.share_days > 0),
                        key=lambda s: (s.per_share(), s.kind == SERIES))
    dilutive: list[tuple[Security, str]] = []
    excluded: list[tuple[Security, str]] = []
    income, share_days = to_common, common_share_days
    loss = to_common < 0
    for sec in candidates:
        if loss:
            excluded.append((sec, "loss to common: every candidate is anti-dilutive"))
        # (income + a) / (W + s) < income / W, both share-days positive
        elif EXACT.multiply(EXACT.add(income, sec.add_back), Decimal(share_days)) < \
                EXACT.multiply(income, Decimal(share_days + sec.share_days)):
            dilutive.append((sec, "lowers diluted EPS"))
            income = EXACT.add(income, sec.add_back)
            share_days += sec.share_days
        else:
            excluded.append((sec, "would not lower diluted EPS"))
    for sec in ranked:
        if sec.share_days == 0:
            reason = ("out of the money at the average price" if sec.kind == WARRANT
                      and sec.price >= average_price else "no incremental shares")
            excluded.append((sec, reason))

    def entry(sec: Security, reason: str) -> EpsSecurity:
        return EpsSecurity(
            security=sec.security,
            kind=sec.kind,
            method="if-converted" if sec.kind == SERIES else "treasury-stock",
            price=sec.price,
            incremental_shares=nearest_shares(sec.share_days, period_days),
            share_days=sec.share_days,
            add_back=sec.add_back,
            reason=reason,
        )

    return EpsReport(
        start=start,
        end=end,
        days=period_days,
        average_price=average_price,
        net_income=cents(net_income),
        preferred=tuple(preferred_rows),
        preferred_dividends=preferred_total,
        income_to_common=cents(to_common),
        common_share_days=common_share_days,
        weighted_average_common=nearest_shares(common_share_days, period_days),
        basic_eps=per_share(to_common, common_share_days),
        diluted_income=cents(income),
        diluted_share_days=share_days,
        diluted_weighted_average=nearest_shares(share_days, period_days),
        diluted_eps=per_share(income, share_days),
        dilutive=tuple(entry(sec, reason) for sec, reason in dilutive),
        anti_dilutive=tuple(entry(sec, reason) for sec, reason in excluded),
    )


__all__ = ["EpsPreferred", "EpsReport", "EpsSecurity", "eps"]
