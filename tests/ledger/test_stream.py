"""Streaming the ledger gives exactly what reading it whole gives (plain, encrypted and on
PostgreSQL, with every event type and reversals).

- verify's chain check over the store, a page at a time, finds what `check_chain` over the
  whole stream finds, and hands on every event; where it cannot, verify reads it whole.
- The timeline streamed from the store (and re-ordered from recording order) is
  `ledger.state.timeline`, with back-dated events and tiny windows.
- The read-model check in bounded memory finds what comparing two whole `Books` finds.
- replay --json, export and report --as-of stream the same bytes and books.
"""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.books import books_as_of
from app.service import export_lines as streamed_export_lines
from cli.audit import write_json_array
from cli.console import print_json
from events import EventReversed, LedgerEvent
from ledger import audit, stream
from ledger.service import Ledger, new_key
from ledger.state import timeline
from ledger.store import LEDGER_ID
from ledger.transfer import export_lines
from projections import table_check, trail
from projections.books import replay
from tests.conftest import invoke
from tests.paths import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import itertools

from generate import write

EVENTS = 400


def _reversible(events: list[LedgerEvent]) -> list[int]:
    """A common-outstanding report and a warrant issue never exercised (nothing hangs on them)."""
    exercised = {getattr(e, "warrant", None) for e in events}
    baseline = [e.originator_version for e in events
                if type(e).__name__ == "CommonOutstandingReported"][-1]
    warrant = next(e.originator_version for e in events
               if type(e).__name__ == "WarrantsIssued" and e.ref not in exercised)  # type: ignore[attr-defined]
    return [baseline, warrant]


@pytest.fixture(params=["plain", "encrypted"])
def book(request: pytest.FixtureRequest, db: str, tmp_path: Path) -> Iterator[Ledger]:
    """An imported ledger of every event type, with two reversals appended."""
    key = new_key() if request.param == "encrypted" else None
    env = {"FINLEDGER_KEY": key} if key else None
    history = tmp_path / "history.jsonl"
    with history.open("w", encoding="utf-8") as fh:
        write(EVENTS, fh)
    r = invoke("--db", db, "import", str(history), env=env)
    assert r.code == 0, r.err
    with Ledger(db, key=key) as ledger:
        targets = _reversible(ledger.events())
    for position in targets:
        r = invoke("--db", db, "record", "reversal", str(position), "--reason", "test", env=env)
        assert r.code == 0, r.err
    with Ledger(db, key=key) as ledger:
        yield ledger


def _rows(ledger: Ledger) -> list[Any]:
    app = ledger.open()
    return [row for rows in stream.stored_batches(app.recorder, LEDGER_ID) for row in rows]


# --- the chain, streamed ---------------------------------------------------------------------


def test_when_the_stream_cannot_be_followed_verify_reads_it_whole_with_the_same_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.db"
    history = tmp_path / "h.jsonl"
    with history.open("w", encoding="utf-8") as fh:
        write(60, fh)
    assert invoke("--db", str(path), "import", str(history)).code == 0

    def refuse(event: LedgerEvent) -> None:
        raise stream.KeyMismatch("test")

    with Ledger(str(path)) as ledger:
        result = audit.check_store(ledger.open(), LEDGER_ID, ledger.meta(), sink=refuse)
    assert result.problems == [] and result.keys is None and not result.streamed
    streamed = invoke("--db", str(path), "audit", "verify", "--json")
    monkeypatch.setattr(stream.Reorder, "feed", lambda self, event: refuse(event))
    whole = invoke("--db", str(path), "audit", "verify", "--json")
    assert streamed.code == whole.code == 0
    assert streamed.out == whole.out
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE rm_capital SET gross = '1.00' WHERE rowid = 2")
    con.close()
    damaged = invoke("--db", str(path), "audit", "verify", "--json")
    monkeypatch.undo()
    assert damaged.code == 1
    assert invoke("--db", str(path), "audit", "verify", "--json").out == damaged.out


def test_verify_streams_and_finds_what_the_whole_stream_finds(
    book: Ledger, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = book.open()
    meta = book.meta()
    rows = audit.read_rows(app, LEDGER_ID)
    seen: list[LedgerEvent] = []
    result = audit.check_store(app, LEDGER_ID, meta, expect_head="0" * 64, sink=seen.append)
    whole = audit.verify(rows, meta, ledger_id=LEDGER_ID, expect_head="0" * 64)
    assert result.streamed and result.count == len(rows)
    assert [p.position for p in result.problems] == [p.position for p in whole.problems]
    assert result.problems == list(whole.problems)
    assert [repr(e) for e in seen] == [repr(e) for _, e in rows]
    assert result.keys is not None
    assert audit.check_history_keys(result.keys, book.stream().timeline(result.keys)) == \
        audit.check_history([e for _, e in rows])  # type: ignore[misc]

    def whole_stream(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("verify read the whole stream")

    monkeypatch.setattr(audit, "read_rows", whole_stream)
    r = invoke("--db", db, "audit", "verify",
               env={"FINLEDGER_KEY": book.key} if book.key else None)
    assert r.code == 0, r.out + r.err
    assert r.out.startswith(f"OK: {len(rows)} events")


# --- the timeline, streamed ------------------------------------------------------------------


@pytest.mark.parametrize("window,batch", [(3, 7), (50, 1000), (100_000, 5000)])
def test_the_streamed_timeline_is_the_timeline(
    book: Ledger, monkeypatch: pytest.MonkeyPatch, window: int, batch: int
) -> None:
    monkeypatch.setattr(stream, "WINDOW", window)
    monkeypatch.setattr(stream, "READ_BATCH", batch)
    events = book.events()
    source = book.stream()
    keys = source.keys()
    assert keys.count == len(events)
    back_dated = sum(1 for a, b in itertools.pairwise(events)
                     if b.effective_date < a.effective_date)
    assert back_dated > 0
    for upto in (None, 1, 57, len(events) - 1, len(events)):
        known = [e for e in events if upto is None or e.originator_version <= upto]
        expected = [e.originator_version for e in timeline(known)]
        assert [e.originator_version for e in source.timeline(keys, upto)] == expected
        handed: list[LedgerEvent] = []
        reorder = stream.Reorder(keys, source.at, handed.append, upto)
        for event in events:
            reorder.feed(event)
        reorder.finish()
        assert [e.originator_version for e in handed] == expected


def test_a_key_that_does_not_match_its_event_stops_the_stream(book: Ledger) -> None:
    source = book.stream()
    keys = source.keys()
    keys.ordinals[5] += 1
    with pytest.raises(stream.KeyMismatch):
        list(source.timeline(keys))
    reorder = stream.Reorder(keys, source.at, lambda e: None)
    with pytest.raises(stream.KeyMismatch):
        for event in book.events():
            reorder.feed(event)


# --- the read-model tables -------------------------------------------------------------------


@pytest.fixture
def tables(tmp_path: Path) -> Ledger:
    path = tmp_path / "ledger.db"
    history = tmp_path / "h.jsonl"
    with history.open("w", encoding="utf-8") as fh:
        write(300, fh)
    assert invoke("--db", str(path), "import", str(history)).code == 0
    with Ledger(str(path)) as ledger:
        target = _reversible(ledger.events())[1]
    assert invoke("--db", str(path), "record", "reversal", str(target), "--reason", "x").code == 0
    assert invoke("--db", str(path), "report", "summary").code == 0  # caught up
    return Ledger(str(path))


def _whole_comparison(book: Ledger, events: list[LedgerEvent]) -> list[audit.Problem]:
    """The reference: the tables loaded whole against a whole replay, as `Books`."""
    import sqlite3

    import sqlite_utils

    from projections import readmodel
    from projections.books import replay

    model = readmodel.ReadModel(sqlite_utils.Database(sqlite3.connect(book.target.path)))
    try:
        if not model.exists():
            return []
        position = model.position()
        if position > len(events):
            return [audit.Problem(position, f"the read-model tables claim position {position}, "
                                            f"but the ledger holds {len(events)} events")]
        stored, fresh = model.load(), replay(events[:position])
        kept_latest = model.latest_effective()
    except Exception as exc:
        return [audit.Problem(0, f"the read-model tables cannot be read: {exc}")]
    finally:
        model.db.close()
    problems: list[audit.Problem] = []
    latest = max((e.effective_date for e in events[:position]), default=None)
    if kept_latest != latest:
        problems.append(audit.Problem(position, f"rm_meta latest_effective is "
                                                f"{kept_latest or 'none'} in the tables but "
                                                f"{latest or 'none'} by replay"))
    for table, (attr, _, _) in readmodel.TABLES.items():
        problems.extend(audit.compare_rows(table, getattr(stored, attr), getattr(fresh, attr)))
    return problems


def _both(ledger: Ledger) -> tuple[list[audit.Problem], list[audit.Problem]]:
    events = ledger.events()
    return _whole_comparison(ledger, events), table_check.check_tables(ledger, events)


def _nth(table: str, n: int) -> str:
    """The rowid of a table's n-th row (rows are rewritten, so their rowids move)."""
    return f"(SELECT rowid FROM {table} ORDER BY rowid LIMIT 1 OFFSET {n - 1})"


DAMAGE = {
    "none": [],
    "edited": ["UPDATE rm_warrants SET exercised = exercised + 1 WHERE rowid = " + _nth("rm_warrants", 2),
               "UPDATE rm_capital SET gross = '1.00' WHERE rowid = " + _nth("rm_capital", 3)],
    "same value, other digits": ["UPDATE rm_capital SET gross = gross || '0' WHERE rowid = 1"],
    "deleted": ["DELETE FROM rm_lots WHERE rowid IN (" + _nth("rm_lots", 1) + ", " + _nth("rm_lots", 5) + ")"],
    "inserted": ["INSERT INTO rm_baselines (ledger, position, date, shares) VALUES ('main', "
                 "9999, '2001-01-01', 5)"],
    "key changed": ["UPDATE rm_series SET series = 'Series Z' WHERE rowid = " + _nth("rm_series", 1)],
    "unreadable": ["UPDATE rm_capital SET fees = 'abc' WHERE rowid = 2"],
    "table dropped": ["DROP TABLE rm_common_issues"],
    "column dropped": ["ALTER TABLE rm_baselines DROP COLUMN shares"],
    "totals": ["UPDATE rm_totals SET common_issued = common_issued - 1"],
    "behind": ["UPDATE rm_meta SET value = '250' WHERE key = 'position'"],
    "ahead": ["UPDATE rm_meta SET value = '99999' WHERE key = 'position'"],
    "old layout": ["UPDATE rm_meta SET value = '1' WHERE key = 'schema'"],
}


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("spill", [3, 50_000])
def test_the_bounded_table_check_finds_what_the_whole_one_finds(
    tables: Ledger, monkeypatch: pytest.MonkeyPatch, damage: str, spill: int
) -> None:
    monkeypatch.setattr(table_check, "SPILL_LIMIT", spill)
    con = sqlite3.connect(tables.target.path)
    with con:
        for statement in DAMAGE[damage]:
            con.execute(statement)
    con.close()
    whole, bounded = _both(tables)
    assert bounded == whole
    if damage == "none":
        assert whole == []
    elif damage not in ("same value, other digits", "old layout"):
        assert whole


def test_verify_reports_table_damage_in_the_same_words(tables: Ledger) -> None:
    path = tables.target.path
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE rm_warrants SET exercised = exercised + 1 WHERE rowid = " + _nth("rm_warrants", 2))
        con.execute("DELETE FROM rm_capital WHERE rowid = " + _nth("rm_capital", 4))
    con.close()
    whole, _ = _both(tables)
    r = invoke("--db", path, "audit", "verify", "--json")
    assert r.code == 1
    assert json.loads(r.out)["problems"] == [
        {"position": p.position, "problem": p.problem}
        for p in sorted(whole, key=lambda p: p.position)]


# --- replay, export, as-of -------------------------------------------------------------------


@pytest.mark.parametrize("items", [[], [{"a": 1}], [{"a": [1, {"b": "é"}]}, {"c": None}, 3]])
def test_the_json_array_is_written_as_print_json_writes_it(items: list[Any]) -> None:
    whole, streamed = io.StringIO(), io.StringIO()
    with redirect_stdout(whole):
        print_json(items)
    with redirect_stdout(streamed):
        write_json_array(iter(items))
    assert streamed.getvalue() == whole.getvalue()


def test_replay_export_and_as_of_stream_what_the_whole_stream_gives(book: Ledger) -> None:
    events = book.events()
    source = book.stream()
    keys = source.keys()
    for upto in (None, 100, len(events)):
        for until in (None, date(2001, 6, 30)):
            if upto is not None and until is not None:
                continue
            whole = trail.replay_steps(events, until=until, to_position=upto)
            streamed = list(trail.iter_steps(source.timeline(keys, upto), until=until))
            assert [s.as_json() for s in streamed] == [s.as_json() for s in whole]
    lines, counted = streamed_export_lines(book)
    assert list(lines) == list(export_lines(events))
    assert counted() == len(events)
    middle = events[len(events) // 2].effective_date
    for as_of, as_recorded in ((middle, None), (None, 120), (middle, 300), (None, len(events))):
        books, on = books_as_of(book, as_of, as_recorded)
        known = events if as_recorded is None else events[:as_recorded]
        expected_on = as_of or max(e.effective_date for e in known)
        if as_of is None:
            assert on >= expected_on
        else:
            assert on == as_of
        assert books == replay(known, on)


def test_a_stream_with_a_gap_is_read_whole_by_the_read_commands(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    history = tmp_path / "h.jsonl"
    with history.open("w", encoding="utf-8") as fh:
        write(40, fh)
    assert invoke("--db", str(path), "import", str(history)).code == 0
    con = sqlite3.connect(path)
    with con:
        con.execute("DELETE FROM stored_events WHERE originator_version = 20")
    con.close()
    with Ledger(str(path)) as ledger:
        with pytest.raises(stream.KeyMismatch):
            ledger.stream().keys()
        events = ledger.events()
    r = invoke("--db", str(path), "export")
    assert r.code == 0 and r.out == "".join(export_lines(events))
    r = invoke("--db", str(path), "audit", "replay", "--json")
    assert r.code == 0
    assert json.loads(r.out) == [s.as_json() for s in trail.replay_steps(events)]
    r = invoke("--db", str(path), "audit", "verify")
    assert r.code == 1 and "position 20: is missing" in r.out


def test_a_reversal_known_only_later_is_not_applied_as_recorded_before(book: Ledger) -> None:
    events = book.events()
    reversal = next(e for e in events if isinstance(e, EventReversed))
    before = reversal.originator_version - 1
    books, on = books_as_of(book, None, before)
    assert books == replay(events[:before], on)
    assert replace(reversal, reason="x") != reversal  # the fixture holds a real reversal


@pytest.mark.parametrize("damage", ["none", "edited", "deleted", "behind"])
def test_the_tables_checked_in_a_second_process_read_the_same(
    tables: Ledger, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    import app.verify

    path = tables.target.path
    con = sqlite3.connect(path)
    with con:
        for statement in DAMAGE[damage]:
            con.execute(statement)
    con.close()
    from concurrent.futures import ProcessPoolExecutor

    one = invoke("--db", path, "audit", "verify", "--json")
    monkeypatch.setattr(app.verify, "PARALLEL_FROM", 0)
    submitted: list[Any] = []
    submit = ProcessPoolExecutor.submit

    def spy(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        submitted.append(fn)
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", spy)
    two = invoke("--db", path, "audit", "verify", "--json")
    assert submitted == [table_check.check_tables_apart]
    assert (two.code, two.out) == (one.code, one.out)
    assert (one.code == 0) == (damage == "none")
