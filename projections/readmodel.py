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
does not grow with history either. A report that lists every row (`load`) reads them all.

`ReadModel` takes a sqlite-utils `Database` and nothing else, so it can be pointed at another
file. Only a plain SQLite ledger is materialized: an encrypted ledger keeps no plaintext
copy of its figures, and a PostgreSQL ledger is reported by a fresh replay.
"""

from __future__ import annotations

import sqlite3
import sys
import typing
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from events import LedgerEvent
from ledger.target import is_sqlite_ledger_file, plain_head
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
    TotalsRow,
    WarrantRow,
    apply_in_recording_order,
    replay,
    touches,
)

if TYPE_CHECKING:  # the store (eventsourcing) loads only when the events must be read
    import sqlite_utils

    from ledger.service import Ledger

# Any other value in rm_meta (an older layout, or none readable) drops every rm_ table and
# applies the ledger again from position zero.
SCHEMA_VERSION = "4"  # 4: transfers and redemptions (lots, warrants, capital)
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
    "rm_totals": ("totals", TotalsRow, "key"),
}
INDEXES = (
    # open lots of a series (accrued dividends, as-converted common)
    "CREATE INDEX rm_lots_open ON rm_lots (series) WHERE converted + redeemed + transferred < issued",
    # warrants with shares left, by expiry (the overhang as of a date)
    "CREATE INDEX rm_warrants_live ON rm_warrants (expires) WHERE exercised < issued + transferred",
    "CREATE INDEX rm_dividends_through ON rm_dividends (series, through)",
    "CREATE INDEX rm_baselines_date ON rm_baselines (date, position)",
    "CREATE INDEX rm_common_issues_date ON rm_common_issues (date, shares)",
)
CHUNK = 500  # keys per `IN (...)`, well under SQLite's variable limit
BATCH = 5_000  # events folded in at a time
_COLUMN_TYPES = {Decimal: "TEXT", date: "TEXT", str: "TEXT", int: "INTEGER", bool: "INTEGER"}


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
    """The CREATE TABLE of every read-model table (one column per row field; `verify`
    builds its scratch copy of the tables from the same statements)."""
    statements = []
    for table, (_, cls, pk) in TABLES.items():
        columns = ", ".join(
            f"[{name}] {_COLUMN_TYPES[hint]}" + (" PRIMARY KEY" if name == pk else "")
            for name, hint in _hints(cls).items())
        statements.append(f"CREATE TABLE [{table}] ({columns})")
    return statements


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
    """The books in tables of a sqlite-utils `Database`."""

    def __init__(self, db: sqlite_utils.Database) -> None:  # or a `Reader`, to read only
        self.db = db

    # --- schema ------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        if self.current_schema():
            return
        self.db.conn.execute("BEGIN IMMEDIATE")  # two processes must not both create it
        try:
            if not self.current_schema():
                fault = self.fault()
                if fault is not None:
                    note(f"the read-model tables cannot be read ({fault}); rebuilding them "
                         "from the ledger")
                self._drop_tables()  # an older layout (or none): rebuilt from position zero
                # plain DDL, so that nothing commits before the layout is whole
                self.db.execute(f"CREATE TABLE [{META}] (key TEXT PRIMARY KEY, value TEXT)")
                for sql in create_table_statements():
                    self.db.execute(sql)
                for sql in INDEXES:
                    self.db.execute(sql)
                self._write("rm_totals", [to_row(TotalsRow())])
                self._set_meta(schema=SCHEMA_VERSION, position="0", latest_effective="")
            self.db.conn.execute("COMMIT")
        except BaseException:
            self.db.conn.rollback()
            raise

    def current_schema(self) -> bool:
        """The tables are of this layout, and their metadata can be read (else they are
        rebuilt from position zero by the next catch-up)."""
        try:
            meta = self._meta()
        except (sqlite3.DatabaseError, KeyError):
            return False  # no rm_meta, or one of another layout
        return meta.get("schema") == SCHEMA_VERSION and meta_fault(meta) is None

    def fault(self) -> str | None:
        """Why tables of this layout cannot be used as they are (None when they can)."""
        try:
            meta = self._meta()
        except (sqlite3.DatabaseError, KeyError):
            return None
        return meta_fault(meta) if meta.get("schema") == SCHEMA_VERSION else None

    def _drop_tables(self) -> None:
        names = [row[0] for row in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rm\\_%' ESCAPE '\\'")]
        for table in names:
            self.db.execute(f"DROP TABLE IF EXISTS [{table}]")

    def drop(self) -> None:
        with self.db.atomic():
            self._drop_tables()

    def _meta(self) -> dict[str, str]:
        return dict(self.db.execute(f"SELECT key, value FROM [{META}]"))

    def _write(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert or replace whole rows (plain SQL: no commit behind the caller's back)."""
        names = list(rows[0])
        self.db.conn.executemany(
            f"INSERT OR REPLACE INTO [{table}] ({', '.join(f'[{n}]' for n in names)}) "
            f"VALUES ({', '.join('?' * len(names))})",
            [[row[name] for name in names] for row in rows])

    def _set_meta(self, **values: str) -> None:
        self.db.conn.executemany(f"INSERT OR REPLACE INTO [{META}] (key, value) VALUES (?, ?)",
                                 list(values.items()))

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
        except sqlite3.DatabaseError:
            return {}
        return meta if meta.get("schema") == SCHEMA_VERSION and meta_fault(meta) is None else {}

    def _rows(self, table: str, where: str = "", params: Sequence[Any] = ()) -> list[Any]:
        _, cls, _ = TABLES[table]
        cursor = self.db.execute(f"SELECT * FROM [{table}] {where}", list(params))
        names = [d[0] for d in cursor.description]
        return [from_row(cls, dict(zip(names, values, strict=True))) for values in cursor]

    def load(self) -> Books:
        """Every row of every table: the whole books (none for tables of another layout,
        which the next catch-up rebuilds)."""
        books = Books()
        if not self.current_schema():
            return books
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
                for row in self._rows(table, f"WHERE [{pk}] IN ({marks})", chunk):
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
            for lot in self._rows("rm_lots", "WHERE series = ? AND converted + redeemed + transferred < issued",
                                  [series.series]):
                books.lots[lot.id] = lot
            for dividend in self._rows(
                "rm_dividends", "WHERE series = ? ORDER BY through DESC LIMIT 1", [series.series]
            ):
                books.dividends[dividend.position] = dividend
        overhang: list[tuple[int, Decimal]] = []
        # two index ranges (an OR would scan every warrant that ever lapsed with shares left)
        live = ("SELECT exercise_price AS price, issued + transferred - exercised AS shares "
                "FROM rm_warrants WHERE exercised < issued + transferred AND expires >= :day "
                "UNION ALL SELECT exercise_price, issued + transferred - exercised FROM "
                "rm_warrants WHERE exercised < issued + transferred AND expires IS NULL")
        day = {"day": on.isoformat()}
        groups = self.db.execute(
            f"SELECT price, SUM(shares) FROM ({live}) GROUP BY price", day).fetchall()
        for price_text, shares in groups:
            price = Decimal(price_text)
            if _whole_cents(price):  # each warrant's proceeds is exact: the group's sum is too
                overhang.append((shares, price))
            else:
                overhang.extend((each, price) for (each,) in self.db.execute(
                    f"SELECT shares FROM ({live}) WHERE price = :price",
                    {**day, "price": price_text}))
        latest = self._rows("rm_baselines", "ORDER BY date DESC, position DESC LIMIT 1")
        baseline: BaselineRow | None = latest[0] if latest else None
        if baseline is None:
            issued_since = books.totals[TOTALS].common_issued
        else:
            (issued_since,) = self.db.execute(
                "SELECT COALESCE(SUM(shares), 0) FROM rm_common_issues WHERE date > ?",
                [baseline.date.isoformat()]).fetchone()
        return reports.Live(books=books, overhang=overhang, baseline=baseline,
                            issued_since_baseline=issued_since)

    # --- writing -----------------------------------------------------------------------

    def catch_up(self, fetch: Callable[[int], Sequence[LedgerEvent]]) -> int:
        """Apply the events recorded after the stored position; returns how many.

        `fetch(after)` returns the events after a position, all of them or the first page:
        it is asked again until it returns none, each page applied in its own transaction."""
        self.ensure_schema()
        applied = 0
        while events := list(fetch(self.position())):
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                position = self.position()  # another process may have caught up meanwhile
                events = [e for e in events if e.originator_version > position]
                if not events or events[0].originator_version != position + 1:
                    self.db.conn.execute("COMMIT")
                    break
                self._apply(events)
                self.db.conn.execute("COMMIT")
            except BaseException:
                self.db.conn.rollback()
                raise
            applied += len(events)
        return applied

    def rebuild(self, fetch: Callable[[int], Sequence[LedgerEvent]]) -> int:
        """Forget every materialized row and apply the ledger again from position zero."""
        self.drop()
        return self.catch_up(fetch)

    def _apply(self, events: list[LedgerEvent]) -> None:
        # In batches, so that a rebuild holds one batch's rows in memory, not the books.
        for start in range(0, len(events), BATCH):
            self._apply_batch(events[start:start + BATCH])

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
            gone = [(key,) for key in old if key not in new]
            if gone:
                self.db.conn.executemany(f"DELETE FROM [{table}] WHERE [{pk}] = ?", gone)
            if changed:
                self._write(table, changed)
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
    import sqlite_utils

    conn = sqlite3.connect(ledger.target.path, timeout=30)
    return ReadModel(sqlite_utils.Database(conn))


class Reader:
    """The part of a sqlite-utils `Database` that reading the tables uses (`conn`, `execute`),
    over a bare connection: a quick read need not import sqlite-utils (~50 ms of start-up)."""

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
            model.catch_up(_fetch(ledger, recorded))
        except _Behind:
            model.rebuild(_fetch(ledger))
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        model.db.close()


def import_sink(
    ledger: Ledger,
) -> Callable[[Sequence[LedgerEvent], sqlite3.Connection], None] | None:
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
    except sqlite3.OperationalError:
        return None
    finally:
        model.db.close()
    import sqlite_utils

    models: dict[int, ReadModel] = {}

    def sink(events: Sequence[LedgerEvent], conn: sqlite3.Connection) -> None:
        if not events:
            return
        model = models.get(id(conn))
        if model is None:
            model = models[id(conn)] = ReadModel(sqlite_utils.Database(conn))
        if model.position() == events[0].originator_version - 1:
            model._apply(list(events))

    return sink


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
            model.db.conn.execute("BEGIN")  # one consistent snapshot of every table
            found = read(model)
            model.db.conn.execute("COMMIT")
            return found
        except (sqlite3.DatabaseError, ArithmeticError, KeyError, TypeError, ValueError) as exc:
            what = " ".join(str(exc).split())[:120] or type(exc).__name__
            note(f"the read-model tables cannot be read ({what}); "
                 + ("rebuilding them from the ledger" if not attempt else
                    "reporting from the ledger's events instead"))
        finally:
            model.db.close()
        if not attempt:
            try:
                rebuild(ledger)
            except sqlite3.DatabaseError:
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


def current_summary(ledger: Ledger, judge: Callable[[date | None], date]) -> reports.Report:
    """The summary as of `judge(latest effective date)` (a date on or after it): from the
    running totals and the live state when the ledger is materialized, else by replay."""
    def read(model: ReadModel) -> reports.Report:
        on = judge(model.latest_effective())
        return reports.current_summary(model.live(on), on)

    found = _read_tables(ledger, read)
    if found is not None:
        return found
    events = ledger.events()
    on = judge(max((e.effective_date for e in events), default=None))
    return reports.summary(replay(events), on)


def plain_summary(path: str, judge: Callable[[date | None], date]) -> reports.Report | None:
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
        # Only the read side runs here, and it uses nothing of the Database but `Reader`'s part.
        model = ReadModel(typing.cast("sqlite_utils.Database", Reader(conn)))
        conn.execute("BEGIN")  # the head and every table read in one snapshot
        head = plain_head(conn)
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
