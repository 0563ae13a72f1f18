"""The materialized read model: the books kept in tables of the ledger file, caught up.

One table per part of the books (`rm_series`, `rm_lots`, `rm_dividends`, `rm_warrants`,
`rm_capital`, `rm_common_issues`, `rm_baselines`) and `rm_meta`, which holds the position of
the last event applied. Catching up reads only the events recorded after that position,
folds them into the books loaded from the tables (`projections.books.apply`, reversals
un-applying what they reverse) and writes back the rows that changed together with the new
position, in one transaction; so a report without `--as-of` never replays history.

`ReadModel` takes a sqlite-utils `Database` and nothing else, so it can be pointed at another
file. Only a plain SQLite ledger is materialized: an encrypted ledger keeps no plaintext
copy of its figures, and a PostgreSQL ledger is reported by a fresh replay.
"""

from __future__ import annotations

import sqlite3
import typing
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

import sqlite_utils

from events import LedgerEvent
from ledger.service import Ledger
from projections.books import (
    BaselineRow,
    Books,
    CapitalRow,
    CommonIssueRow,
    DividendRow,
    LotRow,
    SeriesRow,
    WarrantRow,
    apply_in_recording_order,
    replay,
)

SCHEMA_VERSION = "1"
META = "rm_meta"
# table -> (attribute of Books, row class, primary key)
TABLES: dict[str, tuple[str, type, str]] = {
    "rm_series": ("series", SeriesRow, "series"),
    "rm_lots": ("lots", LotRow, "id"),
    "rm_dividends": ("dividends", DividendRow, "position"),
    "rm_warrants": ("warrants", WarrantRow, "ref"),
    "rm_capital": ("capital", CapitalRow, "position"),
    "rm_common_issues": ("common_issues", CommonIssueRow, "position"),
    "rm_baselines": ("baselines", BaselineRow, "position"),
}
_COLUMN_TYPES = {Decimal: str, date: str, str: str, int: int, bool: int}


def _base(hint: Any) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def _hints(cls: type) -> dict[str, Any]:
    return {name: _base(hint) for name, hint in typing.get_type_hints(cls).items()}


def to_row(obj: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date):
            value = value.isoformat()
        row[f.name] = value
    return row


def from_row(cls: type, row: dict[str, Any]) -> Any:
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for name, hint in hints.items():
        value = row[name]
        if value is not None:
            if hint is Decimal:
                value = Decimal(value)
            elif hint is date:
                value = date.fromisoformat(value)
            elif hint is bool:
                value = bool(value)
        values[name] = value
    return cls(**values)


class ReadModel:
    """The books in tables of a sqlite-utils `Database`."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    # --- schema ------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        if self._current_schema():
            return
        self.db.conn.execute("BEGIN IMMEDIATE")  # two processes must not both create it
        try:
            if not self._current_schema():
                if self.db.table(META).exists():
                    self._drop_tables()  # an older layout: rebuilt from position zero
                self.db.table(META).create({"key": str, "value": str}, pk="key")
                for table, (_, cls, pk) in TABLES.items():
                    columns = {name: _COLUMN_TYPES[hint] for name, hint in _hints(cls).items()}
                    self.db.table(table).create(columns, pk=pk)
                self._set_meta(schema=SCHEMA_VERSION, position="0", latest_effective="")
            self.db.conn.execute("COMMIT")
        except BaseException:
            self.db.conn.rollback()
            raise

    def _current_schema(self) -> bool:
        return self.db.table(META).exists() and self._meta().get("schema") == SCHEMA_VERSION

    def _drop_tables(self) -> None:
        for table in (*TABLES, META):
            self.db.table(table).drop(ignore=True)

    def drop(self) -> None:
        with self.db.atomic():
            self._drop_tables()

    def _meta(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self.db.table(META).rows}

    def _set_meta(self, **values: str) -> None:
        self.db.table(META).upsert_all(
            [{"key": k, "value": v} for k, v in values.items()], pk="key"
        )

    # --- reading -----------------------------------------------------------------------

    def position(self) -> int:
        return int(self._meta().get("position", "0"))

    def latest_effective(self) -> date | None:
        value = self._meta().get("latest_effective", "")
        return date.fromisoformat(value) if value else None

    def load(self) -> Books:
        books = Books()
        for table, (attr, cls, pk) in TABLES.items():
            target: dict[Any, Any] = getattr(books, attr)
            for row in self.db.table(table).rows:
                target[row[pk]] = from_row(cls, row)
        return books

    # --- writing -----------------------------------------------------------------------

    def catch_up(self, fetch: Callable[[int], Sequence[LedgerEvent]]) -> int:
        """Apply the events recorded after the stored position; returns how many."""
        self.ensure_schema()
        events = list(fetch(self.position()))
        if not events:
            return 0
        self.db.conn.execute("BEGIN IMMEDIATE")
        try:
            position = self.position()  # another process may have caught up meanwhile
            events = [e for e in events if e.originator_version > position]
            if events and events[0].originator_version == position + 1:
                self._apply(events)
            self.db.conn.execute("COMMIT")
        except BaseException:
            self.db.conn.rollback()
            raise
        return len(events)

    def rebuild(self, fetch: Callable[[int], Sequence[LedgerEvent]]) -> int:
        """Forget every materialized row and apply the ledger again from position zero."""
        self.drop()
        return self.catch_up(fetch)

    def _apply(self, events: list[LedgerEvent]) -> None:
        before = self.load()
        after = apply_in_recording_order(before.copy(), events)
        for table, (attr, _, pk) in TABLES.items():
            old: dict[Any, Any] = getattr(before, attr)
            new: dict[Any, Any] = getattr(after, attr)
            changed = [to_row(row) for key, row in new.items() if old.get(key) != row]
            gone = [(key,) for key in old if key not in new]
            if gone:
                self.db.conn.executemany(f"DELETE FROM [{table}] WHERE [{pk}] = ?", gone)
            if changed:
                self.db.table(table).upsert_all(changed, pk=pk)
        latest = self.latest_effective()
        for event in events:
            if latest is None or event.effective_date > latest:
                latest = event.effective_date
        self._set_meta(
            position=str(events[-1].originator_version),
            latest_effective=latest.isoformat() if latest else "",
        )


# --- the ledger's read model -------------------------------------------------------------


def materialized(ledger: Ledger) -> bool:
    """Whether this ledger keeps its books in tables (plain SQLite files only)."""
    return ledger.target.kind == "sqlite" and not ledger.key


def _open(ledger: Ledger) -> ReadModel:
    conn = sqlite3.connect(ledger.target.path, timeout=30)
    return ReadModel(sqlite_utils.Database(conn))


def _fetch(ledger: Ledger) -> Callable[[int], Sequence[LedgerEvent]]:
    def fetch(after: int) -> Sequence[LedgerEvent]:
        head, _ = ledger.head()
        if after > head:
            raise _Behind(after)
        return ledger.events(after=after)

    return fetch


class _Behind(Exception):
    """The tables claim a position the ledger does not have: they belong to other history."""


def catch_up(ledger: Ledger) -> bool:
    """Bring the ledger's read-model tables up to its last event. Call after every write.

    Returns False (and changes nothing) when the ledger is not materialized or the tables
    are busy; the next read catches up instead.
    """
    if not materialized(ledger) or not ledger.target.exists():
        return False
    ledger.open()
    model = _open(ledger)
    try:
        try:
            model.catch_up(_fetch(ledger))
        except _Behind:
            model.rebuild(_fetch(ledger))
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        model.db.close()


def rebuild(ledger: Ledger) -> int:
    """Drop the ledger's read-model tables and apply every event again from position zero."""
    if not materialized(ledger):
        return 0
    ledger.open()
    model = _open(ledger)
    try:
        return model.rebuild(_fetch(ledger))
    finally:
        model.db.close()


def current_books(ledger: Ledger) -> tuple[Books, date | None]:
    """The books with every recorded event applied, and the latest effective date recorded.

    From the tables when the ledger is materialized (caught up first), else by replay.
    """
    if catch_up(ledger):
        model = _open(ledger)
        try:
            model.db.conn.execute("BEGIN")  # one consistent snapshot of every table
            books, latest = model.load(), model.latest_effective()
            model.db.conn.execute("COMMIT")
            return books, latest
        finally:
            model.db.close()
    events = ledger.events()
    latest = max((e.effective_date for e in events), default=None)
    return replay(events), latest
