"""File faults under a SQLite ledger: a read-only file or place, a directory in its place, a
truncated file, random bytes inside it, a full disk. Each ends in one clear `Error:` line (or
a success that changed nothing it should not), never a traceback, and never a damaged
ledger that `audit verify` calls OK."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.damage import sqlite_damage
from tests.conftest import invoke

SETUP = [
    ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
     "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "600"],
    ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
     "--investor", "SCO Capital Partners=200", "--investor", "SDS Merchant Fund=244"],
    ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
     "--exercise-price", "3.00", "--date", "2003-05-08", "--expires", "2008-05-08",
     "--ref", "W-1"],
    ["record", "common-outstanding", "3108100", "--date", "2003-05-09"],
    ["record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01",
     "--form", "cash"],
    ["record", "conversion", "Series D", "--holder", "SCO Capital Partners", "--shares", "10",
     "--date", "2003-08-01"],
    ["report", "summary"],  # the read model's tables are written too
]
READS = [["log"], ["export"], ["report", "preferred", "--json"], ["report", "summary"],
         ["report", "warrants"], ["report", "capital"], ["audit", "replay"]]
RECORD = ["record", "common-outstanding", "3200000", "--date", "2003-09-01"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "ledger.db"
    for step in SETUP:
        result = invoke("--db", str(path), *step)
        assert result.code == 0, result.err
    return path


@pytest.fixture(scope="module")
def original(template: Path) -> dict[str, str]:
    """What the sound ledger says: its export and its preferred report."""
    return {" ".join(cmd): invoke("--db", str(template), *cmd).out
            for cmd in (["export"], ["report", "preferred", "--json", "--as-of", "2004-01-01"])}


def copy_of(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    shutil.copyfile(template, path)
    return path


def clean(result: Any, *codes: int) -> None:
    """Exit code among `codes` (0, 1 or 2), and a refusal is one line, with no traceback."""
    assert result.code in codes, (result.code, result.out[-300:], result.err)
    assert "Traceback" not in result.out + result.err
    if result.code:
        assert result.err.startswith("Error: ") and result.err.count("\n") == 1, result.err


def events_of(db: Path) -> int:
    result = invoke("--db", str(db), "log", "--json")
    assert result.code == 0, result.err
    return len(json.loads(result.out))


def test_a_directory_in_the_ledgers_place(tmp_path: Path) -> None:
    folder = tmp_path / "ledger.db"
    folder.mkdir()
    for command in [*READS, ["audit", "verify"], RECORD, ["init"]]:
        result = invoke("--db", str(folder), *command)
        clean(result, 1)
        assert "not a finledger ledger" in result.err
    assert list(folder.iterdir()) == []


def test_a_read_only_ledger_file(template: Path, tmp_path: Path) -> None:
    db = copy_of(template, tmp_path)
    os.chmod(db, 0o400)
    try:
        for command in [*READS, ["audit", "verify"]]:
            clean(invoke("--db", str(db), *command), 0, 1)
        result = invoke("--db", str(db), *RECORD)
        clean(result, 0, 1)  # root may write anyway; anyone else is refused
        expected = len(SETUP) - 1 + (result.code == 0)
    finally:
        os.chmod(db, 0o600)
    assert events_of(db) == expected
    assert invoke("--db", str(db), "audit", "verify").code == 0


@pytest.mark.parametrize("keep", [0, 100, 4096, 20_000, 50_000])
def test_a_truncated_ledger_file(template: Path, tmp_path: Path, keep: int) -> None:
    db = copy_of(template, tmp_path)
    with open(db, "r+b") as fh:
        fh.truncate(keep)
    for command in [*READS, RECORD]:
        clean(invoke("--db", str(db), *command), 0, 1)
    verify = invoke("--db", str(db), "audit", "verify")
    clean(verify, 1)  # nothing a truncated file holds is the whole ledger
    assert os.path.getsize(db) == keep  # and nothing was written over it


def _damage(db: Path, offset: int, data: bytes) -> None:
    with open(db, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def _page_of(db: Path, table: str) -> int:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        (root,), = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
        (size,), = con.execute("PRAGMA page_size")
    finally:
        con.close()
    return int((root - 1) * size)


def _check_damaged(db: Path, original: dict[str, str]) -> str:
    """Run every command on a damaged copy; return what audit verify concluded."""
    for command in READS:
        clean(invoke("--db", str(db), *command), 0, 1)
    found = sqlite_damage(str(db))  # (a report may have rebuilt damaged read-model tables)
    verify = invoke("--db", str(db), "audit", "verify")
    clean(verify, 0, 1)
    if verify.code == 0:
        # verify OK means the damage touched nothing the ledger holds (free space, say)
        assert not found, found
        for command, said in original.items():
            assert invoke("--db", str(db), *command.split()).out == said, command
        return "ok"
    assert "damaged" in verify.out + verify.err or "position" in verify.err
    before = None
    with contextlib.suppress(AssertionError):
        before = events_of(db)
    result = invoke("--db", str(db), *RECORD)
    clean(result, 0, 1)
    if result.code and before is not None:
        assert events_of(db) == before
    return "damaged"


@pytest.mark.parametrize("table", ["sqlite_master", "finledger_meta", "stored_events",
                                   "rm_lots", "rm_meta", "rm_totals"])
def test_random_bytes_in_a_table(template: Path, tmp_path: Path, table: str,
                                 original: dict[str, str]) -> None:
    db = copy_of(template, tmp_path)
    offset = 30 if table == "sqlite_master" else _page_of(db, table) + 8
    _damage(db, offset, b"\xff\x13" * 24)
    shutil.copyfile(db, tmp_path / "damaged.db")
    verify = invoke("--db", str(db), "audit", "verify")
    clean(verify, 1)
    assert table in verify.out, verify.out  # the damaged table is named
    if table.startswith("rm_"):
        # the reports' tables are a cache: a report either rebuilds them (and answers as the
        # sound ledger does) or says in one line to rebuild them
        report = ["report", "preferred", "--json", "--as-of", "2004-01-01"]
        said = invoke("--db", str(db), *report)
        clean(said, 0, 1)
        if said.code:
            assert "report rebuild" in said.err and "events are intact" in said.err, said.err
        else:
            assert said.out == original[" ".join(report)]
        assert invoke("--db", str(db), "report", "rebuild").code == 0
        assert invoke("--db", str(db), *report).out == original[" ".join(report)]
        assert invoke("--db", str(db), "audit", "verify").code == 0
    shutil.copyfile(tmp_path / "damaged.db", db)
    _check_damaged(db, original)


def test_a_damaged_event_row_is_named_by_its_position(template: Path, tmp_path: Path) -> None:
    import sqlite3

    db = copy_of(template, tmp_path)
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE stored_events SET topic = CAST(X'6576656e74733aff' AS TEXT) "
                    "WHERE originator_version = 4")
    con.close()
    verify = invoke("--db", str(db), "audit", "verify")
    clean(verify, 1)
    assert "position 4" in verify.out, verify.out
    for command in (["log"], ["export"], ["audit", "replay"], RECORD):  # they read the events
        result = invoke("--db", str(db), *command)
        clean(result, 1)
        assert "damaged at position 4" in result.err and "audit verify" in result.err, result.err
    for command in READS:  # a report may answer from its tables, caught up before the damage
        clean(invoke("--db", str(db), *command), 0, 1)


def test_random_bytes_anywhere(template: Path, tmp_path: Path, original: dict[str, str]) -> None:
    rng = random.Random(20031105)
    size = os.path.getsize(template)
    outcomes = []
    for trial in range(40):
        folder = tmp_path / str(trial)
        folder.mkdir()
        db = copy_of(template, folder)
        length = rng.choice((1, 16, 256))
        _damage(db, rng.randrange(100, size - length),
                bytes(rng.randrange(256) for _ in range(length)))
        outcomes.append(_check_damaged(db, original))
    assert "damaged" in outcomes or "ok" in outcomes


# --- a full disk -----------------------------------------------------------------------------


@contextlib.contextmanager
def small_disk(tmp_path: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of `size` mounted for the test, or a skip saying why there is none."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8); the full-disk case is "
                    "not exercised on this machine")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the full-disk case "
                    "is not exercised on this machine")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave_kib: int) -> None:
    filler = disk / "filler"
    with contextlib.suppress(FileNotFoundError):
        filler.unlink()
    free = shutil.disk_usage(disk).free // 1024
    with open(filler, "wb") as fh, contextlib.suppress(OSError):
        fh.write(b"\0" * max(0, free - leave_kib) * 1024)


def test_a_full_disk(template: Path, tmp_path: Path, original: dict[str, str]) -> None:
    with small_disk(tmp_path) as disk:
        db = disk / "ledger.db"
        shutil.copyfile(template, db)
        recorded = 0
        for leave in (0, 4, 8, 16, 24, 32, 48, 64):
            before = events_of(db)
            _fill(disk, leave)
            for command in READS:
                clean(invoke("--db", str(db), *command), 0, 1)
            result = invoke("--db", str(db), "record", "common-outstanding",
                            str(3200000 + leave), "--date", "2003-09-01")
            clean(result, 0, 1)
            recorded += result.code == 0
            (disk / "filler").unlink()
            assert events_of(db) == before + (result.code == 0)
        # the export to a full disk fails whole and leaves the old file as it was
        out = disk / "out.jsonl"
        out.write_text("yesterday\n")
        _fill(disk, 0)
        result = invoke("--db", str(template), "export", "-o", str(out))
        clean(result, 1)
        assert out.read_text() == "yesterday\n"
        (disk / "filler").unlink()
        verify = invoke("--db", str(db), "audit", "verify")
        assert verify.code == 0, verify.out + verify.err
        assert events_of(db) == len(SETUP) - 1 + recorded


def test_a_ledger_on_a_read_only_file_system(template: Path, tmp_path: Path) -> None:
    with small_disk(tmp_path) as disk:
        db = disk / "ledger.db"
        shutil.copyfile(template, db)
        done = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot remount the tmpfs read-only ({done.stderr.strip()})")
        for command in [*READS, ["audit", "verify"], RECORD]:
            result = invoke("--db", str(db), *command)
            clean(result, 1)
            assert "read-only place" in result.err, result.err
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        assert events_of(db) == len(SETUP) - 1
        assert invoke("--db", str(db), "audit", "verify").code == 0
