"""What finledger's recorders rely on in eventsourcing's private insert path (ledger/store.py,
ledger/postgres.py), pinned: an eventsourcing upgrade that moves it fails here first, and the
behaviour built on it (the head and the read model written by the transaction that appends
the events, each ledger's writers taking turns on their own lock) is checked end to end."""

from __future__ import annotations

import inspect
import threading
import time
from datetime import date

import pytest
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ledger.commands import ReportCommonOutstanding
from ledger.ledgers import ledger_id
from ledger.postgres import LEDGER_LOCK_CLASS, LedgerPostgresRecorder, ledger_lock
from ledger.service import Ledger
from projections import readmodel
from tests.pg import connect, fresh_ledger_url


def _params(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_eventsourcing_insert_path_is_the_one_the_recorders_hook_into() -> None:
    insert = inspect.getsource(PostgresApplicationRecorder.insert_events)
    # one transaction: the insert, then the ids fetched, both given save()'s kwargs
    assert "conn.transaction()" in insert
    assert "self._insert_stored_events(curs, stored_events, **kwargs)" in insert
    assert "self._fetch_ids_after_insert_events(" in insert and "**kwargs" in insert
    # the table lock the ledger's own lock replaces is taken in _insert_stored_events ...
    assert "self._lock_table(curs)" in inspect.getsource(
        PostgresApplicationRecorder._insert_stored_events)
    # ... and the aggregate recorder's _insert_stored_events is the plain insert
    plain = inspect.getsource(PostgresAggregateRecorder._insert_stored_events)
    assert "_lock_table" not in plain and "insert_events_statement" in plain
    assert _params(PostgresApplicationRecorder._fetch_ids_after_insert_events)[:3] == [
        "self", "curs", "stored_events"]
    assert _params(SQLiteApplicationRecorder._insert_events)[:3] == ["self", "c", "stored_events"]
    assert LedgerPostgresRecorder._insert_stored_events is not \
        PostgresApplicationRecorder._insert_stored_events


def test_what_a_save_is_given_reaches_the_recorders_insert() -> None:
    """`LedgerApplication.save` hands its events to the recorder as `timeline=` (the rows of
    `ledger.timeline`): eventsourcing passes save()'s keyword arguments to insert_events."""
    from eventsourcing.application import Application, ProcessingEvent

    assert "collect_events(*objs, **kwargs)" in inspect.getsource(Application.save)
    assert "self.saved_kwargs.update(kwargs)" in inspect.getsource(
        ProcessingEvent.collect_events)
    assert "**processing_event.saved_kwargs" in inspect.getsource(Application._record)


def _record(book: Ledger, shares: int) -> None:
    book.record(ReportCommonOutstanding(effective_date=date(2003, 1, 1), shares=shares))


@pytest.mark.postgres
def test_a_read_model_that_fails_inside_the_insert_appends_nothing() -> None:
    with fresh_ledger_url() as url, Ledger(url, create=True) as book:
        book.follow = readmodel.follower(book)
        _record(book, 100)
        assert readmodel.catch_up(book)  # as after every write: the tables created

        def broken(events: object, tables: object) -> None:
            raise RuntimeError("read model failed")

        book.follow = broken
        with pytest.raises(RuntimeError):
            _record(book, 200)
        assert book.head()[0] == 1 and len(book.events()) == 1
        book.follow = readmodel.follower(book)
        _record(book, 300)
        model = readmodel._open(book)
        try:  # written by the insert itself: no catch-up ran
            assert model.position() == 2
            assert model.live(date(2003, 1, 2)).baseline.shares == 300  # type: ignore[union-attr]
        finally:
            model.db.close()


@pytest.mark.postgres
def test_a_writer_waits_for_its_own_ledger_only() -> None:
    with fresh_ledger_url() as url:
        for name in ("a", "b"):
            with Ledger(url, create=True, ledger=name) as book:
                _record(book, 1)
        schema = url.rsplit("schema=", 1)[1]
        assert schema
        with connect(url) as holder:  # a writer of ledger a, mid-transaction
            holder.execute("BEGIN")
            holder.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                           (LEDGER_LOCK_CLASS, ledger_lock(ledger_id("a"))))
            started = time.monotonic()
            with Ledger(url, ledger="b") as other:
                _record(other, 2)  # another ledger: does not wait
            assert time.monotonic() - started < 5
            done = threading.Event()

            def write_a() -> None:
                with Ledger(url, ledger="a") as same:
                    _record(same, 3)
                done.set()

            thread = threading.Thread(target=write_a)
            thread.start()
            assert not done.wait(1.5)  # the same ledger: takes its turn
            holder.execute("COMMIT")
            thread.join(30)
            assert done.is_set()
        with Ledger(url, ledger="a") as book:
            assert book.head()[0] == 2


@pytest.mark.postgres
def test_every_write_on_postgres_moves_the_tables_in_its_own_transaction(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the catch-up after a write switched off, the tables still stand at the head
    after a recording and a reversal: the write itself moved them."""
    from app.service import Service
    from tests.conftest import invoke

    with fresh_ledger_url() as url:
        assert invoke("--db", url, "record", "common-outstanding", "100", "--date",
                      "2003-01-01").code == 0  # creates the tables (catch-up after it)
        monkeypatch.setattr(Service, "caught_up", lambda *args, **kwargs: None)
        monkeypatch.setattr(readmodel, "catch_up", lambda *args, **kwargs: True)
        for args in (["record", "common-outstanding", "200", "--date", "2003-02-01"],
                     ["record", "reversal", "2", "--reason", "typed twice"]):
            assert invoke("--db", url, *args).code == 0
            with Ledger(url) as book:
                model = readmodel._open(book)
                try:
                    assert model.position() == book.head()[0]
                finally:
                    model.db.close()


@pytest.mark.postgres
def test_postgres_tables_have_a_column_per_row_field_and_the_ledger() -> None:
    """The tables on PostgreSQL come from the one set of statements: a field added to a row
    class is a column there with no PostgreSQL-specific change."""
    with fresh_ledger_url() as url:
        with Ledger(url, create=True) as book:
            _record(book, 100)
            assert readmodel.catch_up(book)
        schema = url.rsplit("schema=", 1)[1]
        with connect(url) as conn:
            for table, (_, cls, pk) in readmodel.TABLES.items():
                columns = [row[0] for row in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                    "%s AND table_name = %s ORDER BY ordinal_position", (schema, table))]
                assert columns == ["ledger", *readmodel._hints(cls)], table
                key = [row[0] for row in conn.execute(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                    "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indisprimary AND "
                    "i.indrelid = %s::regclass", (f"{schema}.{table}",))]
                assert sorted(key) == sorted(["ledger", pk]), table
