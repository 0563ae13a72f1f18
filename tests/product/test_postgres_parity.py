"""The same history recorded on SQLite and on PostgreSQL gives the same answers, byte for byte.

Reports without --as-of read the read-model tables on both servers (an encrypted ledger has
none and replays); this is the test that the two agree, on a history with every kind of
event, a back-dated entry and a reversal, with and without a key, and over several ledgers of
one store, whose tables must hold the very same rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.service import new_key
from tests.conftest import Result, invoke
from tests.pg import fresh_ledger_url

HISTORY: list[list[str]] = [
    ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
     "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444",
     "--par-value", "0.001"],
    ["record", "closing", "Series D", "--date", "2003-05-08", "--ref", "D-1",
     "--investor", "SCO Capital Partners=200", "--investor", "SDS Merchant Fund=144",
     "--investor", "Xmark Funds=100", "--fees", "310800"],
    ["record", "warrants", "--holder", "SCO Capital Partners", "--shares", "944681",
     "--exercise-price", "3.00", "--date", "2003-05-08", "--expires", "2008-05-08",
     "--closing", "D-1", "--ref", "W-1"],
    ["record", "warrants", "--holder", "SDS Merchant Fund", "--shares", "944681",
     "--exercise-price", "3.50", "--date", "2003-05-08", "--expires", "2004-05-08",
     "--closing", "D-1", "--ref", "W-2"],
    ["record", "common-outstanding", "3108100", "--date", "2003-05-09"],
    ["record", "authorization", "Series D", "--shares", "156", "--date", "2003-05-14"],
    ["record", "closing", "Series D", "--date", "2003-05-14", "--ref", "D-2",
     "--investor", "ProMed Partners, L.P.=156"],
    ["record", "dividend", "Series D", "--through", "2003-06-30", "--date", "2003-07-01",
     "--form", "stock", "--price", "2.71"],
    ["record", "conversion", "Series D", "--holder", "Xmark Funds", "--shares", "40",
     "--date", "2003-08-15"],
    ["record", "exercise", "W-1", "--shares", "100000", "--date", "2003-09-02"],
    ["record", "exercise", "W-1", "--shares", "50000", "--date", "2003-09-03", "--cashless",
     "--market-price", "4.10"],
    # back-dated: recorded after September, effective in May
    ["record", "warrants", "--holder", "ProMed Partners, L.P.", "--shares", "331914",
     "--exercise-price", "3.00", "--date", "2003-05-14", "--closing", "D-2", "--ref", "W-3"],
    ["record", "closing", "common", "--date", "2003-10-01", "--price-per-share", "2.50",
     "--investor", "Late Investor=1000", "--ref", "C-1"],
    ["record", "reversal", "13", "--reason", "entered against the wrong ledger"],
]

READS: list[list[str]] = [
    ["report", "preferred", "--as-of", "2003-12-31", "--json"],
    ["report", "preferred", "--as-of", "2003-06-30", "--json"],
    ["report", "warrants", "--as-of", "2004-06-01", "--market-price", "4.10", "--json"],
    ["report", "capital", "--by", "quarter", "--json"],
    ["report", "capital", "--as-of", "2003-09-30", "--since", "2003-05-10", "--by", "month",
     "--json"],
    ["report", "summary", "--as-of", "2003-12-31", "--json"],
    ["report", "summary", "--as-recorded", "9", "--json"],
    ["report", "summary", "--json"],
    ["report", "preferred", "--as-of", "2003-12-31"],
    ["report", "warrants", "--as-of", "2003-05-14"],
    ["audit", "replay", "--json"],
]


def run_history(db: str, env: dict[str, str]) -> list[Result]:
    for args in HISTORY:
        r = invoke("--db", db, *args, env=env)
        assert r.code == 0, (args, r.err)
    return [invoke("--db", db, *args, env=env) for args in READS]


def log_without_clock(db: str, env: dict[str, str]) -> list[dict[str, Any]]:
    """`log --json` without what differs between two recordings (when, hence the hashes)."""
    entries = json.loads(invoke("--db", db, "log", "--json", env=env).out)
    for entry in entries:
        for clocked in ("recorded_at", "hash", "prev_hash"):
            entry.pop(clocked, None)
    return entries


@pytest.mark.postgres
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_sqlite_and_postgres_give_the_same_answers(tmp_path: Path, encrypted: bool) -> None:
    env = {"FINLEDGER_KEY": new_key()} if encrypted else {}
    sqlite_db = str(tmp_path / "ledger.db")
    with fresh_ledger_url() as pg_db:
        on_sqlite = run_history(sqlite_db, env)
        on_postgres = run_history(pg_db, env)
        assert [r.code for r in on_sqlite] == [0] * len(READS), [r.err for r in on_sqlite]
        for args, a, b in zip(READS, on_sqlite, on_postgres, strict=True):
            assert (b.code, b.out, b.err) == (a.code, a.out, a.err), args
        assert log_without_clock(pg_db, env) == log_without_clock(sqlite_db, env)
    summary = json.loads(on_sqlite[5].out)
    # the figures are real, not two equal empty answers
    assert summary["capital"]["gross"] == "6300000.00"  # 600 x 10,000 + 100,000 x 3.00
    assert summary["fully_diluted"]["common_outstanding"] > 3108100


# Reports without --as-of read the read-model tables, on PostgreSQL as on SQLite.
CURRENT_READS: list[list[str]] = [
    ["report", "preferred", "--json"],
    ["report", "warrants", "--json"],
    ["report", "capital", "--json"],
    ["report", "summary", "--json"],
    ["report", "dividends", "--json"],
    ["report", "summary"],
    ["report", "capital"],
]
LEDGER_NAMES = ("main", "issuer-b", "issuer-c")
# each ledger a different prefix of the history (issuer-b: the common closing not reversed)
LENGTHS = (len(HISTORY), len(HISTORY) - 1, len(HISTORY) - 4)


def _books(db: str, name: str) -> Any:
    from ledger.service import Ledger
    from projections import readmodel

    with Ledger(db, ledger=name) as book:
        model = readmodel._open(book)
        try:
            assert model.position() == book.head()[0] > 0  # the tables are at the head
            return model.load()
        finally:
            model.db.close()


@pytest.mark.postgres
def test_several_ledgers_read_from_their_tables_alike_on_both_servers(tmp_path: Path) -> None:
    sqlite_db = str(tmp_path / "ledgers.db")
    with fresh_ledger_url() as pg_db:
        answers: dict[str, list[Result]] = {}
        for db in (sqlite_db, pg_db):
            for name, length in zip(LEDGER_NAMES, LENGTHS, strict=True):
                for args in HISTORY[:length]:
                    r = invoke("--db", db, "--ledger", name, *args)
                    assert r.code == 0, (name, args, r.err)
            answers[db] = [invoke("--db", db, "--ledger", name, *args)
                           for name in LEDGER_NAMES for args in [*CURRENT_READS, *READS]]
        reads = [(name, args) for name in LEDGER_NAMES for args in [*CURRENT_READS, *READS]]
        for (name, args), a, b in zip(reads, answers[sqlite_db], answers[pg_db], strict=True):
            assert a.code == 0, (name, args, a.err)
            assert (b.code, b.out, b.err) == (a.code, a.out, a.err), (name, args)
        for name in LEDGER_NAMES:  # the very same rows in both stores' tables
            assert _books(pg_db, name) == _books(sqlite_db, name), name
        listed = json.loads(invoke("--db", pg_db, "ledgers", "--json").out)
        assert [(x["ledger"], x["events"]) for x in listed] == [
            ("issuer-b", LENGTHS[1]), ("issuer-c", LENGTHS[2]), ("main", LENGTHS[0])]
        assert invoke("--db", pg_db, "audit", "verify", "--all").code == 0
    figures = [json.loads(answers[sqlite_db][i * (len(CURRENT_READS) + len(READS)) + 3].out)
               for i in range(len(LEDGER_NAMES))]
    assert len({json.dumps(f, sort_keys=True) for f in figures}) == len(LEDGER_NAMES)  # apart
    assert figures[0]["capital"]["gross"] == "6300000.00"  # real figures
