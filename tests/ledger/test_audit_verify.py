"""`audit verify` against a real ledger file that was tampered with behind finledger's back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ledger import audit
from ledger.chain import GENESIS_HASH
from tests.conftest import Result, invoke

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "600"]
RECORDS = [
    SERIES,
    ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
     "--investor", "SCO Capital Partners=250", "--investor", "SDS Merchant Fund=194"],
    ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
     "--exercise-price", "3.00", "--date", "2003-05-08", "--closing", "D-1", "--ref", "W1"],
    ["record", "common-outstanding", "3108100", "--date", "2003-05-09"],
    ["record", "closing", "Series D", "--date", "2003-05-14", "--ref", "D-2",
     "--investor", "Xmark Funds=156"],
    ["record", "exercise", "W1", "--shares", "1000", "--date", "2004-01-15"],
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger file of six events recorded through the CLI (built once, copied per test)."""
    path = tmp_path_factory.mktemp("audit") / "ledger.db"
    for args in RECORDS:
        r = invoke("--db", str(path), *args)
        assert r.code == 0, r.err
    return path


@pytest.fixture
def ledger_file(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "ledger.db"
    src = sqlite3.connect(pristine)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    return copy


def verify(path: Path, *extra: str) -> tuple[Result, dict[str, object]]:
    r = invoke("--db", str(path), "audit", "verify", "--json", *extra)
    return r, json.loads(r.out)


def sql(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    con = sqlite3.connect(path)
    with con:
        for statement, params in statements:
            con.execute(statement, params)
    con.close()


def positions(report: dict[str, object]) -> list[int]:
    return [p["position"] for p in report["problems"]]  # type: ignore[attr-defined,index]


def test_an_untouched_ledger_verifies_and_prints_its_head(ledger_file: Path) -> None:
    r, report = verify(ledger_file)
    assert r.code == 0, r.err
    assert report["ok"] is True and report["events"] == 6 and report["problems"] == []
    log = json.loads(invoke("--db", str(ledger_file), "log", "--json").out)
    assert report["head_position"] == 6 and report["head_hash"] == log[-1]["hash"]
    text = invoke("--db", str(ledger_file), "audit", "verify")
    assert text.code == 0 and f"OK: 6 events; head 6 {log[-1]['hash']}" in text.out


def test_a_changed_byte_is_found_at_its_position(ledger_file: Path) -> None:
    con = sqlite3.connect(ledger_file)
    (state,) = con.execute("SELECT state FROM stored_events WHERE originator_version=5").fetchone()
    con.close()
    raw = bytes(state) if isinstance(state, bytes) else state.encode()
    edited = raw.replace(b"Xmark Funds", b"Xmark Fundz")
    assert edited != raw
    sql(ledger_file, ("UPDATE stored_events SET state=? WHERE originator_version=5", (edited,)))
    r, report = verify(ledger_file)
    assert r.code == 1
    assert positions(report) == [5]
    assert "edited" in report["problems"][0]["problem"]  # type: ignore[index]
    assert r.err.startswith("Error: audit failed") and "position 5" in r.err


def test_a_byte_that_breaks_decoding_is_a_problem_not_a_crash(ledger_file: Path) -> None:
    sql(ledger_file, ("UPDATE stored_events SET state=substr(state, 2) "
                      "WHERE originator_version=3", ()))
    r, report = verify(ledger_file)
    assert r.code == 1
    assert 3 in positions(report)
    assert "cannot be read" in report["problems"][0]["problem"]  # type: ignore[index]


def test_deleting_the_last_event_is_found(ledger_file: Path) -> None:
    sql(ledger_file, ("DELETE FROM stored_events WHERE originator_version=6", ()))
    r, report = verify(ledger_file)
    assert r.code == 1
    assert positions(report) == [6]
    assert "deleted" in report["problems"][0]["problem"]  # type: ignore[index]


def test_deleting_an_event_in_the_middle_is_found(ledger_file: Path) -> None:
    sql(ledger_file, ("DELETE FROM stored_events WHERE originator_version=3", ()))
    r, report = verify(ledger_file)
    assert r.code == 1
    assert positions(report) == [3]
    assert "missing" in report["problems"][0]["problem"]  # type: ignore[index]


def test_swapping_two_events_is_found_at_both_positions(ledger_file: Path) -> None:
    con = sqlite3.connect(ledger_file)
    rows = {version: (topic, state) for version, topic, state in con.execute(
        "SELECT originator_version, topic, state FROM stored_events "
        "WHERE originator_version IN (2, 4)"
    ).fetchall()}
    con.close()
    update = "UPDATE stored_events SET topic=?, state=? WHERE originator_version=?"
    sql(ledger_file, (update, (*rows[4], 2)), (update, (*rows[2], 4)))
    r, report = verify(ledger_file)
    assert r.code == 1
    assert positions(report) == [2, 4]
    problems = [p["problem"] for p in report["problems"]]  # type: ignore[attr-defined]
    assert "recorded at position 4: reordered" in problems[0]
    assert "recorded at position 2: reordered" in problems[1]


def test_renumbering_versions_is_found(ledger_file: Path) -> None:
    sql(ledger_file,
        ("UPDATE stored_events SET originator_version=-1 WHERE originator_version=5", ()),
        ("UPDATE stored_events SET originator_version=5 WHERE originator_version=4", ()),
        ("UPDATE stored_events SET originator_version=4 WHERE originator_version=-1", ()))
    r, report = verify(ledger_file)
    assert r.code == 1
    assert positions(report) == [4, 5]


def test_an_event_appended_behind_the_head_is_found(ledger_file: Path) -> None:
    con = sqlite3.connect(ledger_file)
    row = con.execute("SELECT originator_id, topic, state FROM stored_events "
                      "WHERE originator_version=4").fetchone()
    con.close()
    sql(ledger_file, ("INSERT INTO stored_events VALUES (?, 7, ?, ?)", row))
    r, report = verify(ledger_file)
    assert r.code == 1
    assert 7 in positions(report)


def test_expect_head_fails_once_the_ledger_moved_on(ledger_file: Path) -> None:
    _, report = verify(ledger_file)
    head = str(report["head_hash"])
    r, _ = verify(ledger_file, "--expect-head", head)
    assert r.code == 0, r.err
    assert invoke("--db", str(ledger_file), "record", "common-outstanding", "3200000",
                  "--date", "2004-02-01").code == 0
    r, report = verify(ledger_file, "--expect-head", head)
    assert r.code == 1
    assert positions(report) == [7]
    assert "1 event was recorded after it" in report["problems"][0]["problem"]  # type: ignore[index]
    r, report = verify(ledger_file, "--expect-head", "ab" * 32)
    assert r.code == 1 and "nowhere in the chain" in r.err


def test_an_empty_ledger_verifies(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    assert invoke("--db", str(path), "init").code == 0
    r, report = verify(path)
    assert r.code == 0, r.err
    assert report == {"ok": True, "events": 0, "problems": [], "head_position": 0,
                      "head_hash": GENESIS_HASH}


def test_check_chain_never_raises_on_garbage() -> None:
    rows: list[audit.Row] = [(1, "JSONDecodeError"), (3, "ValueError")]
    problems = audit.check_chain(rows, ("2", "x"))
    assert [p.position for p in problems] == [1, 2, 3, 3]


def test_a_materialized_row_that_differs_from_replay_is_found(ledger_file: Path) -> None:
    assert invoke("--db", str(ledger_file), "report", "warrants").code == 0
    r, _ = verify(ledger_file)
    assert r.code == 0, r.out
    sql(ledger_file,
        ("UPDATE rm_warrants SET exercised = exercised + 1 WHERE ref = 'W1'", ()),
        ("DELETE FROM rm_capital WHERE position = 5", ()))
    r, report = verify(ledger_file)
    assert r.code == 1
    assert report["problems"] == [
        {"position": 3, "problem": "rm_warrants row 'W1' differs: exercised is 1001 in the "
                                   "table but 1000 by replay"},
        {"position": 5, "problem": "rm_capital row 5 is missing from the table"},
    ]


def test_a_holder_row_that_differs_from_its_lots_is_found(ledger_file: Path) -> None:
    """`rm_holders` is kept from the lots, not replayed: verify recomputes it from them."""
    assert invoke("--db", str(ledger_file), "report", "preferred").code == 0
    r, _ = verify(ledger_file)
    assert r.code == 0, r.out
    head = int(verify(ledger_file)[1]["head_position"])  # type: ignore[arg-type]
    sql(ledger_file, ("UPDATE rm_holders SET converted = converted + 7 WHERE rowid = "
                      "(SELECT MIN(rowid) FROM rm_holders)", ()))
    r, report = verify(ledger_file)
    assert r.code == 1
    problems = report["problems"]
    assert isinstance(problems, list) and len(problems) == 1
    assert problems[0]["position"] == head
    assert "in the table but" in problems[0]["problem"] and "by its lots" in problems[0]["problem"]
    sql(ledger_file, ("DELETE FROM rm_holders WHERE rowid = (SELECT MIN(rowid) FROM rm_holders)",
                      ()))
    r, report = verify(ledger_file)
    assert r.code == 1
    assert "has no row for" in report["problems"][0]["problem"]  # type: ignore[index]
