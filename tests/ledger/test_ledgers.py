"""Many ledgers in one store (`--ledger NAME`), on SQLite and PostgreSQL: each its own stream,
chain, head, read model and reports; `ledgers` lists them; `audit verify --all` checks each.
A store written before ledgers had names opens unchanged as ledger `main`."""

from __future__ import annotations

import json
import multiprocessing
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from events import WarrantsIssued
from ledger.chain import GENESIS_HASH, event_hash
from ledger.commands import IssueWarrants
from ledger.service import Ledger
from tests.conftest import Result, invoke
from tests.paths import FIXTURES


def fl(db: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return invoke("--db", db, *args, env=env)


def test_two_ledgers_keep_apart_streams_heads_and_reports(db: str) -> None:
    assert fl(db, "record", "common-outstanding", "100", "--date", "2003-01-01").code == 0
    assert fl(db, "--ledger", "acme", "record", "common-outstanding", "200", "--date",
              "2003-01-02").code == 0
    done = fl(db, "record", "common-outstanding", "300", "--date", "2003-01-03",
              env={"FINLEDGER_LEDGER": "acme"})
    assert done.code == 0
    assert "position 2" in done.out  # acme's own positions: 1, 2
    main = json.loads(fl(db, "report", "summary", "--json").out)
    acme = json.loads(fl(db, "--ledger", "acme", "report", "summary", "--json").out)
    assert main["fully_diluted"]["common_outstanding"] == 100
    assert acme["fully_diluted"]["common_outstanding"] == 300
    listed = json.loads(fl(db, "ledgers", "--json").out)
    assert [(row["ledger"], row["events"]) for row in listed] == [("acme", 2), ("main", 1)]
    verified = json.loads(fl(db, "--ledger", "acme", "audit", "verify", "--json").out)
    assert verified["ok"] and verified["events"] == 2
    assert listed[0]["head_hash"] == verified["head_hash"]
    every = fl(db, "audit", "verify", "--all", "--json")
    assert every.code == 0
    found = json.loads(every.out)
    assert found["ok"] and [(x["ledger"], x["events"]) for x in found["ledgers"]] == [
        ("acme", 2), ("main", 1)]
    log = json.loads(fl(db, "--ledger", "acme", "log", "--json").out)
    assert [e["data"]["shares"] for e in log] == [200, 300]


def test_a_rebuild_of_one_ledger_leaves_the_others_rows(db: str) -> None:
    for name, shares in (("main", "100"), ("acme", "200")):
        assert fl(db, "--ledger", name, "record", "common-outstanding", shares, "--date",
                  "2003-01-01").code == 0
    rebuilt = fl(db, "--ledger", "acme", "report", "rebuild")
    assert rebuilt.out.strip() == "Read model rebuilt: 1 events applied"
    main = json.loads(fl(db, "report", "summary", "--json").out)
    assert main["fully_diluted"]["common_outstanding"] == 100
    assert fl(db, "audit", "verify", "--all").code == 0


def test_a_ledger_name_not_in_the_store_is_refused_for_reading(db: str) -> None:
    assert fl(db, "record", "common-outstanding", "100", "--date", "2003-01-01").code == 0
    missing = fl(db, "--ledger", "acme", "report", "summary")
    assert missing.code == 1
    assert missing.err.startswith("Error: there is no ledger 'acme'")
    assert "finledger ledgers" in missing.err
    assert fl(db, "--ledger", "acme", "init").code == 0  # listed, empty
    assert [r["ledger"] for r in json.loads(fl(db, "ledgers", "--json").out)] == ["acme", "main"]


@pytest.mark.parametrize("name", ["", "Acme", "a b", "-x", "a/b", "x" * 64, "é"])
def test_a_malformed_ledger_name_is_one_error_line_and_exit_2(tmp_path: Path, name: str) -> None:
    done = invoke("--db", str(tmp_path / "l.db"), "--ledger", name, "record",
                  "common-outstanding", "1", "--date", "2003-01-01")
    assert done.code == 2
    assert done.err.count("\n") == 1 and done.err.startswith("Error: ")
    assert "ledger" in done.err
    assert not (tmp_path / "l.db").exists()


def kept(old: Any, new: Any) -> bool:
    """Every value the old output had is in the new one, unchanged (new keys may be added)."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(k in new and kept(v, new[k]) for k, v in old.items())
    if isinstance(old, list):
        return isinstance(new, list) and len(old) == len(new) and all(
            kept(a, b) for a, b in zip(old, new, strict=True))
    return bool(old == new)


def test_a_store_written_by_release_0_1_0_opens_as_main_and_reports_identically(
    tmp_path: Path,
) -> None:
    """The fixture was made by finledger before --ledger existed, with its outputs then."""
    db = str(tmp_path / "old.db")
    shutil.copy(FIXTURES / "release-0.1.0.db", db)
    expected = json.loads((FIXTURES / "release-0.1.0.outputs.json").read_text())
    for case in expected:
        got = fl(db, *case["args"])
        assert got.code == 0, (case["args"], got.err)
        if "--json" in case["args"]:  # later releases may add keys (CLI.md), never change one
            assert kept(json.loads(case["stdout"]), json.loads(got.out)), case["args"]
        else:
            assert got.out == case["stdout"], case["args"]
    listed = json.loads(fl(db, "ledgers", "--json").out)
    verified = json.loads(fl(db, "audit", "verify", "--json").out)
    assert listed == [{"ledger": "main", "events": 9, "head_position": 9,
                       "head_hash": verified["head_hash"]}]
    # the current summary (its tables rebuilt in the new layout) equals a replay's
    current = json.loads(fl(db, "report", "summary", "--json").out)
    replayed = json.loads(fl(db, "report", "summary", "--as-recorded", "9", "--json").out)
    assert current == replayed
    # and it takes a new ledger beside main, leaving main as it was
    assert fl(db, "--ledger", "acme", "record", "common-outstanding", "5", "--date",
              "2003-01-01").code == 0
    assert fl(db, "audit", "verify", "--json").out == expected[6]["stdout"]


# --- many writers over several ledgers --------------------------------------------------

PROCESSES = 16
EVENTS_EACH = 20
LEDGERS = 4


def writer(target: str, worker: int, barrier: Any) -> None:
    """One process: wait for the others, then record into its ledger as fast as it can."""
    with Ledger(target, actor=f"writer-{worker}", create=True,
                ledger=f"issuer-{worker % LEDGERS}") as book:
        if book.target.kind == "postgres":
            from projections.readmodel import follower

            book.follow = follower(book)
        barrier.wait(timeout=120)
        for n in range(EVENTS_EACH):
            book.record(IssueWarrants(
                effective_date=date(2003, 5, 8), holder=f"Holder {worker}", shares=1000 + n,
                exercise_price=Decimal("3.00"), ref=f"W-{worker}-{n}"))


def run_writers(target: str) -> None:
    Ledger(target, create=True).init()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    workers = [ctx.Process(target=writer, args=(target, w, barrier)) for w in range(PROCESSES)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=600)
    assert [p.exitcode for p in workers] == [0] * PROCESSES


@pytest.mark.slow
def test_sixteen_processes_over_four_ledgers_all_320_land_once(db: str) -> None:
    run_writers(db)
    total = 0
    for index in range(LEDGERS):
        name = f"issuer-{index}"
        with Ledger(db, ledger=name) as book:
            events = book.events()
            head = book.head()
        refs = [e.ref for e in events if isinstance(e, WarrantsIssued)]
        expected = {f"W-{w}-{n}" for w in range(index, PROCESSES, LEDGERS)
                    for n in range(EVENTS_EACH)}
        assert len(refs) == len(expected) and set(refs) == expected  # once each
        assert [e.originator_version for e in events] == list(range(1, len(refs) + 1))
        previous = GENESIS_HASH
        for event in events:
            assert event.prev_hash == previous and event.hash == event_hash(event, previous)
            previous = event.hash
        assert head == (len(events), previous)
        verified = fl(db, "--ledger", name, "audit", "verify", "--json")
        assert verified.code == 0, verified.out
        summary = json.loads(fl(db, "--ledger", name, "report", "summary", "--json").out)
        assert summary["warrants"]["outstanding"] == sum(
            1000 + n for _ in range(PROCESSES // LEDGERS) for n in range(EVENTS_EACH))
        total += len(refs)
    assert total == PROCESSES * EVENTS_EACH
    assert fl(db, "audit", "verify", "--all").code == 0
