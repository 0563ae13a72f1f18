"""Encryption at rest: with FINLEDGER_KEY the stored events hold no name or amount in clear,
and a ledger refuses to open with no key, a wrong key or a malformed key, in one line.

Every test runs on both backends. What is "the stored bytes" differs: on SQLite the ledger
file with its -wal and -shm; on PostgreSQL every row of every table in the ledger's schema.
"""

from __future__ import annotations

import glob
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledger.commands import DesignateSeries, RecordClosing
from ledger.location import Target
from ledger.service import Ledger, new_key

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]
CLOSING = ["record", "closing", "Series D", "--date", "2003-05-08",
           "--investor", "SCO Capital Partners=200", "--investor", "SDS Merchant Fund=244"]
WARRANTS = ["record", "warrants", "--holder", "Xmark Funds", "--shares", "944681",
            "--exercise-price", "3.00", "--date", "2003-05-08"]
# What must never be readable without the key: investors, their amounts, the terms.
SECRETS = [b"SCO Capital Partners", b"SDS Merchant Fund", b"Xmark Funds", b"Series D",
           b"4440000", b"2000000", b"944681"]


def stored_bytes(db: str) -> bytes:
    """Everything the store holds for this ledger, as raw bytes."""
    target = Target.parse(db)
    if target.kind == "sqlite":
        return b"".join(open(path, "rb").read() for path in sorted(glob.glob(db + "*")))
    from psycopg.sql import SQL, Identifier

    from tests.pg import connect

    chunks: list[bytes] = []
    with connect(db) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (target.schema,),
        )]
        assert "finledger_events" in tables
        for table in tables:
            query = SQL("SELECT * FROM {}.{}").format(Identifier(target.schema),
                                                      Identifier(table))
            for row in conn.execute(query):
                for value in row:
                    chunks.append(bytes(value) if isinstance(value, bytes | memoryview)
                                  else str(value).encode())
    return b"\n".join(chunks)


def leaked(db: str) -> list[bytes]:
    data = stored_bytes(db)
    return [secret for secret in SECRETS if secret in data]


def record_all(fl: Any, env: dict[str, str]) -> None:
    for command in (SERIES, CLOSING, WARRANTS):
        r = fl(*command, env=env)
        assert r.code == 0, r.err


def test_plain_ledger_stores_names_in_clear(fl: Any, db: str) -> None:
    """The control: the scan below would see the names if they were there."""
    record_all(fl, {})
    assert leaked(db) == SECRETS


def test_encrypted_ledger_holds_no_name_or_amount_in_clear(fl: Any, db: str) -> None:
    key = {"FINLEDGER_KEY": new_key()}
    record_all(fl, key)
    # reading (reports, audit, log) must not leave a plaintext copy behind either
    assert fl("log", "--json", env=key).code == 0
    assert fl("audit", "verify", env=key).code == 0
    assert leaked(db) == []


def test_encrypted_ledger_reads_back_exactly(fl: Any) -> None:
    key = {"FINLEDGER_KEY": new_key()}
    record_all(fl, key)
    r = fl("log", "--json", env=key)
    assert r.code == 0, r.err
    log = json.loads(r.out)
    assert [e["type"] for e in log] == ["SeriesDesignated", "ClosingCompleted", "WarrantsIssued"]
    closing = log[1]["data"]
    assert [(a["investor"], a["shares"]) for a in closing["allocations"]] == [
        ("SCO Capital Partners", 200), ("SDS Merchant Fund", 244)]
    assert closing["gross"] == "4440000.00"


def test_hash_chain_and_audit_are_the_same_encrypted(fl: Any, db: str) -> None:
    key = {"FINLEDGER_KEY": new_key()}
    record_all(fl, key)
    r = fl("audit", "verify", "--json", env=key)
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["ok"] is True and report["events"] == 3 and report["problems"] == []
    with Ledger(db, key=key["FINLEDGER_KEY"]) as book:
        events = book.events()
        assert book.head() == (3, events[-1].hash)
        assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


def refused(r: Any, *words: str) -> None:
    assert r.code == 1, (r.out, r.err)
    assert r.out == ""
    assert r.err.startswith("Error: ") and r.err.count("\n") == 1, r.err
    assert "Traceback" not in r.err
    for word in words:
        assert word in r.err, r.err


def test_missing_key_is_refused_cleanly(fl: Any) -> None:
    record_all(fl, {"FINLEDGER_KEY": new_key()})
    refused(fl("log"), "encrypted", "FINLEDGER_KEY")
    refused(fl("record", "common-outstanding", "3108100", "--date", "2003-05-09"),
            "encrypted")


@pytest.mark.parametrize("command", [["log", "--json"], ["audit", "verify"],
                                     ["record", "common-outstanding", "5", "--date",
                                      "2003-05-09"]])
def test_wrong_key_is_refused_cleanly(fl: Any, db: str, command: list[str]) -> None:
    right = new_key()
    record_all(fl, {"FINLEDGER_KEY": right})
    r = fl(*command, env={"FINLEDGER_KEY": new_key()})
    refused(r, "FINLEDGER_KEY is not the key")
    assert right not in r.err
    # and nothing was written under the wrong key
    with Ledger(db, key=right) as book:
        assert len(book.events()) == 3


def test_wrong_key_on_an_empty_encrypted_ledger_writes_nothing(fl: Any, db: str) -> None:
    right = new_key()
    assert fl("init", env={"FINLEDGER_KEY": right}).code == 0
    refused(fl("record", "common-outstanding", "5", "--date", "2003-05-09",
               env={"FINLEDGER_KEY": new_key()}), "FINLEDGER_KEY is not the key")
    r = fl("record", "common-outstanding", "5", "--date", "2003-05-09",
           env={"FINLEDGER_KEY": right})
    assert r.code == 0, r.err


@pytest.mark.parametrize("bad", ["not-a-key", "c2hvcnQ="])
def test_malformed_key_is_refused_cleanly(fl: Any, bad: str) -> None:
    record_all(fl, {"FINLEDGER_KEY": new_key()})
    refused(fl("log", env={"FINLEDGER_KEY": bad}), "FINLEDGER_KEY", "keygen")


def test_key_on_a_plain_ledger_is_refused(fl: Any) -> None:
    record_all(fl, {})
    refused(fl("log", env={"FINLEDGER_KEY": new_key()}), "not encrypted")


def test_keygen_prints_a_fresh_usable_key(fl: Any, db: str) -> None:
    first, second = fl("keygen"), fl("keygen")
    assert first.code == 0 and second.code == 0
    key = first.out.strip()
    assert key != second.out.strip()
    with Ledger(db, key=key, create=True) as book:
        book.record(DesignateSeries(
            effective_date=date(2003, 5, 8), series="Series D", stated_value=Decimal("10000"),
            conversion_price=Decimal("2.35"), dividend_rate=Decimal("8"), authorized=444))
        book.record(RecordClosing(effective_date=date(2003, 5, 8), security="Series D",
                                  investors=(("ProMed Partners, L.P.", 10),)))
    assert b"ProMed" not in stored_bytes(db)
    assert json.loads(fl("log", "--json", env={"FINLEDGER_KEY": key}).out)[1]["data"][
        "allocations"][0]["investor"] == "ProMed Partners, L.P."
