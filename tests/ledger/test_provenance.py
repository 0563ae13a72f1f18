"""A faithful import: each event keeps when and by whom it was recorded, and where (its
position and hash in the exported ledger); `--verify-source-head` refuses a file whose chain
does not recompute to the head an auditor saw. The new ledger's chain is its own."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.chain import entry_hash
from tests.conftest import invoke
from tests.ledger.test_transfer import REPORTS, SPECTRUM, another_ledger, lines, write_lines


def _head(target: str) -> str:
    r = invoke("--db", target, "audit", "verify")
    assert r.code == 0, r.out + r.err
    return r.out.split()[-1]


@pytest.fixture
def exported(db: str, tmp_path: Path) -> tuple[str, Path]:
    for args in SPECTRUM:
        r = invoke("--db", db, "--actor", "cfo@spectrum", *args)
        assert r.code == 0, (args, r.err)
    path = tmp_path / "spectrum.jsonl"
    assert invoke("--db", db, "export", "-o", str(path)).code == 0
    return db, path


def test_import_keeps_recorded_at_actor_and_the_source_hashes(
    exported: tuple[str, Path], tmp_path: Path
) -> None:
    db, path = exported
    original = lines(path)
    with another_ledger(db, tmp_path) as copy:
        r = invoke("--db", copy, "--actor", "auditor", "import", str(path),
                   "--verify-source-head", _head(db))
        assert r.code == 0, r.err
        imported = json.loads(invoke("--db", copy, "log", "--json").out)
        assert len(imported) == len(original)
        for old, new in zip(original, imported, strict=True):
            assert new["recorded_at"] == old["recorded_at"]
            assert new["actor"] == old["actor"] == "cfo@spectrum"
            assert new["source"] == {"position": old["position"], "hash": old["hash"]}
            assert new["data"] == old["data"] and new["reversed_by"] == old["reversed_by"]
            assert new["hash"] != old["hash"]  # a new chain: it covers the source too
        assert imported[0]["prev_hash"] == "0" * 64
        assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(imported))
        assert invoke("--db", copy, "audit", "verify").code == 0
        for args in REPORTS:
            assert invoke("--db", copy, *args).out == invoke("--db", db, *args).out


def test_an_import_of_an_import_names_the_file_it_came_from(
    exported: tuple[str, Path], tmp_path: Path
) -> None:
    _, path = exported
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    assert invoke("--db", str(first), "import", str(path)).code == 0
    again = tmp_path / "again.jsonl"
    assert invoke("--db", str(first), "export", "-o", str(again)).code == 0
    # the re-export's lines carry their source, and their hashes cover it
    assert all("source" in entry and entry_hash(entry) == entry["hash"] for entry in lines(again))
    r = invoke("--db", str(second), "import", str(again), "--verify-source-head",
               _head(str(first)))
    assert r.code == 0, r.err
    last = json.loads(invoke("--db", str(second), "log", "--json").out)[-1]
    assert last["source"]["hash"] == _head(str(first))
    assert last["recorded_at"] == lines(path)[-1]["recorded_at"]


def test_positions_shift_but_the_source_keeps_the_exported_ones(
    exported: tuple[str, Path], tmp_path: Path
) -> None:
    _, path = exported
    target = str(tmp_path / "busy.db")
    assert invoke("--db", target, "record", "common-outstanding", "100",
                  "--date", "2001-01-01").code == 0
    assert invoke("--db", target, "import", str(path)).code == 0
    entries = json.loads(invoke("--db", target, "log", "--json").out)
    assert "source" not in entries[0]  # recorded here
    assert [e["source"]["position"] for e in entries[1:]] == [e["position"] for e in lines(path)]
    assert [e["position"] for e in entries[1:]] == [e["position"] + 1 for e in lines(path)]
    assert invoke("--db", target, "audit", "verify").code == 0


def _refused(copy: str, path: Path, head: str) -> str:
    r = invoke("--db", copy, "import", str(path), "--verify-source-head", head)
    assert r.code == 1, r.out
    assert r.err.startswith("Error: ") and len(r.err.splitlines()) == 1
    events = invoke("--db", copy, "log", "--json")
    assert events.code != 0 or json.loads(events.out) == []  # nothing was appended
    return r.err


def test_verify_source_head_refuses_an_edited_file(
    exported: tuple[str, Path], tmp_path: Path
) -> None:
    db, path = exported
    head = _head(db)
    entries = lines(path)
    # An edit that recording would accept (a baseline's count): only the chain can tell.
    edited = [dict(e) for e in entries]
    baseline = next(i for i, e in enumerate(edited) if e["type"] == "CommonOutstandingReported")
    edited[baseline] = {**edited[baseline], "data": {"shares": 3108101}}
    err = _refused(str(tmp_path / "a.db"), write_lines(tmp_path / "e.jsonl", edited), head)
    assert f"line {baseline + 1}:" in err and "edited" in err
    # The same edit with every hash recomputed: the chain holds, but no longer ends at HEAD.
    prev = "0" * 64
    for entry in edited:
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash(entry)
    err = _refused(str(tmp_path / "b.db"), write_lines(tmp_path / "r.jsonl", edited), head)
    assert head in err and "not the history" in err
    # An event deleted, and the file cut short.
    gone = entries[:3] + entries[4:]
    err = _refused(str(tmp_path / "c.db"), write_lines(tmp_path / "d.jsonl", gone), head)
    assert "line 4:" in err
    _refused(str(tmp_path / "d.db"), write_lines(tmp_path / "s.jsonl", entries[:-1]), head)
    # Without the option the edited file is still imported (what it says is possible).
    assert invoke("--db", str(tmp_path / "e.db"), "import", str(tmp_path / "e.jsonl")).code == 0


def test_verify_source_head_needs_a_hash(exported: tuple[str, Path], tmp_path: Path) -> None:
    _, path = exported
    r = invoke("--db", str(tmp_path / "x.db"), "import", str(path), "--verify-source-head", "abc")
    assert r.code == 2 and "not a head hash" in r.err


def test_a_line_without_its_recording_is_recorded_now_by_the_importer(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "hand.jsonl", [
        {"type": "CommonOutstandingReported", "effective_date": "2003-05-09",
         "data": {"shares": 100}}])
    target = str(tmp_path / "l.db")
    before = datetime.now(UTC)
    assert invoke("--db", target, "--actor", "clerk", "import", str(path)).code == 0
    (entry,) = json.loads(invoke("--db", target, "log", "--json").out)
    assert entry["actor"] == "clerk" and "source" not in entry
    assert datetime.fromisoformat(entry["recorded_at"]) >= before


@pytest.mark.parametrize(("field", "value", "says"), [
    ("recorded_at", "yesterday", "not a time"),
    ("hash", "beef", "not a SHA-256 hash"),
    ("actor", "  ", "actor"),
])
def test_a_malformed_recording_is_refused(tmp_path: Path, field: str, value: Any,
                                          says: str) -> None:
    path = write_lines(tmp_path / "bad.jsonl", [
        {"type": "CommonOutstandingReported", "effective_date": "2003-05-09",
         "data": {"shares": 100}, field: value}])
    r = invoke("--db", str(tmp_path / "l.db"), "import", str(path))
    assert r.code == 1 and r.err.startswith("Error: line 1:") and says in r.err


def test_the_new_chain_covers_the_source(exported: tuple[str, Path], tmp_path: Path) -> None:
    import sqlite3

    _, path = exported
    target = tmp_path / "copy.db"
    assert invoke("--db", str(target), "import", str(path)).code == 0
    original = lines(path)[2]["hash"]
    with sqlite3.connect(target) as con:
        (state,) = con.execute(
            "SELECT state FROM stored_events WHERE originator_version=3").fetchone()
        assert original.encode() in state
        forged = state.replace(original.encode(), b"f" * 64)
        con.execute("UPDATE stored_events SET state=? WHERE originator_version=3", (forged,))
    assert json.loads(invoke("--db", str(target), "log", "--json").out)[2]["source"]["hash"] \
        == "f" * 64
    r = invoke("--db", str(target), "audit", "verify")
    assert r.code == 1 and "position 3" in r.out
