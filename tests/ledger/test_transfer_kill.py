"""A 40,000-event import killed with SIGKILL at several moments leaves none or all of it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import invoke
from tests.paths import ROOT

EVENTS = 40_000


def history(count: int) -> Iterator[dict[str, Any]]:
    """A plain, valid mix in date order: closings, warrants, exercises, baselines."""
    start = date(2003, 1, 1)
    yield {"type": "SeriesDesignated", "effective_date": start.isoformat(), "data": {
        "series": "Series D", "stated_value": "10000", "conversion_price": "2.35",
        "dividend_rate": "8", "authorized": 10**9}}
    warrants: list[str] = []
    for i in range(1, count):
        on = (start + timedelta(days=i // 10)).isoformat()
        kind = i % 10
        if kind in (0, 1):
            shares = 1 + i % 7
            yield {"type": "ClosingCompleted", "effective_date": on, "data": {
                "ref": f"C{i}", "security": "Series D", "price_per_share": "10000",
                "allocations": [{"investor": f"Fund {i % 20}", "shares": shares,
                                 "gross": f"{shares * 10000}.00"}]}}
        elif kind in (2, 3, 4, 5):
            warrants.append(f"W{i}")
            yield {"type": "WarrantsIssued", "effective_date": on, "data": {
                "ref": f"W{i}", "holder": f"Fund {i % 20}", "shares": 1000,
                "exercise_price": "3.00", "expires": None, "label": "", "closing": None}}
        elif kind in (6, 7, 8):
            yield {"type": "WarrantsExercised", "effective_date": on, "data": {
                "warrant": warrants[-(kind - 5)], "shares": 100, "cashless": False,
                "market_price": None, "common_shares": 100, "proceeds": "300.00"}}
        else:
            yield {"type": "CommonOutstandingReported", "effective_date": on,
                   "data": {"shares": 3108100 + i}}


def stored(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        (count,) = con.execute("SELECT COUNT(*) FROM stored_events").fetchone()
    finally:
        con.close()
    return int(count)


def start_import(db: Path, source: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "--db", str(db), "import", str(source)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        cwd=ROOT,
    )


def kill(process: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the import if it is still running; True if it was killed."""
    if process.poll() is not None:
        return False
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return True


def assert_none_or_all(db: Path) -> int:
    count = stored(db)
    assert count in (0, EVENTS), count
    if count == 0:
        r = invoke("--db", str(db), "audit", "verify", "--json")
        assert r.code == 0, r.out
        assert json.loads(r.out)["events"] == 0
    return count


@pytest.mark.slow
def test_a_killed_import_leaves_none_or_all_of_it(tmp_path: Path) -> None:
    source = tmp_path / "history.jsonl"
    with source.open("w") as fh:
        fh.writelines(json.dumps(entry) + "\n" for entry in history(EVENTS))
    db = tmp_path / "ledger.db"
    assert invoke("--db", str(db), "init").code == 0

    killed = 0
    for delay in (0.3, 0.8, 1.6, 3.0):
        process = start_import(db, source)
        time.sleep(delay)
        killed += kill(process)
        if assert_none_or_all(db) == EVENTS:
            break
    assert killed >= 3, "the import finished before it could be killed"

    # Now while the one transaction is writing: SQLite spills its pages into the WAL.
    wal = Path(f"{db}-wal")
    process = start_import(db, source)
    baseline = wal.stat().st_size if wal.exists() else 0
    while process.poll() is None and (not wal.exists() or wal.stat().st_size < baseline + 2**20):
        time.sleep(0.01)
    killed_writing = kill(process)
    if assert_none_or_all(db) == 0:
        assert killed_writing
        process = start_import(db, source)
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
    assert stored(db) == EVENTS
    r = invoke("--db", str(db), "audit", "verify", "--json")
    assert r.code == 0, r.out[:2000]
    report = json.loads(r.out)
    assert report["ok"] is True and report["events"] == EVENTS
