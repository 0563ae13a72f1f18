"""The PostgreSQL half of the suite: where the server is, and a fresh schema per test.

The server is FINLEDGER_TEST_POSTGRES_URL when set (`.ci/run` sets it); unset, the local
server `.ci/run` would use (postgresql://postgres@127.0.0.1:5432/test) is tried, and used
if it answers. With neither the PostgreSQL tests skip, and pytest's summary says loudly that
they did not run and how to run them. Each test gets its own schema
(`?schema=t_<random>`), created by the ledger itself on first write and dropped afterwards,
so tests can run in parallel against one database without seeing each other.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from ledger.location import Target

URL_VARIABLE = "FINLEDGER_TEST_POSTGRES_URL"
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/test"  # what .ci/run points it at
HOW_TO_RUN = (f"start PostgreSQL (user postgres, database test) on 127.0.0.1:5432, or set "
              f"{URL_VARIABLE}=postgresql://USER@HOST:PORT/DBNAME")


@functools.cache
def _local_server_answers(url: str) -> bool:
    try:
        with connect(url, timeout=2):
            return True
    except psycopg.Error:
        return False


def server_url() -> str | None:
    """FINLEDGER_TEST_POSTGRES_URL, else the local server if it answers, else None."""
    url = os.environ.get(URL_VARIABLE, "")
    if url:
        return url
    return LOCAL_URL if _local_server_answers(LOCAL_URL) else None


def base_url() -> str:
    """The server's URL, or skip the test saying how to enable it."""
    url = server_url()
    if url is None:
        pytest.skip(f"{URL_VARIABLE} is not set and no server answers at {LOCAL_URL}: "
                    f"{HOW_TO_RUN}")
    return url


def connect(url: str, timeout: int = 10) -> psycopg.Connection[tuple[object, ...]]:
    t = Target.parse(url)
    return psycopg.connect(
        dbname=t.dbname, host=t.host, port=t.port, user=t.user, password=t.password,
        autocommit=True, connect_timeout=timeout,
    )


def drop_schema(url: str, schema: str) -> None:
    with connect(url) as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))


@contextmanager
def fresh_ledger_url() -> Iterator[str]:
    """A URL naming a new, empty ledger on the test server; dropped afterwards."""
    url = base_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        with connect(url):
            pass
    except psycopg.Error as exc:
        pytest.fail(f"{URL_VARIABLE} is set but the server cannot be reached: {exc}")
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}schema={schema}"
    finally:
        drop_schema(url, schema)
