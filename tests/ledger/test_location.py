"""Odd --db targets and files that are not ledgers: one `Error:` line, and nothing created,
changed or taken for a new ledger. Only a path that does not exist yet becomes a new ledger."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import InvalidTarget
from ledger.location import Target
from ledger.service import Ledger, new_key
from tests.conftest import invoke

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]
COMMANDS = [["log"], ["export"], ["report", "preferred"], ["report", "summary"],
            ["report", "warrants"], ["report", "capital"], ["audit", "verify"],
            ["audit", "replay"], ["init"], SERIES]


def one_line(result: Any, code: int, *words: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert result.err.startswith("Error: ") and result.err.count("\n") == 1, result.err
    for word in words:
        assert word in result.err, result.err


@pytest.mark.parametrize(("target", "words"), [
    (":memory:", ["in-memory", "keeps nothing"]),
    ("file::memory:", ["in-memory"]),
    ("file:ledger.db?mode=memory&cache=shared", ["in-memory"]),
    ("file:ledger.db", ["SQLite URI", "plain file path"]),
    ("postgresql://[::1", ["not a valid URL", "postgresql://USER"]),
    ("postgresql://u:pw@[::1/db", ["not a valid URL"]),
])
def test_targets_that_cannot_hold_a_ledger_are_a_usage_error(
    target: str, words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (SERIES, ["log"], ["init"]):
        one_line(invoke("--db", target, *command), 2, *words)
        assert ":pw@" not in invoke("--db", target, *command).err
    assert list(tmp_path.iterdir()) == []  # no file named after the target either
    with pytest.raises(InvalidTarget):
        Target.parse(target)


def test_a_db_under_a_file_is_a_usage_error(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a folder\n")
    for target in (notes / "ledger.db", notes / "deeper" / "ledger.db"):
        for command in (SERIES, ["log"], ["init"]):
            one_line(invoke("--db", str(target), *command), 2, "is a file, not a folder")
    assert notes.read_text() == "not a folder\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_an_empty_file_is_refused_by_every_command(tmp_path: Path) -> None:
    # a ledger truncated to 0 bytes is not a new ledger: it was once one
    path = tmp_path / "ledger.db"
    path.write_bytes(b"")
    for command in COMMANDS:
        one_line(invoke("--db", str(path), *command), 1, "empty file", "not a finledger ledger")
    assert path.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.db"]


def test_an_empty_sqlite_database_is_not_a_ledger_either(tmp_path: Path) -> None:
    path = tmp_path / "blank.db"
    con = sqlite3.connect(path)
    con.execute("VACUUM")  # a valid SQLite file with no tables
    con.close()
    size = path.stat().st_size
    for command in (SERIES, ["audit", "verify"], ["log"]):
        one_line(invoke("--db", str(path), *command), 1, "not a finledger ledger")
    assert path.stat().st_size == size


def test_only_a_path_that_does_not_exist_becomes_a_new_ledger(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    result = invoke("--db", str(path), *SERIES)
    assert result.code == 0, result.err
    assert invoke("--db", str(path), "audit", "verify").code == 0
    # no scratch file is left beside it
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("new.db-")) == [
        "new.db"]


def test_a_malformed_key_on_a_new_ledger_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "keyed.db"
    for key in ("garbage", "x" * 44, "bm90IGEga2V5"):
        for command in (["init"], SERIES):
            result = invoke("--db", str(path), *command, env={"FINLEDGER_KEY": key})
            one_line(result, 1, "FINLEDGER_KEY")
            assert list(tmp_path.iterdir()) == [], (key, command)


def test_a_good_key_still_creates_an_encrypted_ledger(tmp_path: Path) -> None:
    path = tmp_path / "keyed.db"
    key = new_key()
    result = invoke("--db", str(path), *SERIES, env={"FINLEDGER_KEY": key})
    assert result.code == 0, result.err
    with Ledger(str(path), key=key) as book:
        assert len(book.events()) == 1


def test_two_processes_creating_one_ledger_both_land(tmp_path: Path) -> None:
    """The new file appears whole (built aside, linked into place): a racer never meets an
    empty file and takes it for a damaged ledger."""
    import multiprocessing

    path = str(tmp_path / "race.db")
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        codes = pool.starmap(_create_and_record, [(path, n) for n in range(8)])
    assert codes == [0] * 8
    with Ledger(path) as book:
        assert len(book.events()) == 8
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".new")]


def _create_and_record(path: str, n: int) -> int:
    return invoke("--db", path, "record", "common-outstanding", str(1000 + n),
                  "--date", "2003-05-09").code


def test_a_malformed_key_leaves_no_ledger_on_either_backend(db: str) -> None:
    for command in (["init"], SERIES):
        one_line(invoke("--db", db, *command, env={"FINLEDGER_KEY": "garbage"}), 1,
                 "FINLEDGER_KEY")
        assert not Target.parse(db).exists()
