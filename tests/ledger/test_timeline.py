"""The timeline table and the checkpoints of the books (issues 10 and 18).

- Every insert (a recording, a reversal, an import; SQLite and PostgreSQL) writes each event's
  timeline row in its own transaction: the rows are the events' keys, and a refused write
  leaves none.
- A ledger written before the table (the fixtures) has it built on first open, and opens,
  verifies and reports the same; a tampered row is a finding of `audit verify`.
- `books_as_of` from checkpoints equals a full replay (a hypothesis law over random histories
  with back-dated lines and reversals, checkpoints taken and discarded along the way).
- A checkpoint of an encrypted ledger holds no holder's name in clear.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import EventReversed, LedgerEvent
from ledger import timeline
from ledger.commands import DesignateSeries, RecordClosing, ReportCommonOutstanding
from ledger.errors import LedgerError
from ledger.service import Ledger, new_key
from ledger.transfer import export_lines, import_lines
from projections import checkpoints, reports
from projections.books import replay
from tests.conftest import invoke
from tests.laws.test_properties_order import explicit_refs, histories
from tests.paths import FIXTURES


def keys_of(events: list[LedgerEvent]) -> list[tuple[int, str, int | None]]:
    return [(e.originator_version, e.effective_date.isoformat(),
             e.reversed_position if isinstance(e, EventReversed) else None) for e in events]


def table_rows(book: Ledger) -> list[tuple[int, str, int | None]]:
    rows = timeline.Sql(book.open().recorder).query(
        "SELECT position, effective_date, reverses FROM {finledger_timeline} WHERE "
        "ledger_id = ? ORDER BY position", [book.id.hex])
    return [(int(p), str(d), None if r is None else int(r)) for p, d, r in rows]


def checkpoint_rows(book: Ledger) -> list[tuple[str, int]]:
    rows = timeline.Sql(book.open().recorder).query(
        "SELECT effective_date, position FROM {finledger_checkpoints} WHERE ledger_id = ? "
        "ORDER BY effective_date, position", [book.id.hex])
    return [(str(d), int(p)) for d, p in rows]


def _history(book: Ledger) -> None:
    """Closings, a back-dated one, and a reversal."""
    on = date(2020, 1, 1)
    for days in (0, 30, 60, 10):  # the last back-dated
        book.record(ReportCommonOutstanding(effective_date=on + timedelta(days=days),
                                            shares=1000 + days))
    book.reverse(2, "wrong")


def test_every_insert_writes_its_events_timeline_rows(db: str) -> None:
    with Ledger(db, create=True) as book:
        _history(book)
        events = book.events()
        assert table_rows(book) == keys_of(events)
        # an import: its rows written by the import's transaction
        with Ledger(db, ledger="copy", create=True) as copy:
            import_lines(copy, list(export_lines(events)))
            assert table_rows(copy) == keys_of(copy.events())
            assert copy.stream().keys().ordinals == book.stream().keys().ordinals


def test_checkpoints_on_either_backend_and_a_store_without_the_tables(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "INTERVAL", 2)
    with Ledger(db, create=True) as book:
        _history(book)
        events = book.events()
        for as_of, as_recorded in ((None, None), (date(2020, 2, 1), None), (None, 4)):
            books, on = checkpoints.books_as_of(book, as_of, as_recorded)
            assert books == replay(events[:as_recorded], on)
        assert checkpoint_rows(book)
        # a store of a finledger before the tables: they are added, and built, on open
        sql = timeline.Sql(book.open().recorder)
        with sql.recorder.datastore.transaction(commit=True) as cursor:
            for table in (timeline.TIMELINE, timeline.CHECKPOINTS):
                cursor.execute(sql._sql(f"DROP TABLE {{{table}}}"))
    with Ledger(db) as book:
        assert table_rows(book) == keys_of(events)
        books, on = checkpoints.books_as_of(book, None, None)
        assert books == replay(events, on)


def test_a_refused_write_leaves_no_timeline_row(db: str) -> None:
    with Ledger(db, create=True) as book:
        _history(book)
        before = table_rows(book)
        with pytest.raises(LedgerError):
            import_lines(book, [*export_lines(book.events()), "{not json"])
        with pytest.raises(LedgerError):  # a reversal of a reversal
            book.reverse(5, "again")
        assert table_rows(book) == before


@pytest.mark.parametrize("name", ["format1.db", "release-0.1.0.db", "format1-encrypted.db"])
def test_a_ledger_written_before_the_table_has_it_built_on_first_open(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    con = sqlite3.connect(path)
    assert "finledger_timeline" not in {r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    key = None
    if "encrypted" in name:
        key = _fixture_key()
        monkeypatch.setenv("FINLEDGER_KEY", key)
    with Ledger(str(path), key=key) as book:
        book.open()
        assert table_rows(book) == keys_of(book.events())
    r = invoke("--db", str(path), "audit", "verify")
    assert r.code == 0, r.out + r.err


def _fixture_key() -> str:
    import json

    key = json.loads((FIXTURES / "format1.json").read_text())["key"]
    assert isinstance(key, str)
    return key


def test_opening_counts_only_the_rows_recorded_since_the_proven_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "p.db")
    with Ledger(path, create=True) as book:
        _history(book)
        head = book.head()[0]
    with Ledger(path) as book:  # an open that counted the whole proved a prefix
        sql = timeline.Sql(book.open().recorder)
        proven = timeline._proven(sql, book.id.hex)
        assert 0 < proven <= head
    counted: list[int] = []
    counts = timeline._counts

    def spy(sql: timeline.Sql, ledger: str, after: int = 0) -> Any:
        counted.append(after)
        return counts(sql, ledger, after)

    monkeypatch.setattr(timeline, "_counts", spy)
    with Ledger(path) as book:
        book.record(ReportCommonOutstanding(effective_date=date(2021, 1, 1), shares=7))
    assert counted and set(counted) == {proven}  # never the whole history on open
    counted.clear()
    with Ledger(path) as book:  # whoever reads the timeline counts it whole
        checkpoints.books_as_of(book, None, None)
    assert 0 in counted


def test_a_tampered_timeline_row_is_a_finding_and_the_as_of_still_right(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    with Ledger(path, create=True) as book:
        _history(book)
        events = book.events()
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE finledger_timeline SET effective_date = '2019-01-01' "
                    "WHERE position = 3")
    con.close()
    r = invoke("--db", path, "audit", "verify", "--json")
    assert r.code == 1
    assert "position 3" in r.err and "timeline row" in r.err
    with Ledger(path) as book:  # a report is never answered from a row its event belies
        books, on = checkpoints.books_as_of(book, date(2020, 3, 1), None)
        assert books == replay(events, on)
    con = sqlite3.connect(path)
    with con:  # the row deleted: rebuilt on open, and verify is content
        con.execute("DELETE FROM finledger_timeline WHERE position = 3")
    con.close()
    assert invoke("--db", path, "audit", "verify").code == 0


def test_a_back_dated_event_and_a_reversal_discard_the_checkpoints_they_make_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "INTERVAL", 1)
    with Ledger(str(tmp_path / "c.db"), create=True) as book:
        on = date(2020, 1, 1)
        for days in range(6):
            book.record(ReportCommonOutstanding(effective_date=on + timedelta(days=10 * days),
                                                shares=100 + days))
        checkpoints.books_as_of(book, None, None)
        assert [p for _, p in checkpoint_rows(book)] == [1, 2, 3, 4, 5, 6]
        book.record(ReportCommonOutstanding(effective_date=on + timedelta(days=20), shares=7))
        assert [p for _, p in checkpoint_rows(book)] == [1, 2, 3]  # those on its date stay
        book.reverse(2, "wrong")
        assert [p for _, p in checkpoint_rows(book)] == [1]
        books, at = checkpoints.books_as_of(book, None, None)
        assert books == replay(book.events(), at)


def test_an_encrypted_ledgers_checkpoints_hold_no_name_in_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "INTERVAL", 1)
    path = tmp_path / "e.db"
    key = new_key()
    with Ledger(str(path), key=key, create=True) as book:
        book.record(DesignateSeries(
            effective_date=date(2020, 1, 1), series="A", stated_value=Decimal("1"),
            conversion_price=Decimal("1"), dividend_rate=Decimal("0"), authorized=1000))
        book.record(RecordClosing(effective_date=date(2020, 2, 1), security="A",
                                  investors=(("Zebulon Quillfeather", 10),)))
        books, on = checkpoints.books_as_of(book, None, None)
        assert books == replay(book.events(), on)
        assert checkpoint_rows(book)
    raw = path.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("e.db-*"))
    assert b"Quillfeather" not in raw
    with Ledger(str(path), key=key) as book:  # read back through the cipher
        again, _ = checkpoints.books_as_of(book, None, None)
        assert again == books


def test_the_stored_form_covers_every_table_of_the_books() -> None:
    import dataclasses

    from projections.books import Books

    assert set(checkpoints.TABLES) == {f.name for f in dataclasses.fields(Books)}


def test_a_checkpoint_decodes_to_the_books_it_encodes_sharing_repeated_values() -> None:
    from datetime import date
    from decimal import Decimal

    from projections.books import Books, LotRow, WarrantRow

    books = Books()
    for i in range(50):
        books.lots[f"C{i}:0"] = LotRow(id=f"C{i}:0", series="Series D", holder=f"Fund {i % 3}",
                                       closing=f"C{i}", position=i, seq=0,
                                       issued_on=date(2003, 5, 8), issued=10)
        books.warrants[f"W{i}"] = WarrantRow(
            ref=f"W{i}", holder="Fund 1", label="", closing=None, position=i,
            issued_on=date(2003, 5, 8), expires=None, exercise_price=Decimal("3.00"),
            issued=100)
    again = checkpoints.decode(checkpoints.encode(books))
    assert again == books
    lots = list(again.lots.values())
    assert len({id(lot.issued_on) for lot in lots}) == 1  # one date object for the 50 rows
    assert len({id(lot.holder) for lot in lots}) == 3
    assert len({id(w.exercise_price) for w in again.warrants.values()}) == 1


# --- the law ---------------------------------------------------------------------------------


def _apply_history(book: Ledger, commands: list[Any], reversals: list[int]) -> None:
    for index, command in enumerate(commands):
        with contextlib.suppress(LedgerError):
            book.record(command)
        if index in reversals and book.head()[0] > 2:
            with contextlib.suppress(LedgerError):
                book.reverse(book.head()[0] - (index % 3), "law")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_books_from_checkpoints_are_the_books_of_a_full_replay(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checkpoints, "INTERVAL", data.draw(st.sampled_from([1, 2, 5])))
    commands = explicit_refs(data.draw(histories))
    cut = data.draw(st.integers(min_value=2, max_value=len(commands)))
    reversals = data.draw(st.lists(st.integers(min_value=0, max_value=len(commands)),
                                   max_size=4))
    path = tmp_path_factory.mktemp("law") / "law.db"
    with Ledger(str(path), actor="law", create=True) as book:
        # a first part, its checkpoints taken; then more (back-dated lines, reversals)
        _apply_history(book, commands[:cut], reversals)
        checkpoints.books_as_of(book, None, None)
        _apply_history(book, commands[cut:], [r - cut for r in reversals])
        events = book.events()
        dates = sorted({e.effective_date for e in events})
        for _ in range(4):
            as_of = data.draw(st.one_of(st.none(), st.sampled_from(dates)))
            as_recorded = data.draw(st.one_of(
                st.none(), st.integers(min_value=0, max_value=len(events))))
            books, on = checkpoints.books_as_of(book, as_of, as_recorded)
            known = events if as_recorded is None else events[:as_recorded]
            assert on == (as_of or max((e.effective_date for e in known), default=date.min))
            assert books == replay(known, on)
        # A report given only the tables it reads says what it says of the whole books.
        fewer, _ = checkpoints.books_as_of(book, as_of, as_recorded,
                                           skip=checkpoints.WRITE_ONLY - {"capital"})
        assert reports.preferred(fewer, on) == reports.preferred(books, on)
        assert reports.warrants(fewer, on) == reports.warrants(books, on)
        assert reports.capital(fewer, on) == reports.capital(books, on)


def test_an_event_committed_while_the_rows_are_counted_leaves_no_gap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader counting events and timeline rows while a writer commits (the race of eight
    processes on PostgreSQL): the rows it finds ahead are never deleted as rows of positions
    the stream no longer holds."""
    path = str(tmp_path / "l.db")
    writer = Ledger(path, actor="w")
    for n in range(3):
        writer.record(ReportCommonOutstanding(effective_date=date(2003, 1, 1 + n), shares=10 + n))
    reader = Ledger(path, actor="r")
    app = reader.open()
    query = timeline.Sql.query
    landed: list[int] = []

    def commit_between(self: timeline.Sql, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        result = query(self, sql, params)
        if "count(*)" in sql and not landed:  # after the first count, before the second
            landed.append(writer.record(ReportCommonOutstanding(
                effective_date=date(2003, 2, 1), shares=99)).originator_version)
        return result

    monkeypatch.setattr(timeline.Sql, "query", commit_between)
    assert timeline.ensure(app, reader.id, reader.stream().decode)
    monkeypatch.undo()
    assert landed == [4]
    assert timeline.complete(app, reader.id)
    ordinals, _ = timeline.read_keys(app, reader.id)
    assert len(ordinals) == 5  # positions 1-4 (index 0 unused)
