"""The projection folds against a small history whose every figure is computed by hand.

History (series A: stated 1,000, converts at 2.00, 10% cumulative, actual/365):

  1 2020-01-01 series A designated, 100 authorized
  2 2020-01-01 closing C1: X 30, Y 20 (gross 50,000.00, fees 1,500.00)
  3 2020-01-01 warrant W1 to X: 10,000 at 2.50, expires 2021-01-01, with C1
  4 2020-01-01 warrant W2 to Y: 5,000 at 4.00, no expiry
  5 2020-01-15 common outstanding 1,000,000
  6 2020-04-01 closing C2: X 10 (gross 10,000.00)
  7 2020-06-01 W1 exercised for cash: 3,000 (7,500.00, 3,000 common)
  8 2020-07-01 dividend through 2020-06-30, cash
  9 2020-08-15 Y converts 5
 10 2020-09-01 W2 exercised cashless: 1,000 at market 5.00 (floor(1,000 x 1 / 5) = 200 common)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from events import EventReversed, LedgerEvent
from ledger.commands import (
    Command,
    DeclareDividend,
    DesignateSeries,
    ExerciseWarrants,
    IssueWarrants,
    RecordClosing,
    ReportCommonOutstanding,
    RequestConversion,
)
from ledger.errors import InvariantViolation
from ledger.state import LedgerState, reversed_positions, timeline
from projections import reports
from projections.books import Books, apply_in_recording_order, replay

D = date.fromisoformat


class Book:
    """An in-memory ledger that decides and checks commands as the service does, no store:
    a command is decided on the timeline up to its date, then the whole timeline with it
    inserted must hold."""

    def __init__(self) -> None:
        self.events: list[LedgerEvent] = []

    def _envelope(self, cls: type[LedgerEvent], on: date, payload: dict[str, Any]) -> LedgerEvent:
        return cls(originator_id=UUID(int=0), originator_version=len(self.events) + 1,
                   effective_date=on, recorded_at=datetime(2024, 1, 1, tzinfo=UTC),
                   actor="test", prev_hash="", hash="", **payload)

    def record(self, command: Command) -> LedgerEvent:
        on = command.effective_date
        state = LedgerState().apply_all(e for e in timeline(self.events) if e.effective_date <= on)
        cls, payload = command.decide(state, len(self.events) + 1)
        event = self._envelope(cls, on, payload)
        LedgerState().apply_all(timeline([*self.events, event]))
        self.events.append(event)
        return event

    def reverse(self, position: int) -> LedgerEvent:
        target = self.events[position - 1]
        if isinstance(target, EventReversed) or position in reversed_positions(self.events):
            raise InvariantViolation(f"position {position} cannot be reversed")
        LedgerState().apply_all(
            timeline(e for e in self.events if e.originator_version != position))
        on = max(e.effective_date for e in self.events)
        event = self._envelope(EventReversed, on, {
            "reversed_position": position, "reason": "test", "reversed": target})
        self.events.append(event)
        return event


def series_a(on: str = "2020-01-01") -> DesignateSeries:
    return DesignateSeries(
        effective_date=D(on), series="A", stated_value=Decimal("1000"),
        conversion_price=Decimal("2.00"), dividend_rate=Decimal("10"), authorized=100,
    )


def history() -> Book:
    book = Book()
    book.record(series_a())
    book.record(RecordClosing(effective_date=D("2020-01-01"), security="A",
                              investors=(("X", 30), ("Y", 20)), fees=Decimal("1500"), ref="C1"))
    book.record(IssueWarrants(effective_date=D("2020-01-01"), holder="X", shares=10_000,
                              exercise_price=Decimal("2.50"), expires=D("2021-01-01"),
                              closing="C1", ref="W1", label="A-1"))
    book.record(IssueWarrants(effective_date=D("2020-01-01"), holder="Y", shares=5_000,
                              exercise_price=Decimal("4.00"), ref="W2"))
    book.record(ReportCommonOutstanding(effective_date=D("2020-01-15"), shares=1_000_000))
    book.record(RecordClosing(effective_date=D("2020-04-01"), security="A",
                              investors=(("X", 10),), ref="C2"))
    book.record(ExerciseWarrants(effective_date=D("2020-06-01"), warrant="W1", shares=3_000))
    book.record(DeclareDividend(effective_date=D("2020-07-01"), series="A",
                                through=D("2020-06-30"), form="cash"))
    book.record(RequestConversion(effective_date=D("2020-08-15"), series="A", holder="Y",
                                  shares=5))
    book.record(ExerciseWarrants(effective_date=D("2020-09-01"), warrant="W2", shares=1_000,
                                 cashless=True, market_price=Decimal("5.00")))
    return book


@pytest.fixture
def book() -> Book:
    return history()


def holders(report: reports.PreferredReport) -> dict[str, reports.PreferredHolder]:
    return {h.holder: h for h in report.series[0].holders}


def test_the_history_decided_what_the_docstring_says(book: Book) -> None:
    dividend, conversion = book.events[7], book.events[8]
    # X: (30 x 1000 x 10 x 181 + 10 x 1000 x 10 x 90) / 36,500 = 1,734.2465... -> 1,734.25
    # Y: 20 x 1000 x 10 x 181 / 36,500 = 991.7808... -> 991.78
    assert [(p.holder, p.amount) for p in dividend.payments] == [  # type: ignore[attr-defined]
        ("X", Decimal("1734.25")), ("Y", Decimal("991.78"))]
    # 5 x 1000 x 10 x 46 / 36,500 = 63.0136... -> 63.01; (5,000 + 63.01) / 2 -> 2,531 common
    assert conversion.common_shares == 2_531  # type: ignore[attr-defined]


def test_preferred_at_year_end(book: Book) -> None:
    report = reports.preferred(replay(book.events, D("2020-12-31")), D("2020-12-31"))
    series = report.series[0]
    assert (series.authorized, series.issued, series.converted,
            series.outstanding) == (100, 60, 5, 55)
    x, y = holders(report)["X"], holders(report)["Y"]
    assert (x.issued, x.converted, x.outstanding) == (40, 0, 40)
    assert (y.issued, y.converted, y.outstanding) == (20, 5, 15)
    assert x.stated_value_outstanding == Decimal("40000.00")
    assert y.stated_value_outstanding == Decimal("15000.00")
    # Accrual starts at the last through date, 2020-06-30: 184 days to 2020-12-31.
    # X: 40 x 1000 x 10 x 184 / 36,500 = 2,016.4383... ; Y: 15 x ... = 756.1643...
    assert x.accrued_dividends == Decimal("2016.44")
    assert y.accrued_dividends == Decimal("756.16")
    assert series.accrued_dividends == Decimal("2772.60")
    # As-converted: 40,000 / 2.00 and 15,000 / 2.00
    assert (x.as_converted_common, y.as_converted_common) == (20_000, 7_500)
    assert report.totals == reports.PreferredTotals(
        outstanding=55, stated_value_outstanding=Decimal("55000.00"),
        accrued_dividends=Decimal("2772.60"), as_converted_common=27_500,
    )
    assert series.dividends_through == D("2020-06-30")


def test_preferred_between_events(book: Book) -> None:
    # 2020-05-15: after C2, before the dividend. X: C1 lot 135 days, C2 lot 44 days.
    # X: (30 x 1000 x 10 x 135 + 10 x 1000 x 10 x 44) / 36,500 = 1,230.1369... -> 1,230.14
    # Y: 20 x 1000 x 10 x 135 / 36,500 = 739.7260... -> 739.73
    report = reports.preferred(replay(book.events, D("2020-05-15")), D("2020-05-15"))
    assert holders(report)["X"].accrued_dividends == Decimal("1230.14")
    assert holders(report)["Y"].accrued_dividends == Decimal("739.73")
    assert report.totals.accrued_dividends == Decimal("1969.87")
    assert report.totals.outstanding == 60
    # Before C2: 9 days of C1. X: 30 x 1000 x 10 x 9 / 36,500 = 73.972... ; Y: 49.315...
    early = reports.preferred(replay(book.events, D("2020-01-10")), D("2020-01-10"))
    assert holders(early)["X"].accrued_dividends == Decimal("73.97")
    assert holders(early)["Y"].accrued_dividends == Decimal("49.32")


def test_accrued_agrees_with_the_ledger_fold(book: Book) -> None:
    on = D("2020-10-20")
    state = LedgerState().apply_all(e for e in timeline(book.events) if e.effective_date <= on)
    series = state.series["A"]
    report = reports.preferred(replay(book.events, on), on)
    for holder, row in holders(report).items():
        expected = series.accrued(series.holder_lots(holder), on).quantize(Decimal("0.01"))
        assert row.accrued_dividends == expected


def test_non_cumulative_series_shows_no_accrued() -> None:
    book = Book()
    book.record(replace(series_a(), cumulative=False))
    book.record(RecordClosing(effective_date=D("2020-01-01"), security="A",
                              investors=(("X", 10),)))
    report = reports.preferred(replay(book.events), D("2020-12-31"))
    assert report.totals.accrued_dividends == Decimal("0.00")
    assert report.totals.outstanding == 10


def test_warrants_and_expiry(book: Book) -> None:
    report = reports.warrants(replay(book.events, D("2020-12-31")), D("2020-12-31"))
    w1, w2 = report.warrants
    assert (w1.issued, w1.exercised, w1.expired, w1.outstanding) == (10_000, 3_000, 0, 7_000)
    assert w1.potential_proceeds == Decimal("17500.00")  # 7,000 x 2.50
    assert (w2.issued, w2.exercised, w2.expired, w2.outstanding) == (5_000, 1_000, 0, 4_000)
    assert w2.potential_proceeds == Decimal("16000.00")  # 4,000 x 4.00
    assert report.totals.outstanding == 11_000
    assert report.totals.potential_proceeds == Decimal("33500.00")
    assert [(p.exercise_price, p.outstanding) for p in report.by_price] == [
        (Decimal("2.50"), 7_000), (Decimal("4.00"), 4_000)]
    assert [(c.closing, c.sums.outstanding) for c in report.by_closing] == [
        ("C1", 7_000), (None, 4_000)]
    # On its expiry date W1 is still outstanding; the day after, what is left has lapsed.
    on_expiry = reports.warrants(replay(book.events, D("2021-01-01")), D("2021-01-01"))
    assert on_expiry.warrants[0].outstanding == 7_000
    after = reports.warrants(replay(book.events, D("2021-01-02")), D("2021-01-02"))
    assert (after.warrants[0].expired, after.warrants[0].outstanding) == (7_000, 0)
    assert after.warrants[0].potential_proceeds == Decimal("0.00")
    assert after.totals.outstanding == 4_000
    assert after.totals.expired == 7_000


def test_warrants_at_a_market_price(book: Book) -> None:
    on = D("2020-12-31")
    report = reports.warrants(replay(book.events, on), on, Decimal("3.00"))
    w1, w2 = report.warrants
    # W1 at 2.50 is in the money at 3.00: floor(7,000 x 0.50 / 3.00) = floor(1,166.67) = 1,166
    assert w1.market == reports.InTheMoney(in_the_money=7_000, treasury_shares=1_166)
    assert w2.market == reports.InTheMoney(in_the_money=0, treasury_shares=0)
    assert report.totals.market == reports.InTheMoney(in_the_money=7_000, treasury_shares=1_166)


def test_capital_entries_periods_and_since(book: Book) -> None:
    on = D("2020-12-31")
    report = reports.capital(replay(book.events, on), on, by="quarter")
    assert [(e.date, e.source, e.ref, e.gross, e.fees, e.net,
             e.cumulative_gross) for e in report.entries] == [
        (D("2020-01-01"), "closing", "C1", Decimal("50000.00"), Decimal("1500.00"),
         Decimal("48500.00"), Decimal("50000.00")),
        (D("2020-04-01"), "closing", "C2", Decimal("10000.00"), Decimal("0.00"),
         Decimal("10000.00"), Decimal("60000.00")),
        (D("2020-06-01"), "exercise", "W1", Decimal("7500.00"), Decimal("0.00"),
         Decimal("7500.00"), Decimal("67500.00")),
    ]  # the cashless exercise of W2 brought no cash and is not capital
    assert report.periods == (
        reports.CapitalPeriod("2020-Q1", reports.CapitalTotals(
            Decimal("50000.00"), Decimal("1500.00"), Decimal("48500.00"))),
        reports.CapitalPeriod("2020-Q2", reports.CapitalTotals(
            Decimal("17500.00"), Decimal("0.00"), Decimal("17500.00"))),
    )
    assert report.totals == reports.CapitalTotals(gross=Decimal("67500.00"),
                                                  fees=Decimal("1500.00"),
                                                  net=Decimal("66000.00"))
    monthly = reports.capital(replay(book.events, on), on, by="month")
    assert [p.period for p in monthly.periods] == ["2020-01", "2020-04", "2020-06"]
    yearly = reports.capital(replay(book.events, on), on, by="year")
    assert [(p.period, p.sums.gross) for p in yearly.periods] == [("2020", Decimal("67500.00"))]
    since = reports.capital(replay(book.events, on), on, since=D("2020-03-01"))
    assert [e.ref for e in since.entries] == ["C2", "W1"]
    assert since.entries[0].cumulative_gross == Decimal("60000.00")  # counts C1 too
    assert since.totals.gross == Decimal("17500.00")
    between = reports.capital(replay(book.events, D("2020-05-15")), D("2020-05-15"))
    assert between.totals.gross == Decimal("60000.00")


def test_fully_diluted(book: Book) -> None:
    on = D("2020-12-31")
    fd = reports.summary(replay(book.events, on), on).fully_diluted
    # 1,000,000 reported on 2020-01-15, then 3,000 (exercise) + 2,531 (conversion)
    # + 200 (cashless exercise) issued by the ledger after it.
    assert fd.issued_since_baseline == 5_731
    assert fd.common_outstanding == 1_005_731
    assert fd.as_converted_preferred == 27_500
    assert fd.warrants == 11_000
    assert fd.total == 1_044_231
    early = reports.summary(replay(book.events, D("2020-01-10")), D("2020-01-10")).fully_diluted
    # No baseline yet: 0 common, C1's 50 shares as converted (25,000), 15,000 warrant shares.
    assert (early.common_outstanding, early.as_converted_preferred, early.warrants,
            early.total) == (0, 25_000, 15_000, 40_000)


def test_reversal_takes_an_event_back_out(book: Book) -> None:
    book.reverse(7)  # the cash exercise of W1
    on = D("2020-12-31")
    books = replay(book.events, on)
    w1 = reports.warrants(books, on).warrants[0]
    assert (w1.exercised, w1.outstanding) == (0, 10_000)
    cap = reports.capital(books, on)
    assert [e.ref for e in cap.entries] == ["C1", "C2"]
    assert cap.totals.gross == Decimal("60000.00")
    fd = reports.summary(books, on).fully_diluted
    assert fd.common_outstanding == 1_002_731  # 2,531 + 200 issued since the baseline
    assert apply_in_recording_order(Books(), book.events) == books


def test_back_dated_closing_takes_its_place_in_the_timeline(book: Book) -> None:
    book.record(RecordClosing(effective_date=D("2020-07-15"), security="A",
                              investors=(("Z", 10),), ref="C3"))
    on = D("2020-12-31")
    books = replay(book.events, on)
    # Z: 10 x 1000 x 10 x 169 / 36,500 = 463.0136... -> 463.01
    assert holders(reports.preferred(books, on))["Z"].accrued_dividends == Decimal("463.01")
    cap = reports.capital(books, on)
    assert [(e.ref, e.cumulative_gross) for e in cap.entries] == [
        ("C1", Decimal("50000.00")), ("C2", Decimal("60000.00")), ("W1", Decimal("67500.00")),
        ("C3", Decimal("77500.00"))]
    # As of a date before its effective date, the back-dated closing is not there yet.
    assert reports.capital(replay(book.events, D("2020-07-14")), D("2020-07-14")).totals.gross \
        == Decimal("67500.00")


def test_common_closing_counts_as_common_issued() -> None:
    book = Book()
    book.record(ReportCommonOutstanding(effective_date=D("2020-01-01"), shares=500))
    book.record(RecordClosing(effective_date=D("2020-01-01"), security="common",
                              investors=(("Q", 100),), price_per_share=Decimal("1.25")))
    book.record(RecordClosing(effective_date=D("2020-02-01"), security="common",
                              investors=(("Q", 40),), price_per_share=Decimal("1.25")))
    summary = reports.summary(replay(book.events), D("2020-03-01"))
    # Only common issued after the baseline's date adds to it: 500 + 40.
    assert summary.fully_diluted.common_outstanding == 540
    assert summary.capital.gross == Decimal("175.00")  # 140 x 1.25


def test_json_form() -> None:
    book = history()
    on = D("2020-12-31")
    data = reports.to_json(reports.capital(replay(book.events, on), on))
    assert data["as_of"] == "2020-12-31"
    assert data["since"] is None
    assert data["entries"][0]["gross"] == "50000.00"
    assert data["totals"] == {"gross": "67500.00", "fees": "1500.00", "net": "66000.00"}
    warrants = reports.to_json(reports.warrants(replay(book.events, on), on))
    assert warrants["warrants"][0]["exercise_price"] == "2.50"
    assert warrants["warrants"][0]["expires"] == "2021-01-01"
    assert warrants["warrants"][1]["expires"] is None
