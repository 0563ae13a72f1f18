"""`audit verify` as the application runs it: the chain, the head, the history and the
read-model tables, each row read and decoded once (the tables replayed on a second core from
PARALLEL_FROM events), and a damaged SQLite file said table by table."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded when a verification runs
    from events import LedgerEvent
    from ledger import audit
    from ledger.service import Ledger

Update = Callable[[int, int], None]
"""Told (done, of) as the chain check goes."""

Progress = Callable[[str, int], AbstractContextManager[Update]]
"""A progress display: given what is done and how many steps, the `Update` to call."""


@contextlib.contextmanager
def no_progress(description: str, total: int) -> Iterator[Update]:
    yield lambda done, of: None


class _Streamed:
    """The history (and the read-model tables, when they claim the whole stream) checked
    while the chain is: each event the chain check decodes is handed on in timeline order
    (`ledger.stream.Reorder`), so no row is read or decoded twice and none is held long."""

    def __init__(self, book: Ledger, *, tables: bool = True) -> None:
        from ledger import audit
        from ledger.stream import Reorder
        from projections.table_check import TableCheck, latest_in

        self.stream = book.stream()
        self.keys = self.stream.keys()
        self.history = audit.HistoryCheck(self.keys)
        self.tables = TableCheck.start(book, self.keys.count,
                                       functools.partial(latest_in, self.keys)) if tables else []
        self.shared = isinstance(self.tables, TableCheck) and \
            self.tables.position == self.keys.count
        self.reorder = Reorder(self.keys, self.stream.at, self._emit)

    def feed(self, event: LedgerEvent) -> None:
        """Each event as the chain check decodes it, in recording order."""
        self.history.record(event)
        self.reorder.feed(event)

    def _emit(self, event: LedgerEvent) -> None:
        self.history.feed(event)
        if self.shared:
            assert not isinstance(self.tables, list)
            self.tables.apply(event)

    def problems(self, chain: audit.ChainResult) -> list[audit.Problem] | None:
        """What the history and tables show; None if the stream could not be followed (the
        caller then checks them over the whole stream, as before)."""
        keys = chain.keys
        if (not chain.streamed or keys is None or keys.count != self.keys.count
                or keys.reversals != self.keys.reversals or keys.ordinals != self.keys.ordinals):
            return None
        self.reorder.finish()
        problems = self.history.problems()
        tables = self.tables
        if isinstance(tables, list):
            return problems or tables
        if problems:
            return problems
        if self.shared:
            return tables.finish()
        stream = self.stream
        return tables.finish(lambda position: stream.timeline(keys, upto=position))

    def close(self) -> None:
        from projections.table_check import TableCheck

        if isinstance(self.tables, TableCheck):
            self.tables.close()


PARALLEL_FROM = 50_000  # events from which the tables are checked in a second process


def _verify_streamed(book: Ledger, meta: dict[str, str], expect_head: str | None,
                     total: int, target: str, *, progress: Progress) -> tuple[audit.ChainResult,
                                                      list[audit.Problem] | None]:
    """The chain, with the history and the tables handed each event as the chain check
    decodes it (each row is read and decoded once); `found` is None where the stream could
    not be followed, and the caller checks them over the whole stream, as before."""
    from ledger import audit

    apart = total >= PARALLEL_FROM and (os.cpu_count() or 1) >= 2 \
        and _tables_kept(book)
    with contextlib.ExitStack() as stack:
        tables_future = None
        if apart:  # the tables' replay on the other core, while this one checks the chain
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from projections.table_check import check_tables_apart

            pool = stack.enter_context(ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn")))
            tables_future = pool.submit(check_tables_apart, target, book.key, book.name)
        streamed: _Streamed | None
        try:
            streamed = _Streamed(book, tables=not apart)
        except Exception:  # a row only the full decoder reads: checked as before
            streamed = None
        try:
            with progress("Checking the ledger", total) as update:
                chain = audit.check_store(book.open(), book.id, meta,
                                          expect_head=expect_head, progress=update,
                                          sink=streamed.feed if streamed else None)
            if chain.problems or streamed is None:
                return chain, None
            found = streamed.problems(chain)
        finally:
            if streamed is not None:
                streamed.close()
        if found is None or found or tables_future is None or chain.keys is None:
            return chain, found  # (history problems: the tables are not judged)
        try:
            seen, tables = tables_future.result()
        except Exception:  # the other process failed: the whole stream decides, as before
            return chain, None
        keys = chain.keys
        if seen != (keys.count, keys.ordinals.tobytes(), keys.reversals):
            return chain, None  # the stream moved between the two readings
        return chain, tables


def _tables_kept(book: Ledger) -> bool:
    from projections import readmodel

    return readmodel.materialized(book)


def verify_one(book: Ledger, target: str, expect_head: str | None,
               progress: Progress = no_progress) -> tuple[audit.Verification, int | None]:
    """One ledger's verification, and its tables' position when they lag behind."""
    import sqlite3

    from eventsourcing.persistence import PersistenceError

    damaged = _damage(book)
    if damaged is not None:
        result = damaged
    else:
        try:
            result = _verified(book, expect_head, target, progress)
        except (sqlite3.Error, UnicodeDecodeError, PersistenceError):
            damaged = _damage(book, rows=True)
            if damaged is None:
                raise
            result = damaged
    behind = _tables_behind(book) if damaged is None else None
    return result, behind



def _tables_behind(book: Ledger) -> int | None:
    """The read-model tables' position when they lag behind the ledger's head (a catch-up
    after a recording failed, to be retried by the next command); None when they do not."""
    from projections import readmodel

    if not readmodel.materialized(book) or not book.target.exists():
        return None
    model = readmodel._open(book)
    try:
        if not model.current_schema():  # none yet, or another layout: rebuilt on next read
            return None
        position, head = model.position(), book.head()[0]
    except model.db.errors + (ValueError,):  # noqa: RUF005 (mypy reads no unpacking here)
        return None
    finally:
        model.db.close()
    return position if position < head else None


def _verified(book: Ledger, expect_head: str | None, target: str, progress: Progress
              ) -> audit.Verification:
    """Chain, head, history and the read-model tables, as `audit verify` checks them."""
    from events import LedgerEvent
    from ledger import audit, timeline

    app_ = book.open()
    meta = book.meta()
    total = int(meta.get("head_position", "0")) if meta.get(
        "head_position", "0").isdigit() else 0
    chain, found = _verify_streamed(book, meta, expect_head, total, target, progress=progress)
    problems = list(chain.problems)
    if not problems:  # the history (and the tables) are judged on a proven stream
        if found is None:  # the whole stream, as it always was
            rows = audit.read_rows(app_, book.id)
            events = [e for _, e in rows if isinstance(e, LedgerEvent)]
            found = audit.check_history(events)
            if not found:
                from projections.table_check import check_tables

                found = check_tables(book, events)
        problems = found or timeline.verify(app_, book.id, chain.keys, book.stream())
    return audit.verification(problems, chain.count, meta)


def _damage(book: Ledger, *, rows: bool = False) -> audit.Verification | None:
    """A SQLite ledger whose bytes are damaged, as problems naming each damaged table (and
    the event, when the damage is inside one stored row): SQLite's own check, and with
    `rows` every row's text too (what a read that failed on undecodable text needs)."""
    from ledger import audit
    from ledger.damage import sqlite_damage, text_damage

    if book.target.kind != "sqlite" or not book.target.exists():
        return None
    found = sqlite_damage(book.target.path)
    if not found and rows:
        found = text_damage(book.target.path)
    if not found:
        return None
    problems = [audit.Problem(d.position or 0, d.describe()) for d in found]
    return audit.verification(problems, 0, {"head_position": "-1"})


