"""The materialized read model: the books kept in tables of the ledger file, caught up.

One table per part of the books (`rm_series`, `rm_lots`, `rm_dividends`, `rm_warrants`,
`rm_capital`, `rm_common_issues`, `rm_baselines`, and `rm_totals`, one row of running sums)
and `rm_meta`, which holds the position of the last event applied. Catching up reads only
the events recorded after that position, loads by primary key only the rows those events
touch (`projections.books.touches`), folds the events in (`projections.books.apply`,
reversals un-applying what they reverse) and writes back the rows that changed together with
the new position, in one transaction: its cost follows the new events, not the history.

A current summary (`live`) reads the running totals and only what is live state: the series,
their open lots, each series' latest dividend, the warrants with shares left that have not
expired, the latest baseline and the common issued since it (through indexes), so its cost
does not grow with history either. The other current reports read only the rows they print
and the sums they need (`current_preferred`: the series, a row per holder of each from
`rm_holders`, kept beside the lots from their changes, and the open lots; `current_warrants`:
the warrants and their terms; `current_capital`: the entries shown, and only the gross of
those before `--since`; `current_dividends`: the series, open lots and dividends), each equal
to the report of the whole books (tests/laws/test_current_reports.py). `load` reads every row.

Every row carries its ledger's name (a store holds many ledgers, `ledger.ledgers`), and
`rm_meta` holds each ledger's position beside the store's layout version. The SQL is written
once for SQLite and PostgreSQL alike, over `ledger.sqltables.SQLiteTables` or
`ledger.postgres.PgTables`, and the tables come from one set of statements
(`create_table_statements`, a column per field of the row classes), so a field added to a row
is a column on both servers. On SQLite the tables are caught up after each write (and by an
import inside its transaction); on PostgreSQL each write applies its event inside the
transaction that appends it (`follower`, called by the store), so that writers on several
machines never leave the tables behind or ahead of the stream. An encrypted ledger keeps no
plaintext copy of its figures: it is reported by a fresh replay.
"""

from __future__ import annotations

import sqlite3
import sys
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from events import Instrument, LedgerEvent
from ledger.ledgers import DEFAULT as DEFAULT_LEDGER
from ledger.ledgers import ledger_id
from ledger.location import is_sqlite_ledger_file, plain_head
from ledger.sqltables import SQLiteTables, Tables
from projections import reports
from projections.books import (
    TOTALS,
    BaselineRow,
    Books,
    CapitalRow,
    CommonIssueRow,
    DividendRow,
    LotRow,
    SeriesRow,
    TermsRow,
    TotalsRow,
    WarrantRow,
    apply_in_recording_order,
    in_force,
    replay,
    touches,
)

if TYPE_CHECKING:  # the store (eventsourcing) loads only when the events must be read

    from ledger.service import Ledger
    from projections.dividends import DividendsReport

# Any other value in rm_meta (an older layout, or none readable) drops every rm_ table and
# applies the ledger again from position zero.
# 3: series frequency and dividend form, dividends paid by form; 4: many ledgers, every row
# keyed by its ledger's name; 5: terms changed by splits and adjustments (rm_terms);
# 6: transfers and redemptions (lots, warrants, capital); 7: each holder's sums over its lots
# of a series (rm_holders) and the indexes the current reports read by
SCHEMA_VERSION = "7"
META = "rm_meta"
STORE_ROW = ""  # rm_meta's rows of the store (the layout), beside each ledger's own
META_TABLE_SQL = (f'CREATE TABLE "{META}" ("ledger" TEXT NOT NULL, "key" TEXT NOT NULL, '
                  '"value" TEXT, PRIMARY KEY ("ledger", "key"))')
# table -> (attribute of Books, row class, primary key)
TABLES: dict[str, tuple[str, type, str]] = {
    "rm_series": ("series", SeriesRow, "series"),
    "rm_lots": ("lots", LotRow, "id"),
    "rm_dividends": ("dividends", DividendRow, "position"),
    "rm_warrants": ("warrants", WarrantRow, "ref"),
    "rm_capital": ("capital", CapitalRow, "position"),
    "rm_common_issues": ("common_issues", CommonIssueRow, "position"),
    "rm_baselines": ("baselines", BaselineRow, "position"),
    "rm_totals": ("totals", TotalsRow, "key"),
    "rm_terms": ("terms", TermsRow, "key"),
}


@dataclass(frozen=True, kw_only=True)
class HolderSumsRow:
    """One holder's sums over every lot of a series it ever held (`reports.HolderTotals`),
    how many lots that is, and the first of them in lot order (where the holder stands
    among the series' holders). Kept beside the lots, from the lots' changes, so that a
    current preferred report reads a row per holder and the open lots, not every lot."""

    series: str
    holder: str
    issued: int
    converted: int
    redeemed: int
    lots: int
    first_issued_on: date
    first_position: int
    first_seq: int
    first_id: str

    @property
    def first(self) -> tuple[date, int, int, str]:
        return self.first_issued_on, self.first_position, self.first_seq, self.first_id


# A lot with shares outstanding. The column stands on the left: SQLite turns `expr < column`
# round before matching a partial index, so only this form is served by `rm_lots_outstanding`.
OPEN_LOTS = "issued > converted + redeemed + transferred"

# The indexes' own version (rm_meta `indexes`): a change to them is made in place by the next
# catch-up (`ensure_schema`), never by rebuilding the tables. 2: `rm_lots_outstanding` for
# `rm_lots_open`, whose `expr < column` form SQLite never used.
INDEX_FORM = "2"
RETIRED_INDEXES = ("rm_lots_open",)

INDEXES = (
    # open lots of a series (accrued dividends, as-converted common)
    f"CREATE INDEX IF NOT EXISTS rm_lots_outstanding ON rm_lots (ledger, series) WHERE {OPEN_LOTS}",
    # warrants with shares left, by expiry (the overhang as of a date)
    "CREATE INDEX IF NOT EXISTS rm_warrants_live ON rm_warrants (ledger, expires) "
    "WHERE exercised < issued + transferred",
    "CREATE INDEX IF NOT EXISTS rm_dividends_through ON rm_dividends (ledger, series, through)",
    'CREATE INDEX IF NOT EXISTS rm_baselines_date ON rm_baselines (ledger, "date", position)',
    'CREATE INDEX IF NOT EXISTS rm_common_issues_date ON rm_common_issues (ledger, "date", shares)',
    # a holder's lots of a series (its first lot, when one is taken back out)
    "CREATE INDEX IF NOT EXISTS rm_lots_holder ON rm_lots (ledger, series, holder)",
    # the entries of `report capital --since` and the gross before them
    'CREATE INDEX IF NOT EXISTS rm_capital_date ON rm_capital (ledger, "date", position, gross)',
)
HOLDERS = "rm_holders"
CHUNK = 500  # keys per `IN (...)`, well under SQLite's variable limit
BATCH = 5_000  # events folded in at a time
# One set of types both servers read alike (BIGINT: share counts pass PostgreSQL's INTEGER).
_COLUMN_TYPES = {Decimal: "TEXT", date: "TEXT", str: "TEXT", int: "BIGINT", bool: "BIGINT"}


def _base(hint: Any) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


@cache
def _hints(cls: type) -> dict[str, Any]:
    return {name: _base(hint) for name, hint in typing.get_type_hints(cls).items()}


def _reader(hint: Any) -> Callable[[Any], Any] | None:
    if hint is Decimal:
        return Decimal
    if hint is date:
        return date.fromisoformat
    if hint is bool:
        return bool
    return None


@cache
def _readers(cls: type) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    return tuple((name, _reader(hint)) for name, hint in _hints(cls).items())


def to_row(obj: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    cls: type = type(obj)
    for name in _field_names(cls):
        value = getattr(obj, name)
        kind = type(value)
        if kind is str or kind is int or value is None:
            pass
        elif kind is Decimal:
            value = str(value)
        elif kind is date:
            value = value.isoformat()
        elif isinstance(value, bool):
            value = int(value)
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date):
            value = value.isoformat()
        row[name] = value
    return row


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def from_row(cls: type, row: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for name, read in _readers(cls):
        value = row[name]
        values[name] = read(value) if read is not None and value is not None else value
    return cls(**values)


def _whole_cents(price: Decimal) -> bool:
    exponent = price.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -2


def create_table_statements() -> list[str]:
    """The CREATE TABLE of every read-model table, on SQLite and PostgreSQL alike: the
    ledger's name, then one column per row field, keyed by both (`verify` builds its scratch
    copy of the tables from the same statements). A field added to a row class is a column
    on both servers with no other change."""
    statements = []
    for table, (_, cls, pk) in TABLES.items():
        columns = ", ".join(f'"{name}" {_COLUMN_TYPES[hint]}' for name, hint in _hints(cls).items())
        statements.append(f'CREATE TABLE "{table}" ("ledger" TEXT NOT NULL, {columns}, '
                          f'PRIMARY KEY ("ledger", "{pk}"))')
    return statements


def summary_table_statements() -> list[str]:
    """The tables kept beside the books' rows, derived from them (`rm_holders`)."""
    columns = ", ".join(f'"{name}" {_COLUMN_TYPES[hint]}'
                        for name, hint in _hints(HolderSumsRow).items())
    return [f'CREATE TABLE "{HOLDERS}" ("ledger" TEXT NOT NULL, {columns}, '
            'PRIMARY KEY ("ledger", "series", "holder"))']


def meta_fault(meta: dict[str, str]) -> str | None:
    """What is wrong with the values of `rm_meta`, if anything."""
    position = meta.get("position", "")
    if not (position.isascii() and position.isdigit()):
        return f"rm_meta position {position[:40]!r} is not a position"
    latest = meta.get("latest_effective", "")
    try:
        if latest:
            date.fromisoformat(latest)
    except ValueError:
        return f"rm_meta latest_effective {latest[:40]!r} is not a date"
    return None


def note(message: str) -> None:
    """One line on stderr: the read model repairs itself in whichever command reads it, and
    the person running that command is told (plain text; the CLI's consoles are not here)."""
    sys.stderr.write(f"Note: {message}\n")
    sys.stderr.flush()


class Unreadable(Exception):
    """The tables could not be read as the books: they are rebuilt, or the ledger replayed."""


class ReadModel:
    """The books of one ledger (`ledger`, its name) in the store's read-model tables, over
    `ledger.sqltables.SQLiteTables` or `ledger.postgres.PgTables` (a sqlite-utils
    `Database` or a bare connection's `Reader` is taken as its SQLite connection)."""

    def __init__(self, db: Any, ledger: str = DEFAULT_LEDGER) -> None:
        if not hasattr(db, "begin_write"):
            db = SQLiteTables(db.conn)
        self.db: Tables = db
        self.ledger = ledger
        self.indexed = False  # the indexes are of this INDEX_FORM (known once rm_meta is read)

    # --- schema ------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        if self.current_schema():
            if self._meta().get("indexes") != INDEX_FORM:
                self._upgrade_indexes()
            return
        self.db.begin_write()  # two processes must not both create it
        try:
            if not self.current_schema():
                fault = self.fault()
                if fault is not None:
                    note(f"the read-model tables cannot be read ({fault}); rebuilding them "
                         "from the ledger")
                self._drop_tables()  # an older layout (or none): rebuilt from position zero
                # plain DDL, so that nothing commits before the layout is whole
                for sql in [META_TABLE_SQL, *create_table_statements(),
                            *summary_table_statements(), *INDEXES]:
                    self.db.execute(sql)
                self.db.executemany(
                    f'INSERT INTO "{META}" (ledger, key, value) VALUES (?, ?, ?)',
                    [(STORE_ROW, "schema", SCHEMA_VERSION), (STORE_ROW, "indexes", INDEX_FORM)])
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise

    def _upgrade_indexes(self) -> None:
        """The indexes of this `INDEX_FORM` made in place (the rows stay as they are)."""
        self.db.begin_write()
        try:
            for name in RETIRED_INDEXES:
                self.db.execute(f'DROP INDEX IF EXISTS "{name}"')
            for sql in INDEXES:
                self.db.execute(sql)
            self.db.execute(f'DELETE FROM "{META}" WHERE ledger = ? AND key = ?',
                            [STORE_ROW, "indexes"])
            self.db.execute(f'INSERT INTO "{META}" (ledger, key, value) VALUES (?, ?, ?)',
                            [STORE_ROW, "indexes", INDEX_FORM])
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise
        self.indexed = True

    def current_schema(self) -> bool:
        """The tables are of this layout, and their metadata can be read (else they are
        rebuilt from position zero by the next catch-up)."""
        if not self.exists():  # (asked first: a failed query ends a PostgreSQL transaction)
            return False
        try:
            meta = self._meta()
        except self.db.errors + (KeyError,):  # noqa: RUF005 (mypy reads no unpacking here)
            return False  # no rm_meta, or one of another layout
        return meta.get("schema") == SCHEMA_VERSION and meta_fault(meta) is None

    def fault(self) -> str | None:
        """Why tables of this layout cannot be used as they are (None when they can)."""
        if not self.exists():
            return None
        try:
            meta = self._meta()
        except self.db.errors + (KeyError,):  # noqa: RUF005 (mypy reads no unpacking here)
            return None
        return meta_fault(meta) if meta.get("schema") == SCHEMA_VERSION else None

    def exists(self) -> bool:
        """Whether the store has read-model tables at all."""
        return META in self.db.table_names()

    def _drop_tables(self) -> None:
        for table in sorted(t for t in self.db.table_names() if t.startswith("rm_")):
            self.db.execute(f'DROP TABLE IF EXISTS "{table}"')

    def drop(self) -> None:
        """Forget this ledger's rows; the tables themselves (every ledger's rows, each then
        caught up again by its next command) when they are of another layout or too
        damaged to delete rows from."""
        for whole in (False, True):
            self.db.begin_write(self._lock)
            try:
                if not whole and self.current_schema():
                    for table in [*TABLES, HOLDERS, META]:
                        self.db.execute(f'DELETE FROM "{table}" WHERE ledger = ?', [self.ledger])
                else:
                    self._drop_tables()
                self.db.commit()
                return
            except self.db.errors:
                self.db.rollback()
                if whole:
                    raise
            except BaseException:
                self.db.rollback()
                raise

    @property
    def _lock(self) -> Any:
        return ledger_id(self.ledger)

    def _meta(self) -> dict[str, str]:
        found = self.db.execute(f'SELECT ledger, key, value FROM "{META}" WHERE ledger IN (?, ?)',
                                [STORE_ROW, self.ledger]).fetchall()
        meta = {key: value for ledger, key, value in found if ledger == STORE_ROW}
        self.indexed = meta.get("indexes") == INDEX_FORM
        own = {key: value for ledger, key, value in found if ledger != STORE_ROW}
        meta.update(own or {"position": "0", "latest_effective": ""})
        return meta

    def _write(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert or replace whole rows of this ledger (plain SQL: no commit behind the
        caller's back)."""
        names = list(rows[0])
        pk = TABLES[table][2]
        columns = ", ".join(f'"{n}"' for n in ["ledger", *names])
        updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n != pk)
        self.db.executemany(
            f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" * (len(names) + 1))}) '
            f'ON CONFLICT ("ledger", "{pk}") DO UPDATE SET {updates}',
            [[self.ledger, *(row[name] for name in names)] for row in rows])

    def _set_meta(self, **values: str) -> None:
        self.db.executemany(
            f'INSERT INTO "{META}" (ledger, key, value) VALUES (?, ?, ?) '
            "ON CONFLICT (ledger, key) DO UPDATE SET value = excluded.value",
            [[self.ledger, key, value] for key, value in values.items()])

    # --- reading -----------------------------------------------------------------------

    def position(self) -> int:
        """The last event applied; 0 for tables of another layout (nothing usable)."""
        meta = self._usable_meta()
        return int(meta.get("position", "0"))

    def latest_effective(self) -> date | None:
        value = self._usable_meta().get("latest_effective", "")
        return date.fromisoformat(value) if value else None

    def _usable_meta(self) -> dict[str, str]:
        try:
            meta = self._meta()
        except self.db.errors:
            return {}
        return meta if meta.get("schema") == SCHEMA_VERSION and meta_fault(meta) is None else {}

    def _rows(self, table: str, where: str = "", params: Sequence[Any] = ()) -> list[Any]:
        _, cls, _ = TABLES[table]
        names = _field_names(cls)
        columns = ", ".join(f'"{n}"' for n in names)
        clause = f"AND {where}" if where.strip() and not where.lstrip().startswith("ORDER") \
            else where
        source = f'"{table}"'
        if table == "rm_lots" and OPEN_LOTS in where and self.indexed \
                and self.db.kind == "sqlite":
            # SQLite's planner, without statistics, may take the holder index for these and
            # read every lot ever issued; the index of open lots reads only those.
            source += " INDEXED BY rm_lots_outstanding"
        cursor = self.db.execute(f'SELECT {columns} FROM {source} WHERE ledger = ? {clause}',
                                 [self.ledger, *params])
        return [from_row(cls, dict(zip(names, values, strict=True))) for values in cursor]

    def load(self) -> Books:
        """Every row of every table: the whole books (none for tables of another layout,
        which the next catch-up rebuilds)."""
        books = Books()
        if not self.current_schema() or not self.started():
            return books  # (a ledger with no rows yet: the books of no event)
        for table, (attr, _, pk) in TABLES.items():
            target: dict[Any, Any] = getattr(books, attr)
            target.clear()
            for row in self._rows(table):
                target[getattr(row, pk)] = row
        return books

    def load_keys(self, wanted: dict[str, set[Any]]) -> Books:
        """Only the rows named by `wanted` (attribute of `Books` -> keys); absent keys are
        simply not there (rows the events will create)."""
        books = Books()
        for table, (attr, _, pk) in TABLES.items():
            target: dict[Any, Any] = getattr(books, attr)
            target.clear()
            keys = sorted(wanted.get(attr, ()), key=str)
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start:start + CHUNK]
                marks = ", ".join("?" * len(chunk))
                for row in self._rows(table, f'"{pk}" IN ({marks})', chunk):
                    target[getattr(row, pk)] = row
        return books

    def live(self, on: date) -> reports.Live:
        """What a current summary as of `on` needs (`on` on or after every effective date):
        the running totals and the live state, never a row per past event. The overhang
        comes summed per exercise price where that is exact (a price in whole cents makes
        each warrant's proceeds a whole number of cents), else warrant by warrant."""
        books = Books()
        books.totals = {row.key: row for row in self._rows("rm_totals")}
        for series in self._rows("rm_series"):
            books.series[series.series] = series
            for lot in self._rows("rm_lots", f"series = ? AND {OPEN_LOTS}",
                                  [series.series]):
                books.lots[lot.id] = lot
            for dividend in self._rows(
                "rm_dividends", "series = ? ORDER BY through DESC LIMIT 1", [series.series]
            ):
                books.dividends[dividend.position] = dividend
        books.terms = {row.key: row for row in self._rows("rm_terms")}
        force = books.in_force()
        changed = sorted(set(force.warrant_prices) | set(force.adjusted))
        overhang: list[tuple[int, Decimal]] = []
        # A warrant whose terms changed, warrant by warrant: its price in force and its
        # shares adjusted are in the terms rows (few), not in its row.
        for start in range(0, len(changed), CHUNK):
            chunk = changed[start:start + CHUNK]
            marks = ", ".join("?" * len(chunk))
            for warrant in self._rows("rm_warrants", f"ref IN ({marks})", chunk):
                shares = reports.warrant_outstanding(warrant, on, force)
                if shares > 0:
                    overhang.append((shares, force.exercise_price(warrant)))
        unchanged = ""
        if changed:
            unchanged = (" AND ref NOT IN (SELECT name FROM rm_terms WHERE ledger = ? "
                         "AND instrument = 'warrant')")
        # two index ranges (an OR would scan every warrant that ever lapsed with shares left)
        live = ("SELECT exercise_price AS price, issued + transferred - exercised AS shares "
                "FROM rm_warrants WHERE ledger = ? AND exercised < issued + transferred "
                f"AND expires >= ?{unchanged} UNION ALL "
                "SELECT exercise_price, issued + transferred - exercised FROM rm_warrants "
                f"WHERE ledger = ? AND exercised < issued + transferred AND expires IS NULL"
                f"{unchanged}")
        inner = [self.ledger] if changed else []
        day = [self.ledger, on.isoformat(), *inner, self.ledger, *inner]
        groups = self.db.execute(
            f"SELECT price, SUM(shares) FROM ({live}) AS live GROUP BY price", day).fetchall()
        for price_text, shares in groups:
            price = Decimal(price_text)
            if _whole_cents(price):  # each warrant's proceeds is exact: the group's sum is too
                overhang.append((int(shares), price))
            else:
                overhang.extend((int(each), price) for (each,) in self.db.execute(
                    f"SELECT shares FROM ({live}) AS live WHERE price = ?", [*day, price_text]))
        latest = self._rows("rm_baselines", 'ORDER BY "date" DESC, position DESC LIMIT 1')
        baseline: BaselineRow | None = latest[0] if latest else None
        if baseline is None:
            issued_since = books.totals[TOTALS].common_issued
        else:
            (issued_since,) = self.db.execute(
                'SELECT COALESCE(SUM(shares), 0) FROM rm_common_issues WHERE ledger = ? '
                'AND "date" > ?', [self.ledger, baseline.date.isoformat()]).fetchone()
            issued_since = int(issued_since)
        return reports.Live(books=books, overhang=overhang, baseline=baseline,
                            issued_since_baseline=issued_since,
                            adjusted=sum(force.adjusted.values()))

    # --- writing -----------------------------------------------------------------------

    def catch_up(self, fetch: Callable[[int], Sequence[LedgerEvent]]) -> int:
        """Apply the events recorded after the stored position; returns how many.

        `fetch(after)` returns the events after a position, all of them or the first page:
        it is asked again until it returns none, each page applied in its own transaction
        (holding the ledger's lock, which its writers hold too)."""
        self.ensure_schema()
        applied = 0
        while events := list(fetch(self.position())):
            self.db.begin_write(self._lock)
            try:
                position = self.position()  # another process may have caught up meanwhile
                events = [e for e in events if e.originator_version > position]
                if not events or events[0].originator_version != position + 1:
                    self.db.commit()
                    break
                self._apply(events)
                self.db.commit()
            except BaseException:
                self.db.rollback()
                raise
            applied += len(events)
        return applied

    def follow(self, events: Sequence[LedgerEvent]) -> bool:
        """Inside the transaction that appends `events`: apply them when the tables stand
        exactly before them (else the next catch-up does). Returns whether they were."""
        if not events or not self.current_schema() \
                or self.position() != events[0].originator_version - 1:
            return False
        self._apply(list(events))
        return True

    def rebuild(self, fetch: Callable[[int], Sequence[LedgerEvent]]) -> int:
        """Forget this ledger's materialized rows and apply it again from position zero."""
        self.drop()
        return self.catch_up(fetch)

    def _apply(self, events: list[LedgerEvent]) -> None:
        if not self.started():  # the ledger's first rows: its totals
            self._write("rm_totals", [to_row(TotalsRow())])
        # In batches, so that a rebuild holds one batch's rows in memory, not the books.
        for start in range(0, len(events), BATCH):
            self._apply_batch(events[start:start + BATCH])

    def started(self) -> bool:
        """Whether this ledger has rows in the tables (an event applied, or a rebuild begun)."""
        return "position" in self._own_meta()

    def _own_meta(self) -> dict[str, str]:
        return dict(self.db.execute(f'SELECT key, value FROM "{META}" WHERE ledger = ?',
                                    [self.ledger]).fetchall())

    def _apply_batch(self, events: list[LedgerEvent]) -> None:
        wanted: dict[str, set[Any]] = {}
        for event in events:
            for attr, key in touches(event):
                wanted.setdefault(attr, set()).add(key)
        before = self.load_keys(wanted)
        after = apply_in_recording_order(before.copy(), events)
        for table, (attr, _, pk) in TABLES.items():
            old: dict[Any, Any] = getattr(before, attr)
            new: dict[Any, Any] = getattr(after, attr)
            changed = [to_row(row) for key, row in new.items()
                       if (was := old.get(key)) is None or was != row]
            gone = [(self.ledger, key) for key in old if key not in new]
            if gone:
                self.db.executemany(f'DELETE FROM "{table}" WHERE ledger = ? AND "{pk}" = ?',
                                    gone)
            if changed:
                self._write(table, changed)
        self._keep_holder_sums(before.lots, after.lots)
        latest = self.latest_effective()
        for event in events:
            if latest is None or event.effective_date > latest:
                latest = event.effective_date
        self._set_meta(
            position=str(events[-1].originator_version),
            latest_effective=latest.isoformat() if latest else "",
        )

    def _keep_holder_sums(self, before: dict[str, LotRow], after: dict[str, LotRow]) -> None:
        """Move `rm_holders` by the lots that changed (`before` -> `after`, the rows of
        `rm_lots` already written): each holder's sums by the difference, its first lot by
        the lots added, or read again from its lots when one of them is taken back out."""
        deltas: dict[tuple[str, str], list[int]] = {}
        added: dict[tuple[str, str], list[LotRow]] = {}
        removed: set[tuple[str, str]] = set()
        for key in before.keys() | after.keys():
            old, new = before.get(key), after.get(key)
            if old == new:
                continue
            for lot, sign in ((old, -1), (new, 1)):
                if lot is None:
                    continue
                delta = deltas.setdefault((lot.series, lot.holder), [0, 0, 0, 0])
                delta[0] += sign * (lot.issued - lot.transferred)
                delta[1] += sign * lot.converted
                delta[2] += sign * lot.redeemed
                delta[3] += sign
            if old is None and new is not None:
                added.setdefault((new.series, new.holder), []).append(new)
            elif new is None and old is not None:
                removed.add((old.series, old.holder))
        writes: list[dict[str, Any]] = []
        gone: list[list[Any]] = []
        for (series, holder), delta in sorted(deltas.items()):
            found = self._holder_rows("series = ? AND holder = ?", [series, holder])
            was = found[0] if found else None
            lots = (was.lots if was else 0) + delta[3]
            if lots <= 0:
                if was is not None:
                    gone.append([self.ledger, series, holder])
                continue
            if (series, holder) in removed or was is None:
                firsts = [self._first_lot(series, holder)]
            else:
                firsts = [was.first, *(lot.order for lot in added.get((series, holder), ()))]
            first = min(firsts)
            writes.append(to_row(HolderSumsRow(
                series=series, holder=holder,
                issued=(was.issued if was else 0) + delta[0],
                converted=(was.converted if was else 0) + delta[1],
                redeemed=(was.redeemed if was else 0) + delta[2], lots=lots,
                first_issued_on=first[0], first_position=first[1], first_seq=first[2],
                first_id=first[3])))
        if gone:
            self.db.executemany(f'DELETE FROM "{HOLDERS}" WHERE ledger = ? AND series = ? '
                                "AND holder = ?", gone)
        if writes:
            names = list(writes[0])
            columns = ", ".join(f'"{n}"' for n in ["ledger", *names])
            updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names
                                if n not in ("series", "holder"))
            self.db.executemany(
                f'INSERT INTO "{HOLDERS}" ({columns}) VALUES '
                f'({", ".join("?" * (len(names) + 1))}) '
                f'ON CONFLICT ("ledger", "series", "holder") DO UPDATE SET {updates}',
                [[self.ledger, *(row[name] for name in names)] for row in writes])

    def _first_lot(self, series: str, holder: str) -> tuple[date, int, int, str]:
        lots: list[LotRow] = self._rows("rm_lots", "series = ? AND holder = ?", [series, holder])
        return min(lot.order for lot in lots)

    def _holder_rows(self, where: str = "", params: Sequence[Any] = ()) -> list[HolderSumsRow]:
        names = _field_names(HolderSumsRow)
        columns = ", ".join(f'"{n}"' for n in names)
        clause = f"AND {where}" if where else ""
        cursor = self.db.execute(f'SELECT {columns} FROM "{HOLDERS}" WHERE ledger = ? {clause}',
                                 [self.ledger, *params])
        return [from_row(HolderSumsRow, dict(zip(names, values, strict=True)))
                for values in cursor]

    def holder_sums_faults(self) -> list[str]:
        """`rm_holders` against the lots it is kept from (`rm_lots`, which `audit verify`
        judges by replay): each holder's sums, lot count and first lot, recomputed in SQL."""
        sums = self.db.execute(
            'SELECT "series", "holder", SUM("issued" - "transferred"), SUM("converted"), '
            'SUM("redeemed"), COUNT(*) FROM "rm_lots" WHERE ledger = ? '
            'GROUP BY "series", "holder"', [self.ledger])
        expected: dict[tuple[str, str], list[Any]] = {
            (row[0], row[1]): [int(v) for v in row[2:]] for row in sums}
        firsts = self.db.execute(
            'SELECT "series", "holder", "issued_on", "position", "seq", "id" FROM ('
            'SELECT *, ROW_NUMBER() OVER (PARTITION BY "series", "holder" ORDER BY '
            '"issued_on", "position", "seq", "id") AS "rank" FROM "rm_lots" WHERE ledger = ?'
            ') AS ranked WHERE "rank" = 1', [self.ledger])
        for row in firsts:
            expected[(row[0], row[1])].extend(
                [date.fromisoformat(str(row[2])), int(row[3]), int(row[4]), str(row[5])])
        faults = []
        kept = {(r.series, r.holder): r for r in self._holder_rows()}
        for key in sorted(kept.keys() | expected.keys()):
            row, want = kept.get(key), expected.get(key)
            name = f"{key[0]} {key[1]}"
            if row is None:
                faults.append(f"rm_holders has no row for {name}, who holds lots")
            elif want is None:
                faults.append(f"rm_holders has a row for {name}, who holds no lots")
            else:
                have = [row.issued, row.converted, row.redeemed, row.lots, *row.first]
                if have != want:
                    faults.append(f"rm_holders {name} is {have} in the table but {want} "
                                  "by its lots")
        return faults

    # --- the current reports: the rows they print and the sums they need ----------------

    def preferred_inputs(self) -> reports.PreferredInputs:
        """What `report preferred` reads, as of a date on or after every effective date:
        the series, a row per holder of each (`rm_holders`), the open lots (through their
        index), each series' latest dividend and the series' terms."""
        series = reports.series_order(self._rows("rm_series"))
        holders: dict[str, list[HolderSumsRow]] = {}
        for row in self._holder_rows():
            holders.setdefault(row.series, []).append(row)
        last_through: dict[str, date | None] = {}
        for each in series:
            latest = self._rows("rm_dividends", "series = ? ORDER BY through DESC LIMIT 1",
                                [each.series])
            last_through[each.series] = latest[0].through if latest else None
        open_lots = reports.open_lots(
            self._rows("rm_lots", OPEN_LOTS))
        return reports.PreferredInputs(
            series=series,
            holders={name: [reports.HolderTotals(h.holder, h.issued, h.converted, h.redeemed)
                            for h in sorted(rows, key=lambda h: h.first)]
                     for name, rows in holders.items()},
            open_lots=open_lots,
            last_through=last_through,
            force=in_force(self._rows("rm_terms", f"instrument = '{Instrument.SERIES}'")),
        )

    def warrant_books(self) -> Books:
        """What `report warrants` reads: every warrant (each is a row of it) and the
        warrants' terms."""
        books = Books()
        books.warrants = {row.ref: row for row in self._rows("rm_warrants")}
        books.terms = {row.key: row for row in self._rows("rm_terms", f"instrument = '{Instrument.WARRANT}'")}
        return books

    def capital_report(self, on: date, since: date | None, by: str) -> reports.CapitalReport:
        """`report capital` as of `on` (on or after every effective date): the entries it
        shows, and of the earlier ones only their gross (through an index)."""
        reports.period_of(on, by)
        if since is None:
            return reports.capital_of(self._rows("rm_capital"), on, since, by, reports.ZERO)
        shown = self._rows("rm_capital", '"date" >= ?', [since.isoformat()])
        earlier = self.db.execute(
            'SELECT "date", position, gross FROM rm_capital WHERE ledger = ? AND "date" < ?',
            [self.ledger, since.isoformat()]).fetchall()
        earlier.sort(key=lambda row: (row[0], row[1]))
        before = reports.gross_before(Decimal(gross) for _, _, gross in earlier)
        return reports.capital_of(shown, on, since, by, before)

    def dividend_books(self) -> Books:
        """What `report dividends` reads: the series, their open lots and every dividend
        (what was paid to date)."""
        books = Books()
        books.series = {row.series: row for row in self._rows("rm_series")}
        books.lots = {row.id: row for row in self._rows(
            "rm_lots", OPEN_LOTS)}
        books.dividends = {row.position: row for row in self._rows("rm_dividends")}
        return books


# --- the ledger's read model -------------------------------------------------------------


def materialized(ledger: Ledger) -> bool:
    """Whether this ledger keeps its books in tables: every plain ledger, on SQLite and on
    PostgreSQL; an encrypted one keeps no plaintext copy of its figures."""
    return not ledger.key


def _open(ledger: Ledger) -> ReadModel:
    tables: Tables
    if ledger.target.kind == "sqlite":
        tables = SQLiteTables(sqlite3.connect(ledger.target.path, timeout=30))
    else:
        from ledger.postgres import open_tables

        tables = open_tables(ledger.target)
    return ReadModel(tables, ledger.name)


class Reader:
    """A bare SQLite connection as a sqlite-utils `Database` offers it (`conn`, `execute`):
    a quick read need not import sqlite-utils (~50 ms of start-up)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Any = None) -> sqlite3.Cursor:
        return self.conn.execute(sql, () if parameters is None else parameters)


# Events read per page while catching up, so memory stays bounded at any ledger size.
FETCH_PAGE = 5000


def _fetch(
    ledger: Ledger, recorded: Sequence[LedgerEvent] = ()
) -> Callable[[int], Sequence[LedgerEvent]]:
    """Pages of events after a position: from `recorded` (consecutive events the caller just
    appended and still holds) when they cover it, else read from the ledger."""
    first = recorded[0].originator_version if recorded else 0

    def fetch(after: int) -> Sequence[LedgerEvent]:
        head, _ = ledger.head()
        if after > head:
            raise _Behind(after)
        if recorded and first <= after + 1 <= first + len(recorded) - 1:
            start = after + 1 - first
            return recorded[start:start + FETCH_PAGE]
        return ledger.events(after=after, limit=FETCH_PAGE)

    return fetch


class _Behind(Exception):
    """The tables claim a position the ledger does not have: they belong to other history."""


def catch_up(ledger: Ledger, recorded: Sequence[LedgerEvent] = ()) -> bool:
    """Bring the ledger's read-model tables up to its last event. Call after every write
    (on PostgreSQL the write itself has done it: this finds nothing to do).

    Returns False (and changes nothing) when the ledger is not materialized or the tables
    are busy; the next read catches up instead.
    """
    if not materialized(ledger) or not ledger.target.exists():
        return False
    ledger.open()
    model = _open(ledger)
    try:
        try:
            model.catch_up(_fetch(ledger, recorded))
        except _Behind:
            model.rebuild(_fetch(ledger))
        return True
    except model.db.busy:
        return False
    finally:
        model.db.close()


Follow = Callable[[Sequence[LedgerEvent], Tables], None]


def follower(ledger: Ledger) -> Follow | None:
    """What the store calls inside the transaction that appends a ledger's events, with
    that transaction's tables: the read model moves with the events or not at all. None
    when the ledger is not materialized."""
    if not materialized(ledger):
        return None

    def follow(events: Sequence[LedgerEvent], tables: Tables) -> None:
        ReadModel(tables, ledger.name).follow(events)

    return follow


def import_sink(ledger: Ledger) -> Follow | None:
    """What an import calls with each batch of events it appends, inside its transaction:
    the tables are caught up by that same transaction (committed or rolled back with the
    events), from the events in hand instead of read back afterwards.

    None when the ledger is not materialized or its tables are not at its head now (they
    are caught up after the import then, as after any write). A batch the tables are not
    exactly before (another process moved them meanwhile) is left to that catch-up too."""
    if not materialized(ledger):
        return None
    ledger.open()  # an import creates the ledger it is given
    model = _open(ledger)
    try:
        model.ensure_schema()
        if model.position() != ledger.head()[0]:
            return None
    except model.db.busy:
        return None
    finally:
        model.db.close()
    return follower(ledger)


def rebuild(ledger: Ledger) -> int:
    """Forget the ledger's read-model rows and apply every event again from position zero."""
    if not materialized(ledger):
        return 0
    ledger.open()
    model = _open(ledger)
    try:
        return model.rebuild(_fetch(ledger))
    finally:
        model.db.close()


R = typing.TypeVar("R")


def _read_tables(ledger: Ledger, read: Callable[[ReadModel], R]) -> R | None:
    """`read` over the caught-up tables in one consistent snapshot; None when the ledger is
    not materialized (the caller replays). Tables that cannot be read are said so in one
    line and rebuilt; if even the rebuilt ones cannot be read, the caller replays."""
    for attempt in range(2):
        if not catch_up(ledger):
            return None
        model = _open(ledger)
        try:
            model.db.begin_read()  # one consistent snapshot of every table
            found = read(model)
            model.db.commit()
            return found
        except model.db.errors + (ArithmeticError, KeyError, TypeError, ValueError) as exc:  # noqa: RUF005
            what = " ".join(str(exc).split())[:120] or type(exc).__name__
            note(f"the read-model tables cannot be read ({what}); "
                 + ("rebuilding them from the ledger" if not attempt else
                    "reporting from the ledger's events instead"))
        finally:
            model.db.close()
        if not attempt:
            try:
                rebuild(ledger)
            except model.db.errors:
                return None
    return None


def current_books(ledger: Ledger) -> tuple[Books, date | None]:
    """The books with every recorded event applied, and the latest effective date recorded.

    From the tables when the ledger is materialized (caught up first), else by replay.
    """
    def read(model: ReadModel) -> tuple[Books, date | None]:
        return model.load(), model.latest_effective()

    found = _read_tables(ledger, read)
    if found is not None:
        return found
    events = ledger.events()
    latest = max((e.effective_date for e in events), default=None)
    return replay(events), latest


Judge = Callable[[date | None], date]


def _current(ledger: Ledger, judge: Judge, narrow: Callable[[ReadModel, date], R],
             whole: Callable[[Books, date], R]) -> R:
    """A current report as of `judge(latest effective date)` (a date on or after it): read
    narrowly from the caught-up tables (`narrow`), else built from a replay (`whole`)."""
    def read(model: ReadModel) -> R:
        return narrow(model, judge(model.latest_effective()))

    found = _read_tables(ledger, read)
    if found is not None:
        return found
    events = ledger.events()
    return whole(replay(events), judge(max((e.effective_date for e in events), default=None)))


def current_preferred(ledger: Ledger, judge: Judge) -> reports.PreferredReport:
    """`reports.preferred` of the current books, reading a row per holder and the open lots."""
    return _current(ledger, judge,
                    lambda model, on: reports.preferred_of(model.preferred_inputs(), on),
                    reports.preferred)


def current_warrants(ledger: Ledger, judge: Judge,
                     market_price: Decimal | None = None) -> reports.WarrantsReport:
    """`reports.warrants` of the current books, reading the warrants and their terms only."""
    return _current(ledger, judge,
                    lambda model, on: reports.warrants(model.warrant_books(), on, market_price),
                    lambda books, on: reports.warrants(books, on, market_price))


def current_capital(ledger: Ledger, judge: Judge, since: date | None = None,
                    by: str = "month") -> reports.CapitalReport:
    """`reports.capital` of the current books, reading the entries shown (and the gross of
    those before `since`)."""
    return _current(ledger, judge, lambda model, on: model.capital_report(on, since, by),
                    lambda books, on: reports.capital(books, on, since, by))


def current_dividends(ledger: Ledger, judge: Judge,
                      price: Decimal | None = None) -> DividendsReport:
    """`projections.dividends.dividends` of the current books, reading the series, the open
    lots and the dividends."""
    from projections.dividends import dividends

    return _current(ledger, judge,
                    lambda model, on: dividends(model.dividend_books(), on, price),
                    lambda books, on: dividends(books, on, price))


def current_summary(ledger: Ledger, judge: Callable[[date | None], date]
                    ) -> reports.SummaryReport:
    """The summary as of `judge(latest effective date)` (a date on or after it): from the
    running totals and the live state when the ledger is materialized, else by replay."""
    def read(model: ReadModel) -> reports.SummaryReport:
        on = judge(model.latest_effective())
        return reports.current_summary(model.live(on), on)

    found = _read_tables(ledger, read)
    if found is not None:
        return found
    events = ledger.events()
    on = judge(max((e.effective_date for e in events), default=None))
    return reports.summary(replay(events), on)


def plain_summary(path: str, judge: Callable[[date | None], date],
                  ledger: str = DEFAULT_LEDGER) -> reports.SummaryReport | None:
    """The current summary read straight from a plain SQLite ledger's tables, without opening
    the event store, when they are caught up with its head: what `current_summary` returns
    then, in a fraction of its start-up. None when the store must be opened (no such file,
    encrypted, another format, tables behind or of another layout): the caller goes the full
    way, which catches up or replays and reports any problem with the file."""
    if not Path(path).is_file() or not is_sqlite_ledger_file(path):
        return None
    try:
        conn = sqlite3.connect(path, timeout=30)
    except sqlite3.Error:
        return None
    try:
        model = ReadModel(SQLiteTables(conn), ledger)
        conn.execute("BEGIN")  # the head and every table read in one snapshot
        head = plain_head(conn, ledger)
        if head is None or not model.current_schema() or model.position() != head:
            return None
        on = judge(model.latest_effective())
        report = reports.current_summary(model.live(on), on)
        conn.execute("COMMIT")
        return report
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
