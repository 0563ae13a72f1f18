"""A damaged cache never decides, and a damaged ledger is not written on.

The snapshot is a cache of the state at the head: checked against the digest it carries
(of the state, position and head it claims), and rebuilt from the stream on any doubt. The
chain's recorded head must match the last stored event before anything is appended."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from tests.conftest import invoke

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]


def ok(db: str, *args: str) -> Any:
    r = invoke("--db", db, *args)
    assert r.code == 0, (args, r.err)
    return r


def execute(db: str, sql_sqlite: str, sql_postgres: str, table: str) -> int:
    """Run an UPDATE on the store, past finledger; returns the rows changed."""
    if db.startswith("postgresql"):
        from psycopg.sql import SQL, Identifier

        from ledger.location import Target
        from tests.pg import connect

        schema = Target.parse(db).schema
        with connect(db) as conn:  # the ledger's own table: `rm_meta` ends in "meta" too
            cursor = conn.execute(SQL(sql_postgres).format(Identifier(schema, f"finledger_{table}")))
            return cursor.rowcount
    conn = sqlite3.connect(db)
    with conn:
        changed = conn.execute(sql_sqlite.replace("{}", f"stored_{table}")).rowcount
    conn.close()
    return changed


def replace_in(db: str, table: str, old: str, new: str, where: str = "TRUE") -> None:
    changed = execute(
        db,
        f"UPDATE {{}} SET state = CAST(replace(CAST(state AS TEXT), '{old}', '{new}') AS BLOB)"
        f" WHERE instr(CAST(state AS TEXT), '{old}') > 0 AND {where}",
        f"UPDATE {{}} SET state = convert_to(replace(convert_from(state, 'UTF8'), '{old}', "
        f"'{new}'), 'UTF8') WHERE position('{old}' in convert_from(state, 'UTF8')) > 0 "
        f"AND {where}",
        table)
    assert changed >= 1


def log(db: str) -> list[dict[str, Any]]:
    return json.loads(ok(db, "log", "--json").out)  # type: ignore[no-any-return]


@pytest.mark.parametrize("authorized", ["494", "100444"])
def test_a_damaged_snapshot_never_decides(db: str, authorized: str) -> None:
    ok(db, *SERIES)  # the first recording snapshots the state after it
    replace_in(db, "snapshots", '"authorized":444', f'"authorized":{authorized}')
    r = invoke("--db", db, "record", "closing", "Series D", "--date", "2003-05-08",
               "--investor", "SCO Capital Partners=450")
    assert r.code == 1, r.out
    assert "only 444 of its 444 authorized shares remain" in r.err
    ok(db, "record", "closing", "Series D", "--date", "2003-05-08",
       "--investor", "SCO Capital Partners=444")
    assert ok(db, "audit", "verify").out.startswith("OK: 2 events")
    # Rebuilt from the stream, the next snapshot is sound again.
    r = invoke("--db", db, "record", "closing", "Series D", "--date", "2003-05-09",
               "--investor", "SDS Merchant Fund=1")
    assert r.code == 1 and "only 0 of its 444 authorized shares remain" in r.err


def test_a_snapshot_of_another_position_is_not_used(db: str) -> None:
    ok(db, *SERIES)
    execute(db, "UPDATE {} SET originator_version = 2",
            "UPDATE {} SET originator_version = 2", "snapshots")
    ok(db, "record", "closing", "Series D", "--date", "2003-05-08",
       "--investor", "SCO Capital Partners=400")
    assert [e["position"] for e in log(db)] == [1, 2]
    assert ok(db, "audit", "verify").out.startswith("OK: 2 events")


def _refused_on_a_damaged_head(db: str) -> None:
    before = invoke("--db", db, "log", "--json").out
    r = invoke("--db", db, "record", "closing", "Series D", "--date", "2003-05-08",
               "--investor", "SCO Capital Partners=10")
    assert r.code == 1, r.out
    assert r.err.startswith("Error: the ledger's recorded head") and r.err.count("\n") == 1
    assert "run `finledger audit verify`" in r.err
    assert invoke("--db", db, "log", "--json").out == before  # nothing appended


def test_record_refuses_a_head_hash_that_is_not_the_last_events(db: str) -> None:
    ok(db, *SERIES)
    ok(db, "record", "common-outstanding", "3108100", "--date", "2003-05-09")
    execute(db, "UPDATE finledger_meta SET value = '" + "ab" * 32 + "' WHERE key = 'head_hash'",
            "UPDATE {} SET value = '" + "ab" * 32 + "' WHERE key = 'head_hash'", "meta")
    _refused_on_a_damaged_head(db)


def test_record_refuses_a_last_event_changed_in_place(db: str) -> None:
    ok(db, *SERIES)
    ok(db, "record", "common-outstanding", "3108100", "--date", "2003-05-09")
    replace_in(db, "events", "3108100", "3108900")
    _refused_on_a_damaged_head(db)
    assert invoke("--db", db, "audit", "verify").code == 1


def test_record_refuses_an_event_after_the_snapshot_that_does_not_follow(db: str) -> None:
    ok(db, *SERIES)  # snapshotted at position 1
    ok(db, "record", "common-outstanding", "3108100", "--date", "2003-05-09")
    ok(db, "record", "common-outstanding", "3108200", "--date", "2003-05-10")
    first = log(db)[0]["hash"]
    replace_in(db, "events", f'"prev_hash":"{first}"', '"prev_hash":"' + "0" * 64 + '"',
               "originator_version = 2")
    r = invoke("--db", db, "record", "common-outstanding", "1", "--date", "2003-05-11")
    assert r.code == 1, r.out
    assert r.err.startswith("Error: the event at position 2 does not follow the one before it")
    assert "run `finledger audit verify`" in r.err and r.err.count("\n") == 1
    assert len(log(db)) == 3


def test_import_refuses_a_damaged_head(db: str, tmp_path: Any) -> None:
    ok(db, *SERIES)
    execute(db, "UPDATE finledger_meta SET value = '7' WHERE key = 'head_position'",
            "UPDATE {} SET value = '7' WHERE key = 'head_position'", "meta")
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"type": "CommonOutstandingReported",
                                "effective_date": "2003-05-09", "data": {"shares": 5}}) + "\n")
    r = invoke("--db", db, "import", str(path))
    assert r.code == 1 and "run `finledger audit verify`" in r.err, r.err


def _set_meta(db: str, key: str, value: str) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE rm_meta SET value = ? WHERE key = ?", [value, key])
    conn.close()


def _spectrum(path: str) -> None:
    ok(path, *SERIES)
    ok(path, "record", "closing", "Series D", "--date", "2003-05-08", "--investor",
       "SCO Capital Partners=250", "--investor", "SDS Merchant Fund=194")
    ok(path, "report", "summary")  # the tables are caught up


def test_verify_checks_the_read_models_latest_effective_date(tmp_path: Any) -> None:
    path = str(tmp_path / "l.db")
    _spectrum(path)
    accrued = json.loads(ok(path, "report", "summary", "--json").out)
    _set_meta(path, "latest_effective", "9999-12-30")
    r = invoke("--db", path, "audit", "verify")
    assert r.code == 1
    assert "rm_meta latest_effective is 9999-12-30 in the tables but 2003-05-08 by replay" \
        in r.out
    assert json.loads(ok(path, "report", "summary", "--json").out) != accrued  # (as stored)
    ok(path, "report", "rebuild")
    assert json.loads(ok(path, "report", "summary", "--json").out) == accrued


@pytest.mark.parametrize("key, value", [("latest_effective", "garbage"), ("position", "x")])
def test_unreadable_read_model_metadata_is_said_and_rebuilt(
    tmp_path: Any, key: str, value: str
) -> None:
    path = str(tmp_path / "l.db")
    _spectrum(path)
    expected = json.loads(ok(path, "report", "summary", "--json").out)
    _set_meta(path, key, value)
    verified = invoke("--db", path, "audit", "verify")
    assert verified.code == 1 and f"rm_meta {key} {value!r} is not a" in verified.out
    r = invoke("--db", path, "report", "summary", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out) == expected
    assert r.err.count("\n") == 1 and r.err.startswith("Note: the read-model tables cannot be read")
    assert "Traceback" not in r.err
    _set_meta(path, key, value)
    r = invoke("--db", path, "record", "common-outstanding", "3108100", "--date", "2003-05-09")
    assert r.code == 0 and "Traceback" not in r.err, r.err
    assert ok(path, "audit", "verify").out.startswith("OK: 3 events")
