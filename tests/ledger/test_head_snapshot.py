"""The snapshot fast path: the head state it loads always equals a full timeline fold."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from eventsourcing.utils import clear_topic_cache

from ledger import head_snapshot as head_module
from ledger.commands import (
    DeclareDividend,
    DesignateSeries,
    IssueWarrants,
    RecordClosing,
    RequestConversion,
)
from ledger.service import Ledger
from ledger.state import fold
from tests.paths import FIXTURES


def _designate(on: date) -> DesignateSeries:
    return DesignateSeries(
        effective_date=on, series="A", stated_value=Decimal("1000"),
        conversion_price=Decimal("2.50"), dividend_rate=Decimal("8"), authorized=100_000,
    )


def _assert_head_is_full_fold(book: Ledger) -> None:
    head = book._head()
    assert head is not None
    events = book.events()
    assert head.version == len(events)
    assert head.head_hash == events[-1].hash
    assert head.state == fold(events)


def test_head_from_snapshots_equals_full_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ledger.service.SNAPSHOT_INTERVAL", 5)
    book = Ledger(str(tmp_path / "l.db"), actor="t")
    start = date(2003, 1, 1)
    book.record(_designate(start))
    for i in range(12):
        on = start + timedelta(days=10 * i + 1)
        book.record(RecordClosing(effective_date=on, security="A", investors=(("H", 10), ("G", 5))))
        if i % 4 == 3:
            book.record(RequestConversion(effective_date=on, series="A", holder="H", shares=12))
            book.record(DeclareDividend(effective_date=on, series="A", through=on, form="cash"))
    _assert_head_is_full_fold(book)
    assert book.open().snapshots is not None
    assert list(book.open().snapshots.get(book.events()[0].originator_id))


def test_back_dated_event_and_reversal_fall_back_and_resnapshot(tmp_path: Path) -> None:
    book = Ledger(str(tmp_path / "l.db"), actor="t")
    book.record(_designate(date(2003, 1, 1)))
    book.record(RecordClosing(effective_date=date(2003, 3, 1), security="A", investors=(("H", 10),)))
    # Back-dated: only a full replay is exact; the result is snapshotted for the next one.
    book.record(RecordClosing(effective_date=date(2003, 2, 1), security="A", investors=(("H", 7),)))
    _assert_head_is_full_fold(book)
    book.record(IssueWarrants(effective_date=date(2003, 3, 2), holder="H", shares=5,
                              exercise_price=Decimal("3")))
    book.reverse(4, "entered by mistake")
    _assert_head_is_full_fold(book)
    conversion = book.record(
        RequestConversion(effective_date=date(2003, 4, 1), series="A", holder="H", shares=8)
    )
    # FIFO: the back-dated lot (2003-02-01) is the oldest and is converted first.
    assert [p.lot for p in conversion.lots] == ["CL-0003/H", "CL-0002/H"]
    _assert_head_is_full_fold(book)


def test_snapshot_of_another_state_version_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = Ledger(str(tmp_path / "l.db"), actor="t")
    book.record(_designate(date(2003, 1, 1)))
    book.record(RecordClosing(effective_date=date(2003, 2, 1), security="A", investors=(("H", 7),)))
    book.record(RecordClosing(effective_date=date(2003, 1, 15), security="A", investors=(("G", 7),)))
    monkeypatch.setattr(head_module, "STATE_VERSION", 99)
    assert book._head() is None  # the old snapshot is not trusted: full replay instead
    book.record(RecordClosing(effective_date=date(2003, 3, 1), security="A", investors=(("H", 1),)))
    assert fold(book.events()).series["A"].issued == 15


def test_packed_state_round_trips_exactly(tmp_path: Path) -> None:
    from ledger.head_snapshot import expand, pack

    book = Ledger(str(tmp_path / "l.db"), actor="t")
    book.record(_designate(date(2003, 1, 1)))
    book.record(RecordClosing(effective_date=date(2003, 2, 1), security="A", investors=(("H", 7),),
                              ref="C1"))
    book.record(IssueWarrants(effective_date=date(2003, 2, 2), holder="H", shares=5,
                              exercise_price=Decimal("3.125"), expires=date(2008, 2, 2), closing="C1"))
    book.record(IssueWarrants(effective_date=date(2003, 2, 3), holder="G", shares=9,
                              exercise_price=Decimal("2")))
    state = fold(book.events())
    assert expand(pack(state)) == state


def test_a_recording_far_from_any_snapshot_takes_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ledger.service.SNAPSHOT_INTERVAL", 10_000)
    book = Ledger(str(tmp_path / "l.db"), actor="t")
    book.record(_designate(date(2003, 1, 1)))
    for i in range(6):
        book.record(IssueWarrants(effective_date=date(2003, 1, 2 + i), holder="H", shares=1,
                                  exercise_price=Decimal("1")))
    snapshots = book.open().snapshots
    assert snapshots is not None
    # Only the first recording (a full replay of an empty ledger) took one.
    assert [s.originator_version for s in snapshots.get(book.events()[0].originator_id)] == [1]
    monkeypatch.setattr("ledger.service.SNAPSHOT_INTERVAL", 5)
    book.record(IssueWarrants(effective_date=date(2003, 2, 1), holder="H", shares=1,
                              exercise_price=Decimal("1")))
    taken = list(snapshots.get(book.events()[0].originator_id))
    assert [s.originator_version for s in taken] == [1, 8]
    head = book._head()
    assert head is not None and head.folded == 0


def test_snapshot_after_a_bulk_append(tmp_path: Path) -> None:
    book = Ledger(str(tmp_path / "l.db"), actor="t")
    book.record(_designate(date(2003, 1, 1)))
    book.record(DesignateSeries(
        effective_date=date(2003, 1, 2), series="B", stated_value=Decimal("1"),
        conversion_price=Decimal("1"), dividend_rate=Decimal("1"), authorized=1))
    book.snapshot()
    book.snapshot()  # twice at the same position is harmless
    head = book._head()
    assert head is not None and head.folded == 0 and head.version == 2


def test_a_loaded_state_reads_warrants_only_when_looked_up(tmp_path: Path) -> None:
    """A snapshot's warrants and closing references stay packed rows until a recording looks
    one up; folding on, copying and packing again give exactly what a full fold gives."""
    from ledger.commands import ExerciseWarrants
    from ledger.head_snapshot import expand, pack
    from ledger.state import Packed

    book = Ledger(str(tmp_path / "l.db"), actor="t")
    book.record(_designate(date(2003, 1, 1)))
    book.record(RecordClosing(effective_date=date(2003, 2, 1), security="A", investors=(("H", 7),),
                              ref="C1"))
    for i in range(5):
        book.record(IssueWarrants(effective_date=date(2003, 2, 2), holder="H", shares=100 + i,
                                  exercise_price=Decimal("3.125"), closing="C1", ref=f"W{i}"))
    loaded = expand(pack(fold(book.events())))
    assert isinstance(loaded.warrants, Packed)
    assert isinstance(loaded.closings, Packed)
    assert len(loaded.warrants) == 5
    assert loaded.warrants._objects == {}  # nothing read yet
    copy = loaded.copy()
    # An exercise reads its warrant only; the copy taken before is unaffected.
    event = book.record(ExerciseWarrants(effective_date=date(2003, 3, 1), warrant="W2", shares=40))
    loaded.apply(event)
    assert list(loaded.warrants._objects) == ["W2"]
    assert loaded.warrants["W2"].exercised == 40
    assert copy.warrants["W2"].exercised == 0
    assert loaded == fold(book.events())
    assert expand(pack(loaded)) == fold(book.events())
    assert "W4" in loaded.warrants and "W9" not in loaded.warrants
    assert "C1" in loaded.closings and loaded.ref_in_use("W0") and not loaded.ref_in_use("X")
    del loaded.warrants["W0"]
    assert sorted(loaded.warrants) == ["W1", "W2", "W3", "W4"]


@pytest.mark.parametrize("keys", [
    ["W-1", "W-2", "W-10"],
    ['odd "quoted", ref', "back\\slash", "new\nline", "tab\there", "ünïcode", "W-1", "W-1x"],
])
def test_packed_text_keeps_any_key_and_drops_stale_lines(keys: list[str]) -> None:
    """Keys that are prefixes of others, quotes, commas, backslashes, newlines: every lookup
    finds its own line only, and writing the text again leaves out what was read, replaced
    or deleted (read back, it equals the plain dict it stands for)."""
    from ledger.state import Packed

    plain = {key: date(2003, 1, 1) + timedelta(days=i) for i, key in enumerate(keys)}

    def read(row: list[object]) -> date:
        return date.fromisoformat(str(row[0]))

    def row_of(on: date) -> list[object]:
        return [on.isoformat()]

    text = "".join(Packed.line(k, row_of(v)) for k, v in plain.items())
    packed = Packed(text, read)
    assert dict(packed) == plain and len(packed) == len(plain)
    assert "W-" not in packed and "W-1" in Packed(text, read) and "missing" not in packed
    changed = Packed(text, read)
    changed[keys[0]] = date(2030, 1, 1)
    del changed[keys[-1]]
    assert changed[keys[1]] == plain[keys[1]]
    changed["new key"] = date(2031, 1, 1)
    expected = {**plain, keys[0]: date(2030, 1, 1), "new key": date(2031, 1, 1)}
    del expected[keys[-1]]
    assert dict(changed) == expected
    again = Packed(changed.text(row_of), read)
    assert dict(again) == expected and len(again) == len(expected)
    assert changed.text(row_of).count("\n") == len(expected)  # one line each, none stale
    with pytest.raises(KeyError):
        del again[keys[-1]]
    copy = again.copy()
    copy[keys[1]] = date(2040, 1, 1)
    assert again[keys[1]] == plain[keys[1]]


def test_a_back_dated_recording_streams_the_timeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A back-dated command (or one with no usable snapshot) folds the timeline read a page
    at a time, never the whole stream held as a list, and decides what a full fold decides."""
    book = Ledger(str(tmp_path / "l.db"), actor="t")
    book.record(_designate(date(2003, 1, 1)))
    for day in (10, 20, 30):
        book.record(RecordClosing(effective_date=date(2003, 1, day), security="A",
                                  investors=(("H", 10),)))

    def whole_stream(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the whole stream was read into memory")

    monkeypatch.setattr(Ledger, "events", whole_stream)
    event = book.record(RequestConversion(effective_date=date(2003, 1, 15), series="A",
                                          holder="H", shares=10))
    monkeypatch.undo()
    assert [p.lot for p in event.lots] == ["CL-0002/H"]  # as of 2003-01-15: one lot only
    _assert_head_is_full_fold(book)


# --- snapshots stored while this module was `ledger.head` ---------------------------------

@pytest.mark.parametrize("fixture", ["release-0.1.0.db", "format1.db"])
def test_a_snapshot_stored_by_older_code_under_ledger_head_still_loads(
    tmp_path: Path, fixture: str
) -> None:
    """The fixtures were made by older code: their snapshots name `ledger.head:HeadState`."""
    db = tmp_path / fixture
    shutil.copy(FIXTURES / fixture, db)
    book = Ledger(str(db), actor="t")
    app = book.open()
    assert app.snapshots is not None
    stored = list(app.snapshots.get(book.id))
    assert stored and {s.topic for s in stored} == {"ledger.head:HeadState"}
    clear_topic_cache()  # as in a new process
    # it resolves to HeadState and is judged by its state version (older than today's), not
    # refused as an unknown topic
    assert stored[-1].state["state_version"] < head_module.STATE_VERSION
    with pytest.raises(head_module.NeedsFullReplay, match="another state version"):
        head_module.project_head(None, [stored[-1]])


def test_a_current_snapshot_under_the_old_topic_is_decided_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rename the stored topic back to `ledger.head`: the head still comes from the snapshot."""
    monkeypatch.setattr("ledger.service.SNAPSHOT_INTERVAL", 2)
    db = tmp_path / "l.db"
    book = Ledger(str(db), actor="t")
    book.record(_designate(date(2003, 1, 1)))
    for i in range(4):
        book.record(IssueWarrants(effective_date=date(2003, 1, 2 + i),
                                  holder=f"h{i}", shares=10, exercise_price=Decimal("1")))
    with sqlite3.connect(db) as conn:
        changed = conn.execute(
            "UPDATE stored_snapshots SET state = CAST(replace(CAST(state AS TEXT), "
            "'\"ledger.head_snapshot:HeadState\"', '\"ledger.head:HeadState\"') AS BLOB)").rowcount
    assert changed > 0
    reopened = Ledger(str(db), actor="t")
    app = reopened.open()
    assert app.snapshots is not None
    assert {s.topic for s in app.snapshots.get(reopened.id)} == {"ledger.head:HeadState"}
    clear_topic_cache()
    head = reopened._head()
    assert head is not None and head.folded < len(reopened.events())
    _assert_head_is_full_fold(reopened)
