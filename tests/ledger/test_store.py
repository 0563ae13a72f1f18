"""Safe handling of the ledger store: private files, newer formats, files that are no ledger,
the chain head moving with the events, and the URL grammar of --db."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from ledger.commands import ReportCommonOutstanding
from ledger.errors import StoreError
from ledger.ledgers import head_rows
from ledger.location import FORMAT_VERSION, META_TABLE, Target
from ledger.service import Ledger
from tests.conftest import invoke

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]


def one_line_error(r: Any, *words: str) -> None:
    assert r.code == 1, (r.out, r.err)
    assert r.err.startswith("Error: ") and r.err.count("\n") == 1, r.err
    for word in words:
        assert word in r.err, r.err


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- a new SQLite ledger is private ---------------------------------------------------------


def test_new_sqlite_ledger_is_0600_with_its_wal_and_shm(tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    with umask(0):  # a permissive umask must not make the ledger readable by others
        assert invoke("--db", db, *SERIES).code == 0
        assert mode(db) == 0o600
        with Ledger(db) as book:
            book.record(ReportCommonOutstanding(effective_date=date(2003, 5, 9),
                                                shares=3108100))
            sidecars = [db + "-wal", db + "-shm"]
            assert all(os.path.exists(p) for p in sidecars)  # WAL mode, connection open
            assert {p: mode(p) for p in sidecars} == dict.fromkeys(sidecars, 0o600)
    assert mode(db) == 0o600


def test_init_creates_a_0600_file(tmp_path: Path) -> None:
    db = str(tmp_path / "new.db")
    with umask(0o022):
        r = invoke("--db", db, "init")
    assert r.code == 0, r.err
    assert mode(db) == 0o600


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    r = invoke("--db", str(tmp_path / "no" / "such" / "ledger.db"), "init")
    one_line_error(r, "does not exist")


# --- what is not a ledger, or a newer one, is refused --------------------------------------


def set_meta(db: str, key: str, value: str) -> None:
    """Write a meta row directly, as another program version would have."""
    target = Target.parse(db)
    if target.kind == "sqlite":
        con = sqlite3.connect(db)
        with con:
            con.execute(f"UPDATE {META_TABLE} SET value = ? WHERE key = ?", (value, key))
        con.close()
        return
    from psycopg.sql import SQL, Identifier

    from tests.pg import connect

    with connect(db) as conn:
        conn.execute(SQL("UPDATE {}.{} SET value = %s WHERE key = %s").format(
            Identifier(target.schema), Identifier(META_TABLE)), (value, key))


def test_ledger_from_a_newer_finledger_is_refused(fl: Any, db: str) -> None:
    assert fl(*SERIES).code == 0
    set_meta(db, "format_version", str(FORMAT_VERSION + 1))
    for command in (["log"], ["audit", "verify"], SERIES):
        one_line_error(fl(*command), "newer finledger", f"format {FORMAT_VERSION + 1}")
    set_meta(db, "format_version", str(FORMAT_VERSION))
    assert fl("log").code == 0


def test_unreadable_format_version_is_refused(fl: Any, db: str) -> None:
    assert fl(*SERIES).code == 0
    set_meta(db, "format_version", "two")
    one_line_error(fl("log"), "format version 'two' is not a number")


def test_text_file_is_not_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("SCO Capital Partners owes us lunch\n")
    for command in (["log"], SERIES):
        one_line_error(invoke("--db", str(path), *command), "not a finledger ledger")
    assert path.read_text() == "SCO Capital Partners owes us lunch\n"


def test_another_programs_sqlite_database_is_left_alone(tmp_path: Path) -> None:
    path = str(tmp_path / "other.db")
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE contacts (name TEXT)")
    con.commit()
    con.close()
    one_line_error(invoke("--db", path, *SERIES), "not a finledger ledger")
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    con.close()
    assert tables == ["contacts"]


def test_damaged_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    one_line_error(invoke("--db", str(path), "log"), "cannot be read as a ledger")


def test_directory_is_not_a_ledger(tmp_path: Path) -> None:
    one_line_error(invoke("--db", str(tmp_path), "log"), "not a finledger ledger")


def test_reading_a_missing_ledger_creates_nothing(fl: Any, db: str) -> None:
    one_line_error(fl("log"), "no ledger at", "finledger init")
    assert not Target.parse(db).exists()


# --- the chain head moves with the events, in the same transaction -------------------------


def test_lost_race_is_an_integrity_error_and_leaves_the_head(fl: Any, db: str) -> None:
    assert fl(*SERIES).code == 0
    with Ledger(db) as book:
        first = book.events()[0]
        head = book.head()
        assert head == (1, first.hash)
        rival = replace(first, hash="f" * 64)  # another writer's event at the same position
        with pytest.raises(IntegrityError):
            book.open().save(rival, meta=head_rows(book.name, (1, rival.hash)))
        assert book.head() == head
        assert [e.hash for e in book.events()] == [first.hash]


def test_head_is_written_with_each_append(fl: Any, db: str) -> None:
    assert fl(*SERIES).code == 0
    assert fl("record", "common-outstanding", "3108100", "--date", "2003-05-09").code == 0
    with Ledger(db) as book:
        events = book.events()
        assert book.head() == (2, events[-1].hash)
        assert book.meta()["format_version"] == str(FORMAT_VERSION)


# --- the --db grammar ------------------------------------------------------------------------


def test_postgres_url_parts() -> None:
    t = Target.parse("postgresql://fin%40ops:p%2Fss@db.example:6543/ledgers?schema=acme")
    assert (t.kind, t.user, t.password, t.host, t.port, t.dbname, t.schema) == (
        "postgres", "fin@ops", "p/ss", "db.example", "6543", "ledgers", "acme")
    assert t.display() == "postgresql://fin@ops@db.example:6543/ledgers?schema=acme"
    assert "p/ss" not in t.display()
    bare = Target.parse("postgres://db.example/ledgers")
    assert (bare.user, bare.port, bare.schema) == ("postgres", "5432", "")


@pytest.mark.parametrize(("url", "words"), [
    ("postgresql://u:pw@host/db?schema=Bad-Name", "not a plain name"),
    ("postgresql://u:pw@host/db?sslmode=require", "unknown option 'sslmode'"),
    ("postgresql://u:pw@host:port/db", "port"),
    ("postgresql://u:pw@host", "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"),
    ("mysql://u:pw@host/db", "unsupported store"),
])
def test_malformed_targets_are_refused_without_the_password(url: str, words: str) -> None:
    with pytest.raises(StoreError) as caught:
        Target.parse(url)
    assert words in str(caught.value)
    assert "pw" not in str(caught.value)
    r = invoke("--db", url, "log")
    one_line_error(r, words)
    assert ":pw@" not in r.err and ":pw@" not in r.out
