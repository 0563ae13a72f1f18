"""The PostgreSQL half of the suite: where the server is, and a fresh schema per test.

`.ci/run` exports FINLEDGER_TEST_POSTGRES_URL (postgresql://postgres@127.0.0.1:5432/test);
elsewhere the PostgreSQL tests skip with a reason. Each test gets its own schema
(`?schema=t_<random>`), created by the ledger itself on first write and dropped afterwards,
so tests can run in parallel against one database without seeing each other.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from ledger.target import Target

URL_VARIABLE = "FINLEDGER_TEST_POSTGRES_URL"


def base_url() -> str:
    """The server's URL, or skip the test saying how to enable it."""
    url = os.environ.get(URL_VARIABLE, "")
    if not url:
        pytest.skip(f"{URL_VARIABLE} is not set (.ci/run sets it to the local server)")
    return url


def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    t = Target.parse(url)
    return psycopg.connect(
        dbname=t.dbname, host=t.host, port=t.port, user=t.user, password=t.password,
        autocommit=True, connect_timeout=10,
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
