"""The read model's indexes: the open-lot queries are served by the partial index of open lots
(not a scan of every lot ever issued), and a read model with the indexes of an earlier form is
brought up to date in place by the next catch-up, its rows kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from app.service import Service
from ledger.sqltables import SQLiteTables
from projections import readmodel
from tests.conftest import invoke

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]


def _ledger(path: Path) -> str:
    db = str(path / "l.db")
    for args in (SERIES,
                 ["record", "closing", "Series D", "--date", "2003-05-08", "--investor",
                  "SCO Capital Partners=250", "--investor", "SDS Merchant Fund=194"],
                 ["record", "conversion", "Series D", "--holder", "SDS Merchant Fund",
                  "--shares", "194", "--date", "2003-06-01"]):
        r = invoke("--db", db, *args)
        assert r.code == 0, r.err
    assert invoke("--db", db, "report", "summary").code == 0  # the tables caught up
    return db


def test_the_open_lot_queries_use_the_open_lots_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = _ledger(tmp_path)
    seen: list[tuple[str, list[Any]]] = []
    execute = SQLiteTables.execute

    def recorded(self: SQLiteTables, sql: str, parameters: Sequence[Any] = ()) -> Any:
        if "FROM rm_lots" in sql or 'FROM "rm_lots"' in sql:
            seen.append((sql, list(parameters)))
        return execute(self, sql, parameters)

    monkeypatch.setattr(SQLiteTables, "execute", recorded)
    ledger = Service(db)
    assert ledger.summary() and ledger.preferred() and ledger.dividends()
    open_lots = [(sql, params) for sql, params in seen if readmodel.OPEN_LOTS in sql]
    assert len(open_lots) >= 3  # the summary's (a series at a time), preferred's, dividends'
    con = sqlite3.connect(db)
    try:
        for sql, params in open_lots:
            plan = " ".join(str(row[-1]) for row in con.execute(
                f"EXPLAIN QUERY PLAN {sql}", params))
            assert "rm_lots_outstanding" in plan, (sql, plan)
    finally:
        con.close()


def test_indexes_of_an_earlier_form_are_replaced_in_place(tmp_path: Path) -> None:
    db = _ledger(tmp_path)
    before = invoke("--db", db, "report", "preferred", "--json").out
    con = sqlite3.connect(db)
    with con:  # the read model as the previous release left it
        con.execute("DROP INDEX rm_lots_outstanding")
        con.execute("CREATE INDEX rm_lots_open ON rm_lots (ledger, series) "
                    "WHERE converted + redeemed + transferred < issued")
        con.execute("DELETE FROM rm_meta WHERE key = 'indexes'")
        (position,) = con.execute(
            "SELECT value FROM rm_meta WHERE ledger = 'main' AND key = 'position'").fetchone()
    con.close()
    r = invoke("--db", db, "record", "common-outstanding", "3108100", "--date", "2003-06-02")
    assert r.code == 0 and "rebuilding" not in r.err, r.err
    con = sqlite3.connect(db)
    try:
        names = {row[0] for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'rm_lots%'")}
        meta = dict(con.execute("SELECT key, value FROM rm_meta WHERE ledger IN ('', 'main')"))
    finally:
        con.close()
    assert "rm_lots_outstanding" in names and "rm_lots_open" not in names
    assert meta["indexes"] == readmodel.INDEX_FORM
    assert int(meta["position"]) == int(position) + 1  # caught up by one event, not rebuilt
    assert invoke("--db", db, "report", "preferred", "--json").out == before
    assert invoke("--db", db, "audit", "verify").code == 0
