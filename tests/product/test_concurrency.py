"""Many processes recording into one ledger at once: every event lands once, the chain holds.

Each writer races for the next position; the store's unique (ledger, position) key lets one
win and the service re-decides the others from the new head.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from events import WarrantsIssued
from ledger.chain import GENESIS_HASH, event_hash
from ledger.commands import IssueWarrants
from ledger.service import Ledger
from tests.paths import ROOT

PROCESSES = 8
EVENTS_EACH = 8


def writer(target: str, worker: int, barrier: Any) -> None:
    """One process: wait for the others, then record its warrants as fast as it can."""
    with Ledger(target, actor=f"writer-{worker}", create=True) as book:
        book.open()
        barrier.wait(timeout=60)
        for n in range(EVENTS_EACH):
            book.record(IssueWarrants(
                effective_date=date(2003, 5, 8), holder=f"Holder {worker}", shares=1000 + n,
                exercise_price=Decimal("3.00"), ref=f"W-{worker}-{n}",
            ))


def check_ledger(target: str, expected_refs: set[str]) -> None:
    with Ledger(target) as book:
        events = book.events()
        head = book.head()
    assert [e.originator_version for e in events] == list(range(1, len(expected_refs) + 1))
    refs = [e.ref for e in events if isinstance(e, WarrantsIssued)]
    assert len(refs) == len(expected_refs)
    assert set(refs) == expected_refs  # each exactly once: no loss, no duplicate
    previous = GENESIS_HASH
    for event in events:
        assert event.prev_hash == previous
        assert event.hash == event_hash(event, previous)
        previous = event.hash
    assert head == (len(events), previous)
    # each writer's own events keep the order it recorded them in
    for worker in range(PROCESSES):
        mine = [r for r in refs if r.startswith(f"W-{worker}-")]
        assert mine == [f"W-{worker}-{n}" for n in range(EVENTS_EACH)]


@pytest.mark.parametrize("precreated", [True, False], ids=["existing", "created-by-the-race"])
def test_eight_processes_record_sixty_four_events_at_once(
    tmp_path: Path, precreated: bool
) -> None:
    target = str(tmp_path / "race.db")
    if precreated:
        Ledger(target, create=True).init()
    # otherwise every writer may be the one that creates the store
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    workers = [ctx.Process(target=writer, args=(target, w, barrier)) for w in range(PROCESSES)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=300)
    assert [p.exitcode for p in workers] == [0] * PROCESSES
    check_ledger(
        target,
        {f"W-{w}-{n}" for w in range(PROCESSES) for n in range(EVENTS_EACH)},
    )


def test_eight_cli_processes_writing_at_once_all_succeed(tmp_path: Path) -> None:
    target = str(tmp_path / "cli.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINLEDGER_")}
    env["PYTHONPATH"] = str(ROOT)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cli", "--db", target, "record", "warrants",
             "--holder", f"Holder {w}", "--shares", "100", "--exercise-price", "3.50",
             "--date", "2003-05-14", "--ref", f"C-{w}"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for w in range(PROCESSES)
    ]
    results = [(p.wait(timeout=300), p.stdout.read() if p.stdout else "",
                p.stderr.read() if p.stderr else "") for p in procs]
    for code, out, err in results:
        assert code == 0, err
        assert out.startswith("Recorded WarrantsIssued at position ")
        assert err == ""
    positions = sorted(int(out.split("position ")[1].split()[0]) for _, out, _ in results)
    assert positions == list(range(1, PROCESSES + 1))
    with Ledger(target) as book:
        events = book.events()
    assert sorted(e.ref for e in events if isinstance(e, WarrantsIssued)) == [
        f"C-{w}" for w in range(PROCESSES)
    ]
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
