"""Laws of terms that change (DOMAIN.md 12-14), over random splits and resets.

- A warrant's aggregate exercise price (outstanding x price) never rises by a split or an
  anti-dilution reset by more than the price rounding (outstanding x 0.00005).
- Anti-dilution never raises a price, nor sets one below the instrument's floor.
- The books folded in recording order (what the read model does) give the reports of a fresh
  replay of the timeline, on any date.
- `audit verify`'s reversal check refuses what `record reversal` refuses.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import ClosingCompleted, EventReversed, LedgerEvent, StockSplit
from ledger.audit import ReversalCheck
from ledger.commands import (
    AdjustTerms,
    Command,
    DesignateSeries,
    IssueWarrants,
    RecordClosing,
    ReportCommonOutstanding,
    RequestConversion,
    SplitStock,
)
from ledger.decision import Footprint, computed_with
from ledger.errors import LedgerError
from projections import reports
from projections.books import Books, apply_in_recording_order, replay
from projections.terms import terms
from tests.laws.test_properties import record_pure

D = Decimal
START = date(2003, 1, 1)
ROUNDING = D("0.00005")
REFS = ("W1", "W2", "W3")
METHODS = ("none", "full-ratchet", "weighted-average")
prices = st.sampled_from([D("0.35"), D("1.50"), D("2.35"), D("3.00"), D("4.10"), D("12.5")])
floors = st.one_of(st.none(), st.sampled_from([D("0.50"), D("1.00"), D("2.00")]))


@st.composite
def protection(draw: st.DrawFn) -> tuple[str, Decimal | None]:
    method = draw(st.sampled_from(METHODS))
    return method, (None if method == "none" else draw(floors))


def _series(p: tuple[str, Decimal | None]) -> Command:
    return DesignateSeries(effective_date=START, series="A", stated_value=D("1000"),
                           conversion_price=D("2.35"), dividend_rate=D("8"), authorized=1000,
                           anti_dilution=p[0], price_floor=p[1])


splits = st.builds(SplitStock, effective_date=st.just(START),
                   new=st.integers(min_value=1, max_value=5),
                   old=st.integers(min_value=1, max_value=30))
common_closings = st.builds(
    RecordClosing, effective_date=st.just(START), security=st.just("common"),
    investors=st.integers(min_value=1, max_value=2_000_000).map(lambda n: (("New", n),)),
    price_per_share=prices, exempt=st.sampled_from([False, False, True]))
conversions = st.builds(RequestConversion, effective_date=st.just(START), series=st.just("A"),
                        holder=st.just("H"), shares=st.integers(min_value=1, max_value=50))
adjustments = st.builds(AdjustTerms, effective_date=st.just(START), reason=st.just("board"),
                        warrant=st.sampled_from(REFS), exercise_price=prices,
                        shares=st.one_of(st.none(), st.integers(min_value=1, max_value=10**6)))
steps = st.lists(st.tuples(st.one_of(splits, common_closings, common_closings, conversions,
                                     adjustments),
                           st.integers(min_value=0, max_value=40),
                           st.sampled_from([0, 0, 0, 30])),
                 min_size=3, max_size=14)


@st.composite
def ledgers(draw: st.DrawFn) -> list[LedgerEvent]:
    """A protected series, three protected warrants and a baseline, then random splits,
    common closings (some below the prices in force), conversions and adjustments, some
    back-dated; the events of the commands the ledger accepted."""
    commands: list[Command] = [
        _series(draw(protection())),
        RecordClosing(effective_date=START, security="A", investors=(("H", 500),), ref="P"),
        ReportCommonOutstanding(effective_date=START, shares=draw(
            st.integers(min_value=1, max_value=5_000_000))),
    ]
    for ref in REFS:
        method, floor = draw(protection())
        commands.append(IssueWarrants(
            effective_date=START, holder="W", ref=ref, anti_dilution=method, price_floor=floor,
            shares=draw(st.integers(min_value=1, max_value=1_000_000)),
            exercise_price=draw(prices)))
    on = START
    for command, gap, back in draw(steps):
        on += timedelta(days=gap)
        commands.append(replace(command, effective_date=max(START, on - timedelta(days=back))))
    events: list[LedgerEvent] = []
    for command in commands:
        try:
            events.append(record_pure(events, command))
        except LedgerError:
            continue
    return events


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=ledgers())
def test_splits_and_resets_keep_the_aggregate_exercise_price_and_never_raise_a_price(
    events: list[LedgerEvent],
) -> None:
    floors_of = {e.ref: e.price_floor for e in events if hasattr(e, "ref") and
                 hasattr(e, "price_floor")}
    series_floor = next(e.price_floor for e in events if hasattr(e, "stated_value"))
    for event in events:
        if isinstance(event, StockSplit):
            for w in event.warrants:
                assert w.new_shares * w.new_price <= w.old_shares * w.old_price + \
                    w.new_shares * ROUNDING
        if isinstance(event, ClosingCompleted):
            for a in event.adjustments:
                assert a.new_price < a.old_price  # never raised
                floor = series_floor if a.instrument == "series" else floors_of[a.name]
                assert floor is None or a.new_price >= floor
                if a.old_shares is not None and a.new_shares is not None:
                    assert a.new_shares * a.new_price <= a.old_shares * a.old_price + \
                        a.new_shares * ROUNDING
            assert not (event.exempt and event.adjustments)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=ledgers(), offset=st.integers(min_value=0, max_value=400))
def test_the_books_in_recording_order_report_what_a_fresh_replay_reports(
    events: list[LedgerEvent], offset: int,
) -> None:
    incremental = apply_in_recording_order(Books(), events)
    latest = max(e.effective_date for e in events)
    fresh = replay(events)
    for books in (incremental, fresh):
        assert terms(books, latest) == terms(fresh, latest)
        assert reports.summary(books, latest) == reports.summary(fresh, latest)
        assert reports.warrants(books, latest) == reports.warrants(fresh, latest)
    on = START + timedelta(days=offset)
    as_of = replay(events, on)
    summary = reports.summary(as_of, on)
    assert summary.fully_diluted.total >= 0
    for row in reports.warrants(as_of, on).warrants:
        assert row.outstanding == row.issued - row.exercised - row.expired + \
            row.adjusted


def test_verify_finds_a_reversed_split_whose_price_a_later_conversion_used() -> None:
    events: list[LedgerEvent] = []
    for command in (
        _series(("none", None)),
        RecordClosing(effective_date=START, security="A", investors=(("H", 500),), ref="P"),
        SplitStock(effective_date=START + timedelta(days=1), new=1, old=10),
        RequestConversion(effective_date=START + timedelta(days=2), series="A", holder="H",
                          shares=10),
    ):
        events.append(record_pure(events, command))
    split, conversion = events[2], events[3]
    assert computed_with(Footprint.of(conversion), Footprint.of(split))
    assert not computed_with(Footprint.of(split), Footprint.of(conversion))
    check = ReversalCheck()
    for event in events:
        check.feed(event)
    check.feed(EventReversed(
        originator_id=split.originator_id, originator_version=5,
        effective_date=START + timedelta(days=3), recorded_at=split.recorded_at, actor="x",
        prev_hash="", hash="", reversed_position=3, reason="x", reversed=split))
    assert [p.position for p in check.problems] == [5]
    assert "position 4" in check.problems[0].problem
