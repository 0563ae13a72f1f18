"""The few SQL operations the read model's tables need, over a SQLite connection.

`ledger.postgres.PgTables` offers the same over a psycopg connection, so that the read model
(`projections.readmodel`) is written once, in the SQL both servers read alike (double-quoted
names, `?` parameters, `INSERT ... ON CONFLICT DO UPDATE`). No eventsourcing import: a quick
`report summary` reads a plain ledger file through this alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol
from uuid import UUID


class Tables(Protocol):
    """What the read model asks of a connection (`SQLiteTables`, `ledger.postgres.PgTables`)."""

    kind: ClassVar[str]
    errors: ClassVar[tuple[type[Exception], ...]]  # what a failed statement raises
    busy: ClassVar[tuple[type[Exception], ...]]  # a locked table, a lost connection

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def table_names(self) -> set[str]: ...

    def begin_write(self, lock: UUID | None = None) -> None: ...

    def begin_read(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


class SQLiteTables:
    """The read model's SQL over a bare SQLite connection (one writer at a time: the file's)."""

    kind: ClassVar[str] = "sqlite"
    errors: ClassVar[tuple[type[Exception], ...]] = (sqlite3.DatabaseError,)
    busy: ClassVar[tuple[type[Exception], ...]] = (sqlite3.OperationalError,)

    def __init__(self, conn: sqlite3.Connection, *, own: bool = True) -> None:
        self.conn = conn
        # False inside a transaction someone else runs (an import's): begin and commit are theirs.
        self.own = own

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, list(parameters))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def table_names(self) -> set[str]:
        return {row[0] for row in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}

    def begin_write(self, lock: UUID | None = None) -> None:
        """A write transaction (SQLite's one writer lock serves every ledger of the file)."""
        del lock
        if self.own:
            self.conn.execute("BEGIN IMMEDIATE")

    def begin_read(self) -> None:
        if self.own:  # one consistent snapshot of every table
            self.conn.execute("BEGIN")

    def commit(self) -> None:
        if self.own:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.own:
            self.conn.rollback()

    def close(self) -> None:
        self.conn.close()
