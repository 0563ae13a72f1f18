"""Exit non-zero always means nothing was appended: a command whose event landed exits 0
even when a later step (the read model's catch-up, a snapshot) fails; the next command
retries that step, and `audit verify` shows the lag meanwhile."""

from __future__ import annotations

import json
from typing import Any

import pytest

SERIES = ["record", "series", "Series D", "--date", "2003-05-08", "--stated-value", "10000",
          "--conversion-price", "2.35", "--dividend-rate", "8", "--authorized", "444"]
CLOSING = ["record", "closing", "Series D", "--date", "2003-05-08",
           "--investor", "SCO Capital Partners=200"]


def count(fl: Any) -> int:
    return len(json.loads(fl("log", "--json").out))


def test_a_failed_catch_up_after_an_append_still_exits_0(
    fl: Any, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert fl(*SERIES).code == 0
    assert fl("report", "summary").code == 0  # the tables exist and are at the head
    from projections import readmodel

    real = readmodel.catch_up

    def broken(*args: Any, **kwargs: Any) -> bool:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(readmodel, "catch_up", broken)
    result = fl(*CLOSING)
    assert result.code == 0, result.err
    assert result.out.startswith("Recorded ClosingCompleted at position 2")
    assert result.err.startswith("Warning: recorded, but the reports' tables could not be "
                                 "brought up to date") and result.err.count("\n") == 1
    monkeypatch.setattr(readmodel, "catch_up", real)
    assert count(fl) == 2
    verify = fl("audit", "verify")
    assert verify.code == 0, verify.err
    if "://" not in db:  # a plain SQLite ledger keeps its books in tables
        assert "tables are at position 1 of 2" in verify.out
        assert json.loads(fl("audit", "verify", "--json").out)["read_model_position"] == 1
    # the next report catches the tables up, and reads the closing
    report = json.loads(fl("report", "preferred", "--json").out)
    assert report["totals"]["outstanding"] == 200
    assert "tables are at position" not in fl("audit", "verify").out
    assert "read_model_position" not in json.loads(fl("audit", "verify", "--json").out)


def test_a_failed_snapshot_after_an_append_still_exits_0(
    fl: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.service import Ledger

    def broken(self: Ledger, head: Any) -> None:
        raise RuntimeError("snapshot store unavailable")

    monkeypatch.setattr(Ledger, "_snapshot", broken)
    for args in (SERIES, CLOSING):
        result = fl(*args)
        assert result.code == 0, result.err
    monkeypatch.undo()
    assert count(fl) == 2
    assert fl("audit", "verify").code == 0
    assert fl("record", "conversion", "Series D", "--holder", "SCO Capital Partners",
              "--shares", "10", "--date", "2003-08-01").code == 0
