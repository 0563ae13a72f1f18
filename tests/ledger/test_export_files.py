"""Export and import files: an export never lands on the ledger, is written privately and
whole or not at all; a refused import leaves no trace (not even a new ledger file)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import InvalidInput
from tests.conftest import invoke

SETUP = [
    ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
     "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"],
    ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
     "--investor", "SCO Capital Partners=200", "--investor", "SDS Merchant Fund=244"],
    ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
     "--exercise-price", "3.00", "--date", "2003-05-08", "--ref", "W-1"],
]


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    path = tmp_path / "l.db"
    for step in SETUP:
        assert invoke("--db", str(path), *step).code == 0
    assert invoke("--db", str(path), "report", "summary").code == 0
    return path


def exported(db: str) -> str:
    result = invoke("--db", db, "export")
    assert result.code == 0, result.err
    return result.out


def one_line(result: Any, code: int, *words: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert result.err.startswith("Error: ") and result.err.count("\n") == 1, result.err
    for word in words:
        assert word in result.err, result.err


def test_export_onto_the_ledger_or_its_sidecars_is_refused(ledger_path: Path) -> None:
    db = str(ledger_path)
    before = exported(db)
    (ledger_path.parent / "hard.db").hardlink_to(ledger_path)
    (ledger_path.parent / "sym.db").symlink_to(ledger_path)
    sub = ledger_path.parent / "sub"
    sub.mkdir()
    for output in (db, f"{db}-wal", f"{db}-shm", f"{db}-journal", str(sub / ".." / "l.db"),
                   str(ledger_path.parent / "hard.db"), str(ledger_path.parent / "sym.db")):
        one_line(invoke("--db", db, "export", "-o", output), 1, "the ledger itself")
    assert exported(db) == before
    assert invoke("--db", db, "audit", "verify").code == 0
    assert not [p for p in os.listdir(ledger_path.parent) if p.endswith(".tmp")]


def test_the_export_file_is_private_whatever_the_umask(ledger_path: Path) -> None:
    out = ledger_path.parent / "out.jsonl"
    old = os.umask(0o022)
    try:
        result = invoke("--db", str(ledger_path), "export", "-o", str(out))
        assert result.code == 0, result.err
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        out.write_text("old\n")
        os.chmod(out, 0o644)
        assert invoke("--db", str(ledger_path), "export", "-o", str(out)).code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o600  # replaced by a private file
    finally:
        os.umask(old)
    assert out.read_text() == exported(str(ledger_path))


def test_a_failed_export_leaves_the_old_file_whole(
    ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import service

    out = ledger_path.parent / "out.jsonl"
    out.write_text("yesterday's export\n")
    real = service.export_lines

    def failing(book: Any) -> Any:
        lines, counted = real(book)

        def broken() -> Iterator[str]:
            yield next(iter(lines))
            raise InvalidInput("the disk went away")

        return broken(), counted

    monkeypatch.setattr(service, "export_lines", failing)
    one_line(invoke("--db", str(ledger_path), "export", "-o", str(out)), 1, "disk went away")
    assert out.read_text() == "yesterday's export\n"
    assert sorted(os.listdir(ledger_path.parent)) == sorted(
        p for p in os.listdir(ledger_path.parent) if not p.endswith(".tmp"))


def test_export_into_a_folder_or_a_missing_one_is_one_line(ledger_path: Path) -> None:
    one_line(invoke("--db", str(ledger_path), "export", "-o", str(ledger_path.parent)), 1,
             "is a folder")
    one_line(invoke("--db", str(ledger_path), "export", "-o",
                    str(ledger_path.parent / "no" / "x.jsonl")), 1, "cannot write")


def test_a_deeply_nested_line_is_a_malformed_line(fl: Any, tmp_path: Path) -> None:
    assert fl(*SETUP[0]).code == 0
    good = {"type": "CommonOutstandingReported", "effective_date": "2003-05-09",
            "data": {"shares": 3108100}}
    path = tmp_path / "deep.jsonl"
    for deep in ("[" * 5000, '{"a":' * 5000 + "1" + "}" * 5000,
                 json.dumps(good)[:-2] + ', "x": ' + "[" * 900 + "]" * 900 + "}}",
                 json.dumps(good)[:-2] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}}"):
        path.write_text(json.dumps(good) + "\n" + deep + "\n")
        result = fl("import", str(path))
        one_line(result, 1, "line 2")
    assert len(json.loads(fl("log", "--json").out)) == 1


def test_a_refused_import_into_a_new_ledger_leaves_no_file(ledger_path: Path) -> None:
    good = exported(str(ledger_path)).splitlines()
    path = ledger_path.parent / "bad.jsonl"
    path.write_text("\n".join([*good, '{"type": "Nope", "effective_date": "2003-05-08", '
                               '"data": {}}']) + "\n")
    new = ledger_path.parent / "new.db"
    one_line(invoke("--db", str(new), "import", str(path)), 1, "line 4")
    assert not [p for p in os.listdir(ledger_path.parent) if p.startswith("new.db")]
    path.write_text("[" * 5000 + "\n")
    one_line(invoke("--db", str(new), "import", str(path)), 1, "line 1")
    assert not [p for p in os.listdir(ledger_path.parent) if p.startswith("new.db")]
    path.write_bytes(b"\xff\xfe not text\n")
    one_line(invoke("--db", str(new), "import", str(path)), 1)
    assert not [p for p in os.listdir(ledger_path.parent) if p.startswith("new.db")]
    # a good import still creates it; a refused one into an existing ledger keeps it as it was
    path.write_text("\n".join(good[:2]) + "\n")
    assert invoke("--db", str(new), "import", str(path)).code == 0
    path.write_text(good[2][:-3] + "\n")
    one_line(invoke("--db", str(new), "import", str(path)), 1, "line 1")
    assert len(exported(str(new)).splitlines()) == 2


def test_importing_the_ledger_into_itself_is_refused(ledger_path: Path) -> None:
    before = exported(str(ledger_path))
    one_line(invoke("--db", str(ledger_path), "import", str(ledger_path)), 1, "the ledger itself")
    assert exported(str(ledger_path)) == before


def test_a_workbook_onto_the_ledger_is_refused(tmp_path: Path) -> None:
    """A ledger file whose name ends in .xlsx is never overwritten by `-o FILE.xlsx`."""
    path = tmp_path / "l.xlsx"
    db = str(path)
    for step in SETUP:
        assert invoke("--db", db, *step).code == 0
    before = exported(db)
    for command in (["report", "summary"], ["report", "preferred"], ["log"]):
        one_line(invoke("--db", db, *command, "-o", db), 1, "the ledger itself")
    assert exported(db) == before
    assert invoke("--db", db, "audit", "verify").code == 0


def test_a_workbook_is_written_privately_and_whole(ledger_path: Path) -> None:
    target = ledger_path.parent / "r.xlsx"
    target.write_text("old")
    assert invoke("--db", str(ledger_path), "report", "preferred", "-o", str(target)).code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes()[:2] == b"PK"  # a zip: the workbook replaced the old file
    assert [p.name for p in ledger_path.parent.iterdir() if p.name.endswith(".tmp")] == []
