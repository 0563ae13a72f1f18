"""Laws of the projections over random valid histories (hypothesis).

- the books applied in recording order (reversals un-applying) equal a replay of the timeline;
- the materialized tables, caught up in any number of steps, equal a fresh replay;
- a report as of the last effective date equals the current report;
- JSON totals are the sums of their rows;
- accrued dividends agree with the ledger's own fold (`SeriesState.accrued`);
- the current summary from the running totals and live rows equals the summary of a replay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import LedgerEvent
from ledger.commands import (
    Command,
    DeclareDividend,
    ExerciseWarrants,
    IssueWarrants,
    RecordClosing,
    ReportCommonOutstanding,
    RequestConversion,
)
from ledger.errors import LedgerError
from ledger.state import LedgerState, timeline
from projections import readmodel, reports
from projections.books import Books, apply_in_recording_order, replay
from projections.readmodel import ReadModel
from tests.projections.test_projections import Book, history, series_a

START = date(2020, 1, 1)
HOLDERS = ("X", "Y", "Z")
PRICES = (Decimal("1.50"), Decimal("2.25"), Decimal("4.00"), Decimal("0.125"))  # 0.125: sub-cent

day = st.integers(min_value=0, max_value=500).map(lambda n: START + timedelta(days=n))
step = st.one_of(
    st.tuples(st.just("closing"), day, st.lists(st.sampled_from(HOLDERS), min_size=1,
              max_size=3, unique=True), st.integers(1, 12), st.integers(0, 300)),
    st.tuples(st.just("warrant"), day, st.sampled_from(HOLDERS), st.integers(1, 5_000),
              st.sampled_from(PRICES), st.one_of(st.none(), st.integers(0, 400))),
    st.tuples(st.just("exercise"), day, st.integers(0, 9), st.integers(1, 3_000), st.booleans()),
    st.tuples(st.just("dividend"), day, st.integers(0, 60), st.booleans()),
    st.tuples(st.just("conversion"), day, st.sampled_from(HOLDERS), st.integers(1, 10)),
    st.tuples(st.just("baseline"), day, st.integers(1, 10_000_000)),
    st.tuples(st.just("reversal"), st.integers(2, 40)),
)


def command_for(book: Book, spec: tuple[Any, ...]) -> Command | None:
    kind = spec[0]
    if kind == "closing":
        _, on, names, shares, fees = spec
        return RecordClosing(effective_date=on, security="A",
                             investors=tuple((n, shares) for n in names), fees=Decimal(fees))
    if kind == "warrant":
        _, on, holder, shares, price, life = spec
        expires = None if life is None else on + timedelta(days=life)
        return IssueWarrants(effective_date=on, holder=holder, shares=shares,
                             exercise_price=price, expires=expires)
    if kind == "exercise":
        _, on, index, shares, cashless = spec
        refs = [e.ref for e in book.events if type(e).__name__ == "WarrantsIssued"]  # type: ignore[attr-defined]
        if not refs:
            return None
        return ExerciseWarrants(effective_date=on, warrant=refs[index % len(refs)], shares=shares,
                                cashless=cashless,
                                market_price=Decimal("5.00") if cashless else None)
    if kind == "dividend":
        _, on, back, stock = spec
        return DeclareDividend(effective_date=on, series="A", through=on - timedelta(days=back),
                               form="stock" if stock else "cash",
                               price=Decimal("3.10") if stock else None)
    if kind == "conversion":
        _, on, holder, shares = spec
        return RequestConversion(effective_date=on, series="A", holder=holder, shares=shares)
    _, on, shares = spec
    return ReportCommonOutstanding(effective_date=on, shares=shares)


def build(specs: list[tuple[Any, ...]]) -> Book:
    book = Book()
    book.record(replace(series_a(), authorized=1_000))
    for spec in specs:
        try:
            if spec[0] == "reversal":
                if spec[1] <= len(book.events):
                    book.reverse(spec[1])
                continue
            command = command_for(book, spec)
            if command is not None:
                book.record(command)
        except LedgerError:
            pass  # refused, as the ledger would: nothing recorded
    return book


histories = st.lists(step, min_size=4, max_size=30).map(build)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def last_date(book: Book) -> date:
    return max(e.effective_date for e in book.events)


def catch_up_in_steps(model: ReadModel, events: list[LedgerEvent], cuts: list[int]) -> None:
    """Catch up to each cut in turn (as writes come in), then to the end."""

    def upto(cut: int) -> Callable[[int], Sequence[LedgerEvent]]:
        return lambda after: events[after:cut]

    for cut in sorted(cuts):
        model.catch_up(upto(cut))
    model.catch_up(upto(len(events)))


@SETTINGS
@given(histories)
def test_recording_order_with_reversals_equals_replay(book: Book) -> None:
    assert apply_in_recording_order(Books(), book.events) == replay(book.events)


@SETTINGS
@given(histories, st.lists(st.integers(1, 40), max_size=4))
def test_materialized_tables_equal_a_fresh_replay(book: Book, cuts: list[int]) -> None:
    model = ReadModel(sqlite_utils.Database(memory=True))
    events = book.events
    catch_up_in_steps(model, events, cuts)
    assert model.position() == len(events)
    assert model.load() == replay(events)
    assert model.latest_effective() == last_date(book)
    model.rebuild(lambda after: events[after:])
    assert model.load() == replay(events)


@SETTINGS
@given(histories, st.lists(st.integers(1, 40), max_size=3), st.integers(0, 900))
def test_current_summary_from_totals_equals_the_summary_of_a_replay(
    book: Book, cuts: list[int], later: int
) -> None:
    model = ReadModel(sqlite_utils.Database(memory=True))
    events = book.events
    catch_up_in_steps(model, events, cuts)
    books = replay(events)
    # later dates (warrants expire, dividends accrue), and each expiry date and the day after
    days = {last_date(book) + timedelta(days=later)}
    for warrant in books.warrants.values():
        if warrant.expires is not None:
            days |= {warrant.expires, warrant.expires + timedelta(days=1)}
    for on in sorted(d for d in days if d >= last_date(book)):
        assert reports.current_summary(model.live(on), on) == reports.summary(books, on)


@SETTINGS
@given(histories, st.sampled_from((None, Decimal("2.00"), Decimal("4.50"))))
def test_as_of_the_last_date_equals_the_current_report(book: Book, price: Decimal | None) -> None:
    on = last_date(book)
    current, as_of = replay(book.events), replay(book.events, on)
    assert reports.preferred(as_of, on) == reports.preferred(current, on)
    assert reports.warrants(as_of, on, price) == reports.warrants(current, on, price)
    assert reports.capital(as_of, on) == reports.capital(current, on)
    assert reports.summary(as_of, on) == reports.summary(current, on)


def money(value: str) -> Decimal:
    return Decimal(value)


@SETTINGS
@given(histories, st.integers(0, 520), st.sampled_from(("month", "quarter", "year")))
def test_json_totals_are_the_sums_of_their_rows(book: Book, offset: int, by: str) -> None:
    on = START + timedelta(days=offset)
    books = replay(book.events, on)
    pref = reports.to_json(reports.preferred(books, on))
    for key in ("outstanding", "as_converted_common"):
        assert pref["totals"][key] == sum(s[key] for s in pref["series"])
        for s in pref["series"]:
            assert s[key] == sum(h[key] for h in s["holders"])
    for key in ("stated_value_outstanding", "accrued_dividends"):
        assert money(pref["totals"][key]) == sum(money(s[key]) for s in pref["series"])
        for s in pref["series"]:
            assert money(s[key]) == sum((money(h[key]) for h in s["holders"]), Decimal(0))
    warr = reports.to_json(reports.warrants(books, on, Decimal("3.00")))
    for group in ("warrants", "by_price", "by_closing"):
        for key in ("outstanding", "in_the_money", "treasury_shares"):
            assert warr["totals"][key] == sum(w[key] for w in warr[group])
        assert money(warr["totals"]["potential_proceeds"]) == sum(
            (money(w["potential_proceeds"]) for w in warr[group]), Decimal(0))
    for w in warr["warrants"]:
        assert w["outstanding"] == w["issued"] - w["exercised"] - w["expired"] >= 0
    cap = reports.to_json(reports.capital(books, on, by=by))
    for key in ("gross", "fees", "net"):
        assert money(cap["totals"][key]) == sum((money(e[key]) for e in cap["entries"]), Decimal(0))
        assert money(cap["totals"][key]) == sum((money(p[key]) for p in cap["periods"]), Decimal(0))
    fd = reports.to_json(reports.summary(books, on))["fully_diluted"]
    assert fd["total"] == fd["common_outstanding"] + fd["as_converted_preferred"] + fd["warrants"]


@SETTINGS
@given(histories, st.integers(0, 520))
def test_accrued_agrees_with_the_ledger_fold(book: Book, offset: int) -> None:
    on = START + timedelta(days=offset)
    state = LedgerState().apply_all(e for e in timeline(book.events) if e.effective_date <= on)
    report = reports.preferred(replay(book.events, on), on)
    for row in report.series:
        series = state.series[row.series]
        assert row.outstanding == series.outstanding
        for holder in row.holders:
            lots = series.holder_lots(holder.holder)
            assert holder.outstanding == sum(lot.shares for lot in lots)
            expected = series.accrued(lots, on).quantize(Decimal("0.01"))
            assert holder.accrued_dividends == expected


def test_tables_of_an_older_layout_are_rebuilt_not_read() -> None:
    events = history().events
    for old_meta in (
        "CREATE TABLE rm_meta (key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO rm_meta VALUES ('schema', '1'), ('position', '3');"
        "CREATE TABLE rm_lots (id TEXT PRIMARY KEY, series TEXT);"  # no seq: layout 1
        "CREATE TABLE rm_retired (x INTEGER);",
        "CREATE TABLE rm_meta (name TEXT, data TEXT);",  # not even key/value
        "CREATE TABLE rm_meta (key TEXT PRIMARY KEY, value TEXT);",  # no schema row
    ):
        db = sqlite_utils.Database(memory=True)
        db.conn.executescript(old_meta)
        model = ReadModel(db)
        assert model.catch_up(lambda after: events[after:]) == len(events)
        assert model.load() == replay(events)
        tables = set(db.table_names())
        assert "rm_retired" not in tables and "rm_totals" in tables


def test_tables_of_an_older_layout_read_as_nothing_applied() -> None:
    # What `audit verify` reads before any report has rebuilt them: no claim, no crash.
    db = sqlite_utils.Database(memory=True)
    db.conn.executescript(
        "CREATE TABLE rm_meta (key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO rm_meta VALUES ('schema', '1'), ('position', '3');"
        "CREATE TABLE rm_lots (id TEXT PRIMARY KEY, series TEXT);")
    model = ReadModel(db)
    assert (model.position(), model.latest_effective(), model.load()) == (0, None, Books())


def test_overhang_at_a_sub_cent_price_rounds_warrant_by_warrant() -> None:
    book = Book()
    book.record(series_a())
    for ref in ("W1", "W2", "W3"):
        book.record(IssueWarrants(effective_date=START, holder="X", shares=1,
                                  exercise_price=Decimal("0.125"), ref=ref))
    book.record(IssueWarrants(effective_date=START, holder="Y", shares=3,
                              exercise_price=Decimal("2.25"), ref="W4"))
    model = ReadModel(sqlite_utils.Database(memory=True))
    model.catch_up(lambda after: book.events[after:])
    summary = reports.current_summary(model.live(START), START)
    # 3 x cents(1 x 0.125) = 3 x 0.13, not cents(3 x 0.125) = 0.38; plus 3 x 2.25 = 6.75
    assert summary.warrants.potential_proceeds == Decimal("7.14")
    assert summary == reports.summary(replay(book.events), START)


def test_catch_up_asks_for_pages_until_there_are_none() -> None:
    events = history().events
    book = Book()
    book.events = list(events)
    book.reverse(7)  # a reversal on a later page un-applies a row of an earlier one
    events = book.events
    model = ReadModel(sqlite_utils.Database(memory=True))
    assert model.catch_up(lambda after: events[after:after + 3]) == len(events)
    assert model.position() == len(events)
    assert model.load() == replay(events)


def test_batches_of_a_long_catch_up_fold_like_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readmodel, "BATCH", 2)  # rows written by one batch, read by the next
    book = history()
    book.reverse(7)
    model = ReadModel(sqlite_utils.Database(memory=True))
    assert model.catch_up(lambda after: book.events[after:]) == len(book.events)
    assert model.load() == replay(book.events)
