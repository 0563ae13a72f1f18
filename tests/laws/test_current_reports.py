"""Law: a current report read narrowly from the tables (`projections.readmodel.current_*`:
the rows it prints and the sums it needs) equals the report of the whole books of a replay.

Random histories with reversals (`tests/laws/test_projections_properties.py`) and with transfers, warrant
transfers and redemptions (`tests/laws/test_holdings_laws.py`), the tables caught up in random steps; then
each report as of dates on and after the last effective date (accruals grow, warrants
expire), with and without `--since`, by every period.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import LedgerEvent
from ledger.holdings import TransferShares
from projections import reports
from projections.books import replay
from projections.dividends import dividends
from projections.readmodel import HOLDERS, ReadModel
from tests.laws.test_holdings_laws import run
from tests.laws.test_projections_properties import catch_up_in_steps, histories
from tests.laws.test_properties import sequences
from tests.projections.test_projections import Book, series_a

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PRICES = (None, Decimal("2.00"), Decimal("4.50"))


def narrow_equals_whole(events: list[LedgerEvent], data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(1, len(events) + 5), max_size=4))
    later, since_offset = data.draw(st.integers(0, 900)), data.draw(st.integers(0, 900))
    by, price = data.draw(st.sampled_from(reports.PERIODS)), data.draw(st.sampled_from(PRICES))
    model = ReadModel(sqlite_utils.Database(memory=True))
    catch_up_in_steps(model, events, cuts)
    books = replay(events)
    first = min(e.effective_date for e in events)
    last = max(e.effective_date for e in events)
    since = first + timedelta(days=since_offset)
    days = {last, last + timedelta(days=later)}
    for warrant in books.warrants.values():
        if warrant.expires is not None and warrant.expires >= last:
            days |= {warrant.expires, warrant.expires + timedelta(days=1)}
    for on in sorted(days):
        assert reports.preferred_of(model.preferred_inputs(), on) == reports.preferred(books, on)
        assert reports.warrants(model.warrant_books(), on, price) == \
            reports.warrants(books, on, price)
        for start in (None, since, first, last):
            assert model.capital_report(on, start, by) == reports.capital(books, on, start, by)
        assert dividends(model.dividend_books(), on, price) == dividends(books, on, price)


@SETTINGS
@given(histories, st.data())
def test_narrow_reads_equal_the_books_of_a_replay(book: Book, data: st.DataObject) -> None:
    narrow_equals_whole(book.events, data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_narrow_reads_equal_a_replay_with_transfers_and_redemptions(data: st.DataObject) -> None:
    _, events = run(data, data.draw(sequences))
    narrow_equals_whole(events, data)


def test_a_holder_whose_first_lot_is_taken_back_keeps_its_place_by_the_next() -> None:
    """A transfer gives Z its first lot; a later closing gives it a second. Reversing the
    transfer takes the first lot out: Z's sums and its place come from the lot left."""
    book = Book()
    book.record(series_a())
    from ledger.commands import RecordClosing

    book.record(RecordClosing(effective_date=date(2020, 1, 2), security="A",
                              investors=(("X", 30), ("Y", 20))))
    book.record(TransferShares(effective_date=date(2020, 1, 3), series="A", from_holder="X",
                               to_holder="Z", shares=10))
    book.record(RecordClosing(effective_date=date(2020, 1, 4), security="A",
                              investors=(("Z", 5), ("W", 7))))
    model = ReadModel(sqlite_utils.Database(memory=True))
    events = book.events
    model.catch_up(lambda after: events[after:])
    on = date(2020, 6, 30)
    before = reports.preferred_of(model.preferred_inputs(), on)
    assert [h.holder for h in before.series[0].holders] == ["X", "Z", "Y", "W"]
    book.reverse(3)
    events = book.events
    model.catch_up(lambda after: events[after:])
    after = reports.preferred_of(model.preferred_inputs(), on)
    assert after == reports.preferred(replay(events), on)
    assert [(h.holder, h.outstanding) for h in after.series[0].holders] == [
        ("X", 30), ("Y", 20), ("Z", 5), ("W", 7)]
    # one row per holder of the series, not per lot
    (count,) = model.db.execute(f'SELECT COUNT(*) FROM "{HOLDERS}"').fetchone()
    assert count == 4
