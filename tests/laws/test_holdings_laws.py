"""Laws of holdings that change hands (issue 12), on random histories with transfers, warrant
transfers and redemptions mixed into the random commands of `tests/laws/test_properties.py`:

- shares are conserved: per series, issued = outstanding + converted + redeemed, and the
  holders' open lots add up to outstanding (in the fold and in the books alike);
- warrant shares are conserved: what transfers take from one warrant they add to another;
- the books built incrementally in recording order give the reports a fresh replay gives;
- the service decides exactly what the pure decide + fold decides.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import LedgerEvent
from ledger.commands import Command
from ledger.errors import LedgerError
from ledger.holdings import RedeemShares, TransferShares, TransferWarrants
from ledger.service import Ledger
from ledger.state import LedgerState, fold, timeline
from projections import reports
from projections.books import Books, apply_in_recording_order, replay
from projections.holder import holder
from projections.mentions import parties, warrant_holders
from tests.laws.test_properties import HOLDERS, comparable, record_pure, sequences, targeted

OTHERS = (*HOLDERS, "H4")


def moves(data: st.DataObject, events: Sequence[LedgerEvent], on: date) -> Command | None:
    """A transfer, warrant transfer or redemption aimed at what exists on `on`."""
    state = LedgerState().apply_all(e for e in timeline(events) if e.effective_date <= on)
    options: list[Command] = []
    for series in state.series.values():
        for name, held in series.holdings().items():
            shares = data.draw(st.integers(min_value=1, max_value=held + 1))
            options.append(TransferShares(
                effective_date=on, series=series.name, from_holder=name,
                to_holder=data.draw(st.sampled_from(OTHERS)), shares=shares))
            options.append(RedeemShares(
                effective_date=on, series=series.name, holder=name, shares=shares,
                price_per_share=data.draw(st.sampled_from([None, Decimal("1.5")]))))
    for ref, warrant in state.warrants.items():
        if warrant.outstanding > 0:
            options.append(TransferWarrants(
                effective_date=on, warrant=ref, to_holder=data.draw(st.sampled_from(OTHERS)),
                shares=data.draw(st.integers(min_value=1, max_value=warrant.outstanding + 1))))
    return data.draw(st.sampled_from(options)) if options else None


def run(data: st.DataObject, base: Sequence[Command]) -> tuple[list[Command], list[LedgerEvent]]:
    """Record `base` with targeted conversions, exercises and moves mixed in (pure path);
    the commands tried and the events accepted."""
    tried: list[Command] = []
    events: list[LedgerEvent] = []
    for command in base:
        extras = [targeted(data, events, command.effective_date) if data.draw(st.booleans())
                  else None,
                  *(moves(data, events, command.effective_date + timedelta(days=day))
                    for day in data.draw(st.lists(st.integers(0, 30), max_size=2)))]
        for cmd in (command, *extras):
            if cmd is None:
                continue
            tried.append(cmd)
            try:
                events.append(record_pure(events, cmd))
            except LedgerError:
                continue
    return tried, events


def check_conservation(events: Sequence[LedgerEvent]) -> None:
    state = fold(events)
    on = max((e.effective_date for e in events), default=date(2003, 1, 1))
    books = replay(events)
    for name, series in state.series.items():
        assert series.issued == series.outstanding + series.converted + series.redeemed
        assert sum(series.holdings().values()) == series.outstanding
        row = books.series[name]
        assert (row.issued, row.converted, row.redeemed) == (
            series.issued, series.converted, series.redeemed)
        lots = [lot for lot in books.lots.values() if lot.series == name]
        assert sum(lot.outstanding for lot in lots) == row.outstanding
        assert all(lot.outstanding >= 0 for lot in lots)
        # a holder's register shows the same open lots
        holders = warrant_holders(events)
        for who in {p for e in events for p in parties(e, holders)}:
            register = holder(books, timeline(events), who, on)
            mine = sum(lot.shares for lot in register.preferred if lot.series == name)
            assert mine == series.held(who)
    assert sum(w.transferred for w in books.warrants.values()) == 0
    for ref, warrant in state.warrants.items():
        row_ = books.warrants[ref]
        assert row_.issued + row_.transferred - row_.exercised == warrant.outstanding


def same_reports(left: Books, right: Books, on: date) -> None:
    for build in (reports.preferred, reports.warrants, reports.capital, reports.summary):
        assert build(left, on) == build(right, on), build.__name__


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_shares_are_conserved_and_reports_equal_a_fresh_replay(data: st.DataObject) -> None:
    _, events = run(data, data.draw(sequences))
    check_conservation(events)
    on = max(e.effective_date for e in events) + timedelta(days=1)
    same_reports(apply_in_recording_order(Books(), events), replay(events), on)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_service_decides_what_the_pure_fold_decides_with_moves(data: st.DataObject) -> None:
    tried, events = run(data, data.draw(sequences))
    with tempfile.TemporaryDirectory() as tmp, Ledger(str(Path(tmp) / "l.db"),
                                                       actor="prop", create=True) as book:
        for command in tried:
            try:
                book.record(command)
            except LedgerError:
                continue
        stored = book.events()
    assert [comparable(e) for e in stored] == [comparable(e) for e in events]


def test_snapshots_of_a_ledger_with_moves_decide_as_the_full_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head state (snapshots every 3 events, then folded on) equals the full fold, with
    transfers, warrant transfers, redemptions, baselines and capped conversions in it."""
    from ledger.commands import (
        DesignateSeries,
        IssueWarrants,
        RecordClosing,
        ReportCommonOutstanding,
        RequestConversion,
    )

    monkeypatch.setattr("ledger.service.SNAPSHOT_INTERVAL", 3)
    on = date(2003, 1, 1)
    book = Ledger(str(tmp_path / "l.db"), actor="t")
    book.record(DesignateSeries(effective_date=on, series="A", stated_value=Decimal(1000),
                                conversion_price=Decimal("2.35"), dividend_rate=Decimal(8),
                                authorized=10_000, ownership_cap=Decimal("9.99")))
    book.record(ReportCommonOutstanding(effective_date=on, shares=1_000_000))
    book.record(IssueWarrants(effective_date=on, holder="H", shares=9000,
                              exercise_price=Decimal(3), ref="W"))
    for i in range(6):
        day = on + timedelta(days=10 * i + 1)
        book.record(RecordClosing(effective_date=day, security="A", investors=(("H", 50),)))
        book.record(TransferShares(effective_date=day, series="A", from_holder="H",
                                   to_holder=f"T{i % 2}", shares=20))
        book.record(TransferWarrants(effective_date=day, warrant="W", to_holder=f"T{i}",
                                     shares=1000))
        book.record(RedeemShares(effective_date=day, series="A", holder=f"T{i % 2}", shares=5))
        book.record(RequestConversion(effective_date=day, series="A", holder="H", shares=10))
    events = book.events()
    head = book._head()
    assert head is not None and head.version == len(events)
    assert head.folded < 3  # loaded from a snapshot, then the few events after it folded
    assert head.state == fold(events)
    check_conservation(events)
