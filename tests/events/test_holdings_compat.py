"""A ledger written before the fields issue 12 added (`ownership_cap`, `exercisable_from`,
`holder_owns`) still reads, verifies and reports: the stored rows lack them, and an event at
their default keeps the JSON form, and so the hash, it always had."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from events.codec import event_data
from ledger.service import Ledger
from tests.conftest import invoke

HISTORY = [
    ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
     "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "600"],
    ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
     "--investor", "A=150"],
    ["record", "warrants", "--holder", "A", "--shares", "1000", "--exercise-price", "3",
     "--date", "2003-05-08", "--ref", "W"],
    ["record", "exercise", "W", "--shares", "10", "--date", "2003-06-01"],
    ["record", "conversion", "Series D", "--holder", "A", "--shares", "10", "--date",
     "2003-06-01"],
]
ADDED = ("ownership_cap", "exercisable_from", "holder_owns")


def test_rows_stored_without_the_added_fields_read_verify_and_report(tmp_path: Path) -> None:
    db = str(tmp_path / "old.db")
    for args in HISTORY:
        assert invoke("--db", db, *args).code == 0
    before = invoke("--db", db, "report", "summary", "--json").out
    # what an older finledger stored: the same rows without the added keys
    with sqlite3.connect(db) as con:
        for position, state in con.execute(
                "SELECT originator_version, state FROM stored_events").fetchall():
            row = json.loads(state)
            if any(key in row for key in ADDED):
                for key in ADDED:
                    row.pop(key, None)
                text = json.dumps(row, separators=(",", ":"), ensure_ascii=False)
                con.execute("UPDATE stored_events SET state = ? WHERE originator_version = ?",
                            (text.encode(), position))
        con.execute("DELETE FROM stored_snapshots")
    r = invoke("--db", db, "audit", "verify")
    assert r.code == 0, r.err
    with Ledger(db) as book:
        events = book.events()
    assert all(not set(ADDED) & set(event_data(e)) for e in events)
    assert events[0].ownership_cap is None  # type: ignore[attr-defined]
    assert invoke("--db", db, "report", "rebuild").code == 0
    assert invoke("--db", db, "report", "summary", "--json").out == before
    # and the ledger goes on recording
    assert invoke("--db", db, "record", "transfer", "Series D", "--from", "A", "--to", "B",
                  "--shares", "5", "--date", "2003-07-01").code == 0
    assert invoke("--db", db, "audit", "verify").code == 0


def test_an_encrypted_ledger_covers_the_new_events(tmp_path: Path) -> None:
    from ledger.service import new_key

    env = {"FINLEDGER_KEY": new_key()}
    db = str(tmp_path / "secret.db")
    for args in [*HISTORY,
                 ["record", "transfer", "Series D", "--from", "A", "--to", "B", "--shares", "5",
                  "--date", "2003-07-01"],
                 ["record", "warrant-transfer", "W", "--to", "B", "--shares", "5",
                  "--date", "2003-07-01"],
                 ["record", "redemption", "Series D", "--holder", "B", "--shares", "2",
                  "--date", "2003-07-02"]]:
        r = invoke("--db", db, *args, env=env)
        assert r.code == 0, r.err
    assert invoke("--db", db, "audit", "verify", env=env).code == 0
    holder = json.loads(invoke("--db", db, "report", "holder", "B", "--json", env=env).out)
    assert [lot["shares"] for lot in holder["preferred"]] == [3]
    with sqlite3.connect(db) as con:
        states = [state for (state,) in con.execute("SELECT state FROM stored_events")]
    assert len(states) == 8 and not any(b"new_lot" in state for state in states)  # ciphertext
    assert invoke("--db", db, "report", "holder", "B").code == 1  # no key: refused, no traceback
