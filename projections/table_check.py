"""`audit verify`'s check of the materialized read-model tables, in bounded memory.

The tables are judged against a fresh replay of the timeline they claim to have applied,
row by row, with the same findings (and words) as comparing two whole `Books`
(`ledger.audit.compare_rows`). Neither side is held whole: the replay folds into books whose
largest tables spill their oldest rows into a scratch SQLite file (and read them back if an
event touches them again), and the comparison is made in SQL, table by table, so that only
the rows that differ are ever built in Python and compared field by field.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import shutil
import sqlite3
import tempfile
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from events import LedgerEvent
from ledger import audit
from ledger.service import Ledger
from ledger.sqltables import SQLiteTables
from ledger.state import timeline
from ledger.stream import Keys
from projections import readmodel
from projections.books import Books, apply

SPILL_LIMIT = 50_000  # rows of one table held in memory before the oldest half is spilled
SPILLED = ("lots", "warrants", "dividends", "capital", "common_issues", "baselines")


class _Scratch:
    """A private scratch SQLite file with the read model's tables, for the replayed rows."""

    def __init__(self, ledger: str) -> None:
        self.ledger = ledger
        self.folder = tempfile.mkdtemp(prefix="finledger-verify-")
        self.path = str(Path(self.folder) / "fresh.db")
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        for sql in readmodel.create_table_statements():
            self.db.execute(sql)

    def write(self, table: str, rows: Iterable[Any]) -> None:
        _, cls, _ = readmodel.TABLES[table]
        names = _names(cls)
        encoded = [_encode(row, names) for row in rows]
        if not encoded:
            return
        self.db.execute("BEGIN")
        self.db.executemany(
            f"INSERT OR REPLACE INTO [{table}] ({', '.join(f'[{n}]' for n in ('ledger', *names))}) "
            f"VALUES ({', '.join('?' * (len(names) + 1))})",
            [[self.ledger, *values] for values in encoded])
        self.db.execute("COMMIT")

    def read(self, table: str, key: Any) -> Any:
        _, cls, pk = readmodel.TABLES[table]
        cursor = self.db.execute(f"SELECT * FROM [{table}] WHERE [{pk}] = ?", [key])
        names = [d[0] for d in cursor.description]
        found = cursor.fetchone()
        if found is None:
            return None
        return readmodel.from_row(cls, dict(zip(names, found, strict=True)))

    def close(self) -> None:
        self.db.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@functools.cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_AS_IS = frozenset({str, int, type(None)})


def _encode(row: Any, names: tuple[str, ...]) -> list[Any]:
    """`readmodel.to_row(row)`'s values in field order, with the common types done inline."""
    values = []
    for name in names:
        value = getattr(row, name)
        kind = type(value)
        if kind in _AS_IS:
            values.append(value)
        elif kind is Decimal:
            values.append(str(value))
        elif kind is date:
            values.append(value.isoformat())
        else:  # bool, subclasses: exactly as to_row converts them
            values.append(readmodel.to_row(_One(value))["value"])
    return values


@dataclasses.dataclass(frozen=True)
class _One:
    value: Any


class _Spilling(dict[Any, Any]):
    """A table of the books that keeps at most `limit` rows in memory, the rest in scratch.

    The fold reads and replaces rows with `books.table[key]`; a row spilled earlier is read
    back from scratch on its next use, so the fold sees exactly the rows a plain dict holds."""

    def __init__(self, scratch: _Scratch, table: str, limit: int) -> None:
        super().__init__()
        self.scratch = scratch
        self.table = table
        self.limit = limit

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        if len(self) > self.limit:
            self.spill(len(self) // 2)

    def __missing__(self, key: Any) -> Any:
        row = self.scratch.read(self.table, key)
        if row is None:
            raise KeyError(key)
        super().__setitem__(key, row)
        return row

    def spill(self, count: int | None = None) -> None:
        keys = list(self) if count is None else [k for k, _ in zip(self, range(count),
                                                                     strict=False)]
        self.scratch.write(self.table, [dict.__getitem__(self, k) for k in keys])
        for key in keys:
            dict.__delitem__(self, key)


class TableCheck:
    """The read-model tables of one ledger, checked against a replay fed event by event."""

    def __init__(self, book: Ledger, model: readmodel.ReadModel, position: int,
                 latest: date | None) -> None:
        self.book = book
        self.model = model
        self.position = position
        self.latest = latest  # the latest effective date of the events up to `position`
        self.scratch = _Scratch(model.ledger)
        self.books = Books()
        for attr in SPILLED:
            table = next(t for t, (a, _, _) in readmodel.TABLES.items() if a == attr)
            setattr(self.books, attr, _Spilling(self.scratch, table, SPILL_LIMIT))
        self.applied = 0
        self.failure: Exception | None = None

    @classmethod
    def start(cls, book: Ledger, count: int, latest: Callable[[int], date | None]
              ) -> TableCheck | list[audit.Problem]:
        """A check to feed, or its findings already (none, when nothing is materialized).
        `latest(position)` is the latest effective date of the events up to a position (what
        the tables' metadata must say)."""
        if not readmodel.materialized(book) or not book.target.exists():
            return []
        model = readmodel._open(book)
        try:
            if not model.exists():
                model.db.close()
                return []  # nothing materialized yet: the reports replay
            fault = model.fault()
            if fault is not None:
                model.db.close()
                return [audit.Problem(0, f"the read-model tables cannot be read: {fault}")]
            position = model.position()
            if position > count:
                model.db.close()
                return [audit.Problem(position, f"the read-model tables claim position "
                                                f"{position}, but the ledger holds {count} "
                                                "events")]
            if not model.current_schema() or not model.started():
                model.db.close()  # tables of another layout, or none of this ledger yet
                return []
        except Exception as exc:  # damaged tables are a finding, not a crash
            model.db.close()
            return [audit.Problem(0, f"the read-model tables cannot be read: {exc}")]
        return cls(book, model, position, latest(position))

    def apply(self, event: LedgerEvent) -> None:
        if self.failure is not None:
            return
        try:
            apply(self.books, event)
        except Exception as exc:  # reported as the comparison of old reported it
            self.failure = exc
        self.applied += 1

    def tap(self, events: Iterable[LedgerEvent]) -> Iterator[LedgerEvent]:
        """The events passed through, each folded into the replay on the way."""
        for event in events:
            self.apply(event)
            yield event

    def finish(self, timeline: Callable[[int], Iterable[LedgerEvent]] | None = None
               ) -> list[audit.Problem]:
        """The findings; `timeline(position)` replays the events when they were not fed."""
        try:
            if timeline is not None:
                for event in timeline(self.position):
                    self.apply(event)
            return self._compare()
        finally:
            self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.model.db.close()
        self.scratch.close()

    # --- comparing ------------------------------------------------------------------------

    def _whole(self) -> list[audit.Problem]:
        """The tables loaded whole and compared as `Books`: for damaged table layouts only,
        where reading them row by row must fail (or not) exactly as loading them does."""
        try:
            stored = self.model.load()
            if self.failure is not None:
                raise self.failure
            fresh = self._fresh_whole()
        except Exception as exc:
            return [audit.Problem(0, f"the read-model tables cannot be read: {exc}")]
        problems = self._meta_problems()
        for table, (attr, _, _) in readmodel.TABLES.items():
            problems.extend(audit.compare_rows(table, getattr(stored, attr),
                                               getattr(fresh, attr)))
        return problems or self._derived_problems()

    def _derived_problems(self) -> list[audit.Problem]:
        """The tables kept from the books' rows (`rm_holders`), once those rows are proven."""
        try:
            faults = self.model.holder_sums_faults()
        except Exception as exc:  # damaged tables are a finding, not a crash
            return [audit.Problem(0, f"the read-model tables cannot be read: {exc}")]
        return [audit.Problem(self.position, fault) for fault in faults]

    def _meta_problems(self) -> list[audit.Problem]:
        """`rm_meta` against the events it claims: the latest effective date every report
        defaults to."""
        stored = self.model.latest_effective()
        if stored == self.latest:
            return []
        return [audit.Problem(self.position, f"rm_meta latest_effective is "
                                             f"{stored or 'none'} in the tables but "
                                             f"{self.latest or 'none'} by replay")]

    def _fresh_whole(self) -> Books:
        fresh = Books()
        for table, (attr, cls, pk) in readmodel.TABLES.items():
            target: dict[Any, Any] = getattr(fresh, attr)
            target.clear()
            cursor = self.scratch.db.execute(f"SELECT * FROM [{table}]")
            names = [d[0] for d in cursor.description]
            for values in cursor:
                row = readmodel.from_row(cls, dict(zip(names, values, strict=True)))
                target[getattr(row, pk)] = row
        return fresh

    def _flush(self) -> None:
        for table, (attr, _, _) in readmodel.TABLES.items():
            rows: dict[Any, Any] = getattr(self.books, attr)
            if isinstance(rows, _Spilling):
                rows.spill()
            else:
                self.scratch.write(table, rows.values())

    def _layout_ok(self) -> bool:
        """Every table there with every column the rows need (else `_whole` decides)."""
        for table, (_, cls, _) in readmodel.TABLES.items():
            try:
                cursor = self.model.db.execute(f"SELECT * FROM [{table}] LIMIT 0")
            except self.model.db.errors:
                return False
            names = {d[0] for d in cursor.description}
            if not set(readmodel._hints(cls)) <= names:
                return False
        return True

    def _compare(self) -> list[audit.Problem]:
        self._flush()
        self.scratch.db.close()
        if self.failure is not None or not self._layout_ok() or self.model.db.kind != "sqlite":
            # (on PostgreSQL the ledger's rows are loaded and compared whole)
            self.scratch.db = sqlite3.connect(self.scratch.path, isolation_level=None)
            return self._whole()
        db = typing.cast("SQLiteTables", self.model.db).conn
        db.execute("ATTACH DATABASE ? AS fresh", [self.scratch.path])
        try:
            differing: list[tuple[str, dict[Any, Any], dict[Any, Any]]] = []
            try:
                db.execute("BEGIN")  # one consistent reading of every table
                for table, (_, cls, pk) in readmodel.TABLES.items():
                    kept, replayed = self._differing(db, table, cls, pk, self.model.ledger)
                    differing.append((table, kept, replayed))
                db.execute("COMMIT")
            except Exception as exc:  # damaged tables are a finding, not a crash
                return [audit.Problem(0, f"the read-model tables cannot be read: {exc}")]
            problems = self._meta_problems()
            for table, kept, replayed in differing:
                problems.extend(audit.compare_rows(table, kept, replayed))
            return problems or self._derived_problems()
        finally:
            with contextlib.suppress(Exception):
                db.execute("ROLLBACK")
            db.execute("DETACH DATABASE fresh")
            self.scratch.db = sqlite3.connect(self.scratch.path, isolation_level=None)

    @staticmethod
    def _differing(db: sqlite3.Connection, table: str, cls: type, pk: str, ledger: str
                   ) -> tuple[dict[Any, Any], dict[Any, Any]]:
        """The rows of `table` without an identical row on the other side, each side keyed as
        `ReadModel.load` keys them. SQL's `IS` equal implies equal in Python, so every row
        that a whole comparison would report is among them; `compare_rows` then decides."""
        names = list(readmodel._hints(cls))
        same = " AND ".join(f"o.[{n}] IS t.[{n}]" for n in names)
        found: list[dict[Any, Any]] = []
        for this, other in (("main", "fresh"), ("fresh", "main")):
            cursor = db.execute(
                f"SELECT * FROM {this}.[{table}] AS t WHERE t.ledger = ? AND NOT EXISTS "
                f"(SELECT 1 FROM {other}.[{table}] AS o WHERE o.ledger = t.ledger AND "
                f"o.[{pk}] = t.[{pk}] AND {same}) ORDER BY t.rowid", [ledger])
            columns = [d[0] for d in cursor.description]
            rows: dict[Any, Any] = {}
            for values in cursor:
                row = readmodel.from_row(cls, dict(zip(columns, values, strict=True)))
                rows[getattr(row, pk)] = row
            found.append(rows)
        kept, replayed = found
        return kept, replayed


def check_tables_apart(target: str, key: str | None, ledger: str = "main"
                       ) -> tuple[tuple[int, bytes, list[tuple[int, int]]], list[audit.Problem]]:
    """The table check in a process of its own (it opens the ledger itself and streams
    the timeline), with the keys it ordered the replay by: the caller's chain check must
    have seen the very same keys for the finding to count."""
    from ledger.gc_pause import paused_gc

    with Ledger(target, key=key, ledger=ledger) as book:
        stream = book.stream()
        keys = stream.keys()
        seen = (keys.count, keys.ordinals.tobytes(), keys.reversals)
        started = TableCheck.start(book, keys.count, functools.partial(latest_in, keys))
        if isinstance(started, list):
            return seen, started
        with paused_gc():
            return seen, started.finish(lambda position: stream.timeline(keys, upto=position))


def check_tables(book: Ledger, events: list[LedgerEvent]) -> list[audit.Problem]:
    """The whole check over events already in memory (small ledgers, tests)."""
    started = TableCheck.start(book, len(events), functools.partial(latest_of, events))
    if isinstance(started, list):
        return started
    return started.finish(lambda position: timeline(events[:position]))


def latest_in(keys: Keys, position: int) -> date | None:
    """The latest effective date of the events up to `position`, from their keys."""
    ordinals = keys.ordinals[1:position + 1]
    return date.fromordinal(max(ordinals)) if ordinals else None


def latest_of(events: Sequence[LedgerEvent], position: int) -> date | None:
    """The latest effective date of the first `position` events."""
    return max((e.effective_date for e in events[:position]), default=None)


__all__ = ["TableCheck", "check_tables", "check_tables_apart"]
