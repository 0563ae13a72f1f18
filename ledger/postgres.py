"""The PostgreSQL event store: eventsourcing's own PostgreSQL module, set up for a ledger.

`postgres_env(target)` is the environment eventsourcing's PostgresFactory is built from;
it names `LedgerPostgresRecorder`, which adds what the SQLite recorder adds: the table
`finledger_meta`, and the chain head written by the very transaction that appends the events.

Concurrency: the primary key (originator_id, originator_version) makes two writers racing for
one position of a ledger collide, so the loser gets eventsourcing's IntegrityError and
`Ledger._append` decides again from the new head. Every insert first takes a transaction
advisory lock of its ledger (`ledger_lock`), where eventsourcing takes the events table's
EXCLUSIVE lock: the table lock keeps the notification ids in commit order across every
stream of the table, which nothing here reads, and it would make the writers of a thousand
ledgers wait for one another. With the ledger's lock, writers of one ledger take turns
(and the read-model tables, written by the same transaction, see the previous writer's rows),
while writers of different ledgers only share the server.

The hooks into eventsourcing's private insert path are all in this class
(`_insert_stored_events`, `_fetch_ids_after_insert_events`), and
tests/ledger/test_store_hooks.py pins what they rely on.

With `?schema=NAME` in the URL the store's tables live in that schema (created with the
store); each schema is a store of its own, holding any number of ledgers (`--ledger`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg import Connection, Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from ledger import timeline
from ledger.errors import StoreError
from ledger.location import META_TABLE, Target, redact
from ledger.store import meta_rows, timeline_events

CONNECT_TIMEOUT_SECONDS = 10
# Two creators of a new ledger take turns (pg_advisory_xact_lock) instead of racing on the
# catalog; any fixed number would do, this one spells "finl".
CREATE_LOCK_KEY = 0x66696E6C
# The class of the ledgers' own advisory locks (pg_advisory_xact_lock(class, ledger)).
LEDGER_LOCK_CLASS = 0x66696E72


def ledger_lock(originator_id: UUID) -> int:
    """The 32-bit key of a ledger's advisory lock (two ledgers sharing one only take turns)."""
    return int.from_bytes(originator_id.bytes[:4], "big", signed=True)


LOCK_LEDGER = "SELECT pg_advisory_xact_lock(%s, %s)"


def password(target: Target) -> str:
    """The URL's password, else PGPASSWORD (keeps it out of the command line and history)."""
    return target.password or os.environ.get("PGPASSWORD", "")


def postgres_env(target: Target) -> dict[str, str]:
    """The eventsourcing environment for a PostgreSQL target."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": target.dbname,
        "POSTGRES_HOST": target.host,
        "POSTGRES_PORT": target.port,
        "POSTGRES_USER": target.user,
        "POSTGRES_PASSWORD": password(target),
        "POSTGRES_SCHEMA": target.schema,
        "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_SECONDS),
        # One command, one connection; a spare for eventsourcing's own bookkeeping.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "1",
        # The stored-function insert path would bypass the head write below.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "no",
        # LedgerPostgresRecorder creates every table itself, once (see create_table), so
        # eventsourcing's per-recorder DDL on every start is turned off.
        "CREATE_TABLE": "no",
        "APPLICATION_RECORDER_TOPIC": get_topic(LedgerPostgresRecorder),
    }


def _one_line(exc: BaseException, target: Target) -> str:
    """A driver error as one line, with no password in it."""
    text = " ".join(str(exc).split())
    secret = password(target)
    if secret:
        text = text.replace(secret, "***")
    return redact(text)


def ledger_exists(target: Target) -> bool:
    """Does the database hold a ledger (its meta table) in the target's schema?"""
    name = f"{target.schema or 'public'}.{META_TABLE}"
    try:
        with psycopg.connect(
            dbname=target.dbname,
            host=target.host,
            port=target.port,
            user=target.user,
            password=password(target),
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        ) as conn:
            row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot connect to the ledger at {target.display()}: {_one_line(exc, target)}"
        ) from None
    return bool(row and row[0])


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder, plus the ledger's meta table."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._abandoned: BaseException | None = None  # what an insert hook raised
        schema = Identifier(self.datastore.schema)
        meta = Identifier(META_TABLE)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (key text PRIMARY KEY, value text NOT NULL)"
            ).format(schema, meta)
        )
        self._upsert_meta = SQL(
            "INSERT INTO {}.{} (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ).format(schema, meta)
        self._select_meta = SQL("SELECT key, value FROM {}.{}").format(schema, meta)
        self.sql_create_statements.extend(
            SQL(timeline.dialect(self.datastore.schema)(text)).format()
            for text in timeline.CREATE)
        self.create_table()

    def create_table(self) -> None:
        """Create schema, types, tables and function once, whoever gets there first.

        eventsourcing creates its composite type in a transaction of its own and re-issues
        CREATE OR REPLACE FUNCTION on every start, which concurrent first writers can trip
        over; so the whole creation (the snapshots table included, which eventsourcing
        creates next with its own recorder) is one transaction under an advisory lock,
        skipped when the ledger is already there.
        """
        if not self._is_created():
            snapshots = PostgresAggregateRecorder(
                self.datastore,
                events_table_name=self.events_table_name.removesuffix("_events") + "_snapshots",
            )
            with self.datastore.transaction(commit=True) as curs:
                curs.execute("SELECT pg_advisory_xact_lock(%s)", (CREATE_LOCK_KEY,))
                curs.execute(
                    SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        Identifier(self.datastore.schema)
                    )
                )
                for statement in [
                    *self.sql_create_statements,
                    *snapshots.sql_create_statements,
                ]:
                    text = statement.as_string()
                    if "CREATE TYPE" in text:
                        curs.execute(
                            "SELECT to_regtype(%s) IS NOT NULL AS present",
                            (f"{self.datastore.schema}.{self.stored_event_type_name}",),
                        )
                        row = curs.fetchone()
                        if row and row["present"]:
                            continue
                    curs.execute(statement, prepare=False)
        self.datastore.register_type_adapters()

    def _is_created(self) -> bool:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(  # (the timeline's tables came later: a store without them adds them)
                "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL AS present",
                (f"{self.datastore.schema}.{META_TABLE}",
                 f"{self.datastore.schema}.{timeline.CHECKPOINTS}"),
            )
            row = curs.fetchone()
            return bool(row and row["present"])

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # eventsourcing's application recorder locks the whole events table here; the
        # ledger's own lock is taken instead (see the module docstring), then the insert
        # is its aggregate recorder's.
        ids = {s.originator_id if isinstance(s.originator_id, UUID) else UUID(s.originator_id)
               for s in stored_events}
        for key in sorted({ledger_lock(originator) for originator in ids}):
            curs.execute(LOCK_LEDGER, (LEDGER_LOCK_CLASS, key), prepare=True)
        PostgresAggregateRecorder._insert_stored_events(self, curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Called inside insert_events' transaction, after the insert succeeded (a lost race
        # has already raised IntegrityError), so the head and the read-model tables move
        # with the events or not at all.
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        try:
            timeline.write(curs.executemany, timeline_events(kwargs), self.datastore.schema)
            rows = meta_rows(kwargs)
            if rows:
                curs.executemany(self._upsert_meta, rows)
            follow = kwargs.get("tables")
            if follow is not None:
                follow(PgTables(curs.connection, self.datastore.schema))
        except BaseException as exc:
            self._abandoned = exc
            _doom(curs)
            raise
        return ids

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any
                      ) -> Sequence[int] | None:
        """eventsourcing's insert; what a hook raised is raised again as it was (the
        server's error that rolled the transaction back for it is only the means)."""
        self._abandoned = None
        try:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        except Exception:
            if self._abandoned is not None:
                raise self._abandoned from None
            raise

    @contextmanager
    def bulk_insert(self, originator_id: UUID) -> Iterator[PostgresBulkInsert]:
        """One transaction for many batches of events of one ledger (an import), holding
        the ledger's lock as every insert does: committed when the block ends, rolled back
        when it raises."""
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor() as curs:
            curs.execute(LOCK_LEDGER, (LEDGER_LOCK_CLASS, ledger_lock(originator_id)))
            yield PostgresBulkInsert(self, conn, curs)

    def read_meta(self) -> dict[str, str]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_meta)
            return {row["key"]: row["value"] for row in curs.fetchall()}

    def write_meta(self, rows: Sequence[tuple[str, str]]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.executemany(self._upsert_meta, list(rows))


def _doom(curs: Cursor[DictRow]) -> None:
    """Make the open transaction roll back. eventsourcing catches what its insert hooks
    raise and raises it again only after leaving the transaction block, which then commits:
    an error on the server is what turns that commit into a rollback."""
    with contextlib.suppress(psycopg.Error):
        curs.execute("DO $$ BEGIN RAISE EXCEPTION 'finledger: the write was abandoned'; END $$")


class PostgresBulkInsert:
    """Batches of stored events inserted by one open transaction (see `bulk_insert`)."""

    def __init__(self, recorder: LedgerPostgresRecorder, connection: Connection[DictRow],
                 cursor: Cursor[DictRow]) -> None:
        self.recorder = recorder
        self.connection = connection
        self.cursor = cursor

    def insert(self, stored_events: Sequence[StoredEvent],
               events: Sequence[object] = ()) -> None:
        """The stored events, and the timeline rows of their domain events (`events`)."""
        if not stored_events:
            return
        construct = self.recorder.construct_pg_stored_event
        self.cursor.execute(self.recorder.insert_events_statement, ([
            construct(s.originator_id, s.originator_version, s.topic, s.state)
            for s in stored_events],))
        timeline.write(self.cursor.executemany, events, self.recorder.datastore.schema)

    def select(self, originator_id: UUID, after: int, upto: int | None = None
               ) -> list[StoredEvent]:
        """The events after a position (up to another) as this transaction sees them (its
        own included)."""
        self.cursor.execute(SQL(
            "SELECT originator_version, topic, state FROM {}.{} WHERE originator_id = %s "
            "AND originator_version > %s AND originator_version <= %s "
            "ORDER BY originator_version").format(
                Identifier(self.recorder.datastore.schema),
                Identifier(self.recorder.events_table_name)),
            (originator_id, after, upto or 2**62))
        return [StoredEvent(originator_id=originator_id,
                            originator_version=row["originator_version"],
                            topic=row["topic"], state=bytes(row["state"]))
                for row in self.cursor.fetchall()]

    @property
    def tables(self) -> PgTables:
        """The read-model tables as this transaction sees them (written by it too)."""
        return PgTables(self.connection, self.recorder.datastore.schema)

    def set_meta(self, rows: Sequence[tuple[str, str]]) -> None:
        """Meta rows (the ledger's new head) written by this transaction."""
        self.cursor.executemany(self.recorder._upsert_meta, list(rows))


class PgTables:
    """SQL over a psycopg connection as `ledger.sqltables.SQLiteTables` offers it over a
    SQLite one (`?` parameters, rows as tuples), for the read model's tables. Over a
    connection of its own (`open_tables`), it runs its own transactions; inside a recorder's
    transaction, the begin and commit are that transaction's."""

    kind: ClassVar[str] = "postgres"
    errors: ClassVar[tuple[type[Exception], ...]] = (psycopg.Error,)
    busy: ClassVar[tuple[type[Exception], ...]] = (psycopg.OperationalError,)

    def __init__(self, connection: Connection[Any], schema: str, *, own: bool = False) -> None:
        self.connection = connection
        self.own = own
        self.schema = schema
        if not own:  # the recorder's connection names its tables; these are found by path
            self.execute(SQL("SET LOCAL search_path TO {}").format(Identifier(schema))
                         .as_string(connection))

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        cursor = self.connection.cursor(row_factory=tuple_row)
        cursor.execute(self._sql(sql), list(parameters) or None)
        return cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.connection.cursor(row_factory=tuple_row) as cursor:
            cursor.executemany(self._sql(sql), rows)

    def table_names(self) -> set[str]:
        found = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            [self.schema]).fetchall()
        return {row[0] for row in found}

    def begin_write(self, lock: UUID | None = None) -> None:
        """A write transaction holding the ledger's lock (`lock`: its stream), or the
        store's creation lock (None)."""
        if self.own:
            self.connection.execute("BEGIN")
        if lock is None:
            self.execute("SELECT pg_advisory_xact_lock(?)", [CREATE_LOCK_KEY])
        else:
            self.execute(LOCK_LEDGER.replace("%s", "?"), [LEDGER_LOCK_CLASS, ledger_lock(lock)])

    def begin_read(self) -> None:
        if self.own:  # one snapshot of every table and the head
            self.connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def commit(self) -> None:
        if self.own:
            self.connection.execute("COMMIT")

    def rollback(self) -> None:
        if self.own:
            self.connection.execute("ROLLBACK")

    def close(self) -> None:
        if self.own:
            self.connection.close()


def open_tables(target: Target) -> PgTables:
    """A connection of its own to the store's schema, for the read model's tables."""
    schema = target.schema or "public"
    try:
        conn = psycopg.connect(
            dbname=target.dbname, host=target.host, port=target.port, user=target.user,
            password=password(target), connect_timeout=CONNECT_TIMEOUT_SECONDS,
            autocommit=True, options=f"-c search_path={schema}")
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot connect to the ledger at {target.display()}: {_one_line(exc, target)}"
        ) from None
    return PgTables(conn, schema, own=True)
