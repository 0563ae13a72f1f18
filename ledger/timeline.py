"""The timeline table: each event's place in effective-date order, kept beside the stream.

One row per event (ledger, position, effective date, the position it reverses), written by
the very transaction that inserts the event (the recorders in `ledger.store` and
`ledger.postgres` call `write`), so the order of a ledger is read with SQL instead of from
the stored JSON: `keys` (what the stream and `audit verify` order by), `order` (the
positions of the timeline, as recorded at a position, in a date range) and `latest`.

A ledger written before the table existed (or by an older finledger, which writes events
without it) has its missing rows built from the events when it is opened (`ensure`): a
one-off decode of the rows the table lacks. `audit verify` checks every row against the
event it describes (`problems`).

The table of checkpoints (`CHECKPOINTS`, filled by `projections.checkpoints`) lives here
too because the same insert discards the checkpoints a back-dated event or a reversal makes
wrong: every checkpoint dated after a new event's date, and, for a reversal, every one dated
on or after the reversed event's date.
"""

from __future__ import annotations

import contextlib
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from events import EventReversed, LedgerEvent

TIMELINE = "finledger_timeline"
META = "finledger_meta"  # (`ledger.location.META_TABLE`)
CHECKPOINTS = "finledger_checkpoints"

Row = tuple[str, int, str, int | None]  # (ledger id hex, position, ISO date, reverses)
Execute = Callable[[str, Sequence[Sequence[Any]]], None]  # executemany on an open cursor

CREATE = [
    f"CREATE TABLE IF NOT EXISTS {{{TIMELINE}}} (ledger_id TEXT NOT NULL, position INTEGER NOT "
    "NULL, effective_date TEXT NOT NULL, reverses INTEGER, PRIMARY KEY (ledger_id, position))",
    f"CREATE INDEX IF NOT EXISTS {TIMELINE}_order ON {{{TIMELINE}}} "
    "(ledger_id, effective_date, position)",
    f"CREATE INDEX IF NOT EXISTS {TIMELINE}_reverses ON {{{TIMELINE}}} (ledger_id, reverses) "
    "WHERE reverses IS NOT NULL",
    f"CREATE TABLE IF NOT EXISTS {{{CHECKPOINTS}}} (ledger_id TEXT NOT NULL, effective_date TEXT "
    "NOT NULL, position INTEGER NOT NULL, horizon INTEGER NOT NULL, shape TEXT NOT NULL, "
    "state BLOB NOT NULL, PRIMARY KEY (ledger_id, effective_date, position))",
]

UPSERT = (f"INSERT INTO {{{TIMELINE}}} (ledger_id, position, effective_date, reverses) "
          "VALUES (?, ?, ?, ?) ON CONFLICT (ledger_id, position) DO UPDATE SET "
          "effective_date = excluded.effective_date, reverses = excluded.reverses")
FILL = (f"INSERT INTO {{{TIMELINE}}} (ledger_id, position, effective_date, reverses) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (ledger_id, position) DO NOTHING")
DISCARD = f"DELETE FROM {{{CHECKPOINTS}}} WHERE ledger_id = ? AND effective_date >= ?"


def dialect(schema: str | None = None) -> Callable[[str], str]:
    """SQL written for SQLite (`?` parameters, tables named `{table}`) as the backend takes
    it: on PostgreSQL (`schema` given) `%s` parameters, the tables in the schema and bytes
    as bytea."""
    def sqlite(sql: str) -> str:
        return re.sub(r"\{(\w+)\}", r"\1", sql)

    def postgres(sql: str) -> str:
        sql = re.sub(r"\{(\w+)\}", lambda m: f'"{schema}".{m[1]}', sql)
        return sql.replace("?", "%s").replace(" BLOB ", " bytea ")

    return sqlite if schema is None else postgres


def hex_of(ledger_id: UUID | str) -> str:
    return ledger_id.hex if isinstance(ledger_id, UUID) else UUID(str(ledger_id)).hex


def row_of(event: LedgerEvent) -> Row:
    reverses = event.reversed_position if isinstance(event, EventReversed) else None
    return (hex_of(event.originator_id), event.originator_version,
            event.effective_date.isoformat(), reverses)


def rows_of(events: Iterable[object]) -> list[Row]:
    """The timeline rows of the ledger events among `objs` (what an insert carries)."""
    return [row_of(e) for e in events if isinstance(e, LedgerEvent)]


def _day_after(on: date) -> str:
    return (on + timedelta(days=1)).isoformat() if on < date.max else "9999-12-32"


def discard_from(events: Iterable[object]) -> dict[str, str]:
    """Per ledger, the first checkpoint date that the events make wrong: the day after a new
    event's date (a checkpoint on that date folded every event up to its own position,
    all earlier than the new one), or a reversed event's own date."""
    cut: dict[str, str] = {}
    for event in events:
        if not isinstance(event, LedgerEvent):
            continue
        if isinstance(event, EventReversed):
            on = event.reversed.effective_date.isoformat()
        else:
            on = _day_after(event.effective_date)
        ledger = hex_of(event.originator_id)
        if ledger not in cut or on < cut[ledger]:
            cut[ledger] = on
    return cut


def write(execute: Execute, events: Sequence[object], schema: str | None = None) -> None:
    """Inside the inserting transaction: the events' timeline rows, and the checkpoints they
    make wrong discarded (`schema`: PostgreSQL's, see `dialect`)."""
    rows = rows_of(events)
    if not rows:
        return
    sql = dialect(schema)
    execute(sql(UPSERT), rows)
    execute(sql(DISCARD), list(discard_from(events).items()))


# --- reading ---------------------------------------------------------------------------------


class Sql:
    """SQL over a recorder's datastore, SQLite or PostgreSQL (`?` parameters, tuple rows),
    each call a transaction of its own."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        schema = getattr(recorder.datastore, "schema", None)
        self.postgres = schema is not None
        self._sql = dialect((schema or "public") if self.postgres else None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._sql(sql), list(params))
            rows = cursor.fetchall()
        return [tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in rows]

    def each(self, sql: str, params: Sequence[Any] = (), batch: int = 10_000
             ) -> Iterator[tuple[Any, ...]]:
        """`query`'s rows, fetched a batch at a time (never all held as rows at once)."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._sql(sql), list(params))
            raw = getattr(cursor, "sqlite_cursor", cursor)  # (eventsourcing's wraps SQLite's)
            while rows := raw.fetchmany(batch):
                for row in rows:
                    yield tuple(row.values()) if isinstance(row, dict) else tuple(row)

    def write(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.recorder.datastore.transaction(commit=True) as cursor:
            cursor.executemany(self._sql(sql), [list(r) for r in rows])

    @property
    def events_table(self) -> str:
        return "{" + str(self.recorder.events_table_name) + "}"


def _counts(sql: Sql, ledger: str, after: int = 0
            ) -> tuple[tuple[int, int], tuple[int, int]]:
    """(count, last position) of the ledger's events after position `after`, and of its
    timeline rows (a last position of `after` when there are none).

    The rows are counted first: a writer committing between the two reads then leaves the
    events ahead (rows to fill, harmlessly), never the rows ahead of the events, which would
    read as rows of positions the stream no longer holds and be deleted (a gap)."""
    rows = sql.query(f"SELECT count(*), coalesce(max(position), ?) FROM {{{TIMELINE}}} "
                     "WHERE ledger_id = ? AND position > ?", [after, ledger, after])
    events = sql.query(f"SELECT count(*), coalesce(max(originator_version), ?) FROM "
                       f"{sql.events_table} WHERE originator_id = ? AND originator_version > ?",
                       [after, ledger if not sql.postgres else UUID(ledger), after])
    return (int(events[0][0]), int(events[0][1])), (int(rows[0][0]), int(rows[0][1]))


def complete(app: Any, ledger_id: UUID) -> bool:
    """Has every event of the ledger its timeline row, and no position a gap?"""
    events, rows = _counts(Sql(app.recorder), ledger_id.hex)
    return events == rows and events[0] == events[1]


# How many positions past the proven prefix (`_proven`) a first open counts before it
# records a longer one: every open counts only the rows since, not the whole history.
PROVE_STEP = 10_000


def _proven_key(ledger: str) -> str:
    return f"timeline_proven:{ledger}"


def _proven(sql: Sql, ledger: str) -> int:
    """The position up to which the ledger's events and timeline rows were last counted
    whole and found one for one (0: never). What lies before it is `audit verify`'s to
    prove again; each open counts the rows after it."""
    found = sql.query(f"SELECT value FROM {{{META}}} WHERE key = ?", [_proven_key(ledger)])
    value = str(found[0][0]) if found else "0"
    return int(value) if value.isascii() and value.isdigit() else 0


def _prove(sql: Sql, ledger: str, last: int) -> None:
    with contextlib.suppress(Exception):  # a read-only store counts again next time
        sql.write(f"INSERT INTO {{{META}}} (key, value) VALUES (?, ?) ON CONFLICT (key) "
                  "DO UPDATE SET value = excluded.value", [(_proven_key(ledger), str(last))])


def ensure(app: Any, ledger_id: UUID, decode: Callable[[Any], LedgerEvent], *,
           whole: bool = True) -> bool:
    """Build the timeline rows the ledger lacks (events written before the table, or by an
    older finledger) from its events; their checkpoints, made without those, are dropped.
    False when the stream has a gap (it cannot be followed by position).

    Whoever reads the timeline (as-of, replay, verify) counts it `whole`; opening a ledger
    for a recording or a current report counts only the positions after the last proven
    prefix (`_proven`): what was recorded since, not the history."""
    sql = Sql(app.recorder)
    ledger = ledger_id.hex
    proven = 0 if whole else _proven(sql, ledger)
    (count, last), (have, have_last) = _counts(sql, ledger, proven)
    if proven and count == last - proven and (count, last) == (have, have_last) \
            and sql.query(f"SELECT 1 FROM {{{TIMELINE}}} WHERE ledger_id = ? AND position = ?",
                          [ledger, proven]):  # (the table was not emptied meanwhile)
        if count >= PROVE_STEP:
            _prove(sql, ledger, last)
        return True
    if proven:
        (count, last), (have, have_last) = _counts(sql, ledger)
    if count != last:
        return False
    if (count, last) == (have, have_last):
        if count:
            _prove(sql, ledger, last)
        return True
    known = {row[0] for row in sql.query(
        f"SELECT position FROM {{{TIMELINE}}} WHERE ledger_id = ?", [ledger])}
    from ledger.stream import stored_batches

    missing: list[Row] = []
    for stored in stored_batches(app.recorder, ledger_id):
        for row in stored:
            if row.originator_version not in known:
                missing.append(row_of(decode(row)))
    try:
        with app.recorder.datastore.transaction(commit=True) as cursor:
            cursor.executemany(sql._sql(FILL), [list(r) for r in missing])
            cursor.executemany(sql._sql(f"DELETE FROM {{{CHECKPOINTS}}} WHERE ledger_id = ?"),
                               [[ledger]])
            if have_last > last:  # rows of positions the stream no longer holds
                cursor.executemany(sql._sql(f"DELETE FROM {{{TIMELINE}}} WHERE ledger_id = ? "
                                            "AND position > ?"), [[ledger, last]])
    except Exception:  # a read-only store: read in memory below, built by a later writer
        return False
    _prove(sql, ledger, last)
    return True


def read_keys(app: Any, ledger_id: UUID) -> tuple[array[int], list[tuple[int, int]]]:
    """Per position (from 1, index 0 unused): its date's ordinal; and the reversals
    recorded (position of the reversal, position it reverses). Positions without a row
    (a gap) raise `KeyMismatch` when the keys are added (`ledger.stream.Keys.add`)."""
    from ledger.stream import KeyMismatch

    rows = Sql(app.recorder).query(
        f"SELECT position, effective_date, reverses FROM {{{TIMELINE}}} WHERE ledger_id = ? "
        "ORDER BY position", [ledger_id.hex])
    ordinals = array("i", [0])
    reversals: list[tuple[int, int]] = []
    ordinal_of: dict[str, int] = {}
    for position, on, reverses in rows:
        if position != len(ordinals):
            raise KeyMismatch(f"position {len(ordinals)} has no timeline row")
        ordinal = ordinal_of.get(on)
        if ordinal is None:
            ordinal = ordinal_of[on] = date.fromisoformat(on).toordinal()
        ordinals.append(ordinal)
        if reverses is not None:
            reversals.append((position, int(reverses)))
    return ordinals, reversals


def order(app: Any, ledger_id: UUID, *, upto: int | None = None,
          after: tuple[str, int] | None = None, through: date | None = None
          ) -> tuple[array[int], array[int]]:
    """The positions of the timeline as recorded at `upto` (None: now), in order, and their
    effective dates' ordinals, after the key `after` (date, position) and effective by
    `through`: no reversal, and no event reversed by a reversal recorded by then (those few
    are read first). Two arrays: a few bytes an event, however long the timeline."""
    sql = Sql(app.recorder)
    bound = " AND position <= ?" if upto is not None else ""
    given = [upto] if upto is not None else []
    reversed_ = {int(r[0]) for r in sql.query(
        f"SELECT reverses FROM {{{TIMELINE}}} WHERE ledger_id = ? AND reverses IS NOT NULL"
        + bound, [ledger_id.hex, *given])}
    text = (f"SELECT position, effective_date FROM {{{TIMELINE}}} WHERE ledger_id = ? AND "
            "reverses IS NULL" + bound)
    params: list[Any] = [ledger_id.hex, *given]
    if after is not None:
        text += " AND (effective_date > ? OR (effective_date = ? AND position > ?))"
        params += [after[0], after[0], after[1]]
    if through is not None:
        text += " AND effective_date <= ?"
        params.append(through.isoformat())
    text += " ORDER BY effective_date, position"
    positions, ordinals = array("q"), array("i")
    ordinal_of: dict[str, int] = {}
    for position, on in sql.each(text, params):
        if position in reversed_:
            continue
        positions.append(int(position))
        day = str(on)
        ordinal = ordinal_of.get(day)
        if ordinal is None:
            ordinal = ordinal_of[day] = date.fromisoformat(day).toordinal()
        ordinals.append(ordinal)
    return positions, ordinals


def latest(app: Any, ledger_id: UUID, upto: int | None = None) -> tuple[int, date | None]:
    """How many events the ledger holds (to `upto`), and the latest effective date among
    them (reversals and reversed events included, as recorded)."""
    sql = (f"SELECT count(*), max(effective_date) FROM {{{TIMELINE}}} WHERE ledger_id = ?"
           + (" AND position <= ?" if upto is not None else ""))
    rows = Sql(app.recorder).query(sql, [ledger_id.hex] + ([upto] if upto is not None else []))
    count, on = rows[0]
    return int(count), date.fromisoformat(on) if on else None


def horizon(app: Any, ledger_id: UUID, key: tuple[str, int]) -> int:
    """The last position that the timeline up to `key` depends on: of its events (reversed
    ones included) and of the reversals of them. The timeline as recorded at any position
    from there on holds the same events up to `key`."""
    on, position = key
    where = "(t.effective_date < ? OR (t.effective_date = ? AND t.position <= ?))"
    sql = Sql(app.recorder)
    events = sql.query(f"SELECT coalesce(max(t.position), 0) FROM {{{TIMELINE}}} t WHERE "
                       f"t.ledger_id = ? AND t.reverses IS NULL AND {where}",
                       [ledger_id.hex, on, on, position])
    reversals = sql.query(
        f"SELECT coalesce(max(r.position), 0) FROM {{{TIMELINE}}} r JOIN {{{TIMELINE}}} t "
        "ON t.ledger_id = r.ledger_id AND t.position = r.reverses WHERE r.ledger_id = ? "
        f"AND {where}", [ledger_id.hex, on, on, position])
    return max(int(events[0][0]), int(reversals[0][0]))


def problems(app: Any, ledger_id: UUID, ordinals: Sequence[int],
             reversals: Sequence[tuple[int, int]]) -> list[Any]:
    """`audit verify`: every timeline row against the keys of the events as decoded (each
    position's date ordinal from 1, and the reversals); a row that differs, is missing or
    has no event is a problem at its position."""
    from ledger.audit import Problem

    rows = Sql(app.recorder).query(
        f"SELECT position, effective_date, reverses FROM {{{TIMELINE}}} WHERE ledger_id = ? "
        "ORDER BY position", [ledger_id.hex])
    reverses = dict(reversals)
    found: list[Problem] = []
    seen: set[int] = set()
    for position, on, target in rows:
        seen.add(position)
        if not 0 < position < len(ordinals):
            found.append(Problem(position, "has a timeline row but no event"))
            continue
        try:
            ordinal = date.fromisoformat(on).toordinal()
        except (TypeError, ValueError):
            ordinal = -1
        if ordinal != ordinals[position] or target != reverses.get(position):
            found.append(Problem(position, "its timeline row does not match the event (the "
                                 "table was changed outside finledger; it is rebuilt when "
                                 "its row is deleted)"))
    found.extend(Problem(p, "has no timeline row")
                 for p in range(1, len(ordinals)) if p not in seen)
    return sorted(found, key=lambda p: p.position)


def verify(app: Any, ledger_id: UUID, keys: Any, stream: Any) -> list[Any]:
    """`problems` against the keys the chain check decoded (`keys`: `ledger.stream.Keys`),
    or, when it kept none, against the stream's events decoded now."""
    if keys is None:
        keys = stream.decoded_keys()
    return problems(app, ledger_id, keys.ordinals, keys.reversals)
