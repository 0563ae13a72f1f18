"""The PostgreSQL event store: eventsourcing's own PostgreSQL module, set up for a ledger.

`postgres_env(target)` is the environment eventsourcing's PostgresFactory is built from;
it names `LedgerPostgresRecorder`, which adds what the SQLite recorder adds: the table
`finledger_meta`, and the chain head written by the very transaction that appends the events.

Concurrency is eventsourcing's: every insert takes the events table's EXCLUSIVE lock and the
primary key (originator_id, originator_version) makes two writers racing for one position
collide, so the loser gets eventsourcing's IntegrityError and `Ledger._append` decides again
from the new head.

With `?schema=NAME` in the URL the ledger's tables live in that schema (created with the
ledger), so one database can hold several ledgers side by side.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from ledger.errors import StoreError
from ledger.store import head_rows
from ledger.target import META_TABLE, Target, redact

CONNECT_TIMEOUT_SECONDS = 10
# Two creators of a new ledger take turns (pg_advisory_xact_lock) instead of racing on the
# catalog; any fixed number would do, this one spells "finl".
CREATE_LOCK_KEY = 0x66696E6C


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
            curs.execute(
                "SELECT to_regclass(%s) IS NOT NULL AS present",
                (f"{self.datastore.schema}.{META_TABLE}",),
            )
            row = curs.fetchone()
            return bool(row and row["present"])

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Called inside insert_events' transaction, after the insert succeeded (a lost race
        # has already raised IntegrityError), so the head moves with the events or not at all.
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        rows = head_rows(kwargs.get("head"))
        if rows:
            curs.executemany(self._upsert_meta, rows)
        return ids

    def read_meta(self) -> dict[str, str]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_meta)
            return {row["key"]: row["value"] for row in curs.fetchall()}

    def write_meta(self, rows: Sequence[tuple[str, str]]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.executemany(self._upsert_meta, list(rows))
