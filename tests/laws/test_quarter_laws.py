"""Laws of the CFO's quarter over random valid histories (hypothesis).

- weighted-average common lies between the period's least and greatest daily common
  outstanding (each day counted afresh, as `report summary --as-of` that day counts it);
- diluted EPS is never above basic EPS for a profit;
- the next dividend `report dividends` shows per holder is what `record dividend` through
  that date would pay on the holdings of the as-of date.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.calc import accrual_amount, accrual_numerator, cents
from ledger.commands import DeclareDividend, ReportCommonOutstanding
from ledger.state import LedgerState, timeline
from projections import reports
from projections.books import replay
from projections.dividends import dividends
from projections.eps import eps
from tests.laws.test_projections_properties import START, build, step
from tests.projections.test_projections import Book

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def with_baseline(specs: list[tuple[Any, ...]]) -> Book:
    book = build(specs)
    book.record(ReportCommonOutstanding(effective_date=START, shares=1_000_000))
    return book


histories = st.lists(step, min_size=4, max_size=25).map(with_baseline)
periods = st.tuples(st.integers(0, 450), st.integers(0, 120))
prices = st.sampled_from((Decimal("0.10"), Decimal("2.00"), Decimal("3.33"), Decimal("9.00")))


def daily_common(book: Book, start: date, end: date) -> list[int]:
    counts = []
    day = start
    while day <= end:
        baseline, issued = reports.common_outstanding(replay(book.events, day), day)
        assert baseline is not None
        counts.append(baseline.shares + issued)
        day += timedelta(days=1)
    return counts


@SETTINGS
@given(histories, periods, st.integers(-2_000_000, 5_000_000), prices)
def test_weighted_average_common_lies_between_the_least_and_greatest_day(
    book: Book, period: tuple[int, int], income: int, price: Decimal
) -> None:
    start = START + timedelta(days=period[0])
    end = start + timedelta(days=period[1])
    report = eps(timeline(book.events), start, end, Decimal(income), price)
    counts = daily_common(book, start, end)
    exact = Fraction(report.common_share_days, report.days)
    assert report.days == len(counts)
    assert report.common_share_days == sum(counts)
    assert min(counts) <= exact <= max(counts)
    assert min(counts) <= report.weighted_average_common <= max(counts)


@SETTINGS
@given(histories, periods, st.integers(1, 5_000_000), prices)
def test_diluted_eps_is_never_above_basic_for_a_profit(
    book: Book, period: tuple[int, int], income: int, price: Decimal
) -> None:
    start = START + timedelta(days=period[0])
    end = start + timedelta(days=period[1])
    report = eps(timeline(book.events), start, end, Decimal(income), price)
    assert report.diluted_eps <= report.basic_eps
    basic = Fraction(report.income_to_common) / report.common_share_days
    diluted = Fraction(report.diluted_income) / report.diluted_share_days
    assert diluted <= basic or report.income_to_common < 0
    if report.income_to_common < 0:
        assert report.dilutive == () and report.diluted_eps == report.basic_eps
    # every security is either dilutive or anti-dilutive, once
    named = [e.security for e in report.dilutive + report.anti_dilutive]
    assert len(named) == len(set(named))


@SETTINGS
@given(histories, st.integers(0, 520))
def test_the_next_dividend_is_what_record_dividend_would_pay(book: Book, offset: int) -> None:
    on = START + timedelta(days=offset)
    report = dividends(replay(book.events, on), on)
    (series,) = report.series
    state = LedgerState().apply_all(e for e in timeline(book.events) if e.effective_date <= on)
    _, payload = DeclareDividend(effective_date=on, series="A", through=series.next_through,
                                 form="cash").decide(state, len(book.events) + 1)
    paid = {p.holder: p.amount for p in payload["payments"]}
    shown = {h.holder: h.next_amount for h in series.holders}
    assert shown == paid
    assert series.next_amount == payload["amount"]


@SETTINGS
@given(histories, periods, prices)
def test_every_share_day_and_accrual_is_what_the_day_by_day_reports_say(
    book: Book, period: tuple[int, int], price: Decimal
) -> None:
    """The fold counts only what changed; counted afresh from each day's reports (`report
    preferred` and `report warrants --market-price` as of that day) it must come out the same."""
    start = START + timedelta(days=period[0])
    end = start + timedelta(days=period[1])
    report = eps(timeline(book.events), start, end, Decimal(1_000_000), price)
    share_days: dict[str, int] = {}
    numerator = Decimal(0)
    day = start
    while day <= end:
        books = replay(book.events, day)
        for s in reports.preferred(books, day).series:
            share_days[s.series] = share_days.get(s.series, 0) + s.as_converted_common
        for w in reports.warrants(books, day, price).warrants:
            if w.outstanding and w.market is not None:
                share_days[w.ref] = share_days.get(w.ref, 0) + w.market.treasury_shares
        # series A accrues actual/365: the day (d - 1, d] on the shares held at the end of d - 1
        before = day - timedelta(days=1)
        series = replay(book.events, before).series.get("A")
        if series is not None:
            held = sum(lot.outstanding for lot in replay(book.events, before).lots.values())
            numerator += accrual_numerator(held, series.stated_value, series.dividend_rate,
                                           before, day, series.day_count)
        day += timedelta(days=1)
    for entry in report.dilutive + report.anti_dilutive:
        assert entry.share_days == share_days.get(entry.security, 0), entry.security
    shown = {e.security for e in report.dilutive + report.anti_dilutive}
    assert {ref for ref, n in share_days.items() if n and ref != "A"} <= shown
    expected = cents(accrual_amount(numerator, "actual/365"))
    assert [p.amount for p in report.preferred] == ([expected] if "A" in shown else [])
