"""Proving the ledger: the hash chain checked from the first event, and the replay trail.

`check_chain` is pure: it takes the stored rows (each decoded to an event, or the reason it
could not be), the head the store recorded, and returns every problem found with its position.
It never raises on damaged data: an edited, inserted, deleted or reordered event is a
`Problem`, not an exception. `read_rows` is the only part that touches the store.

`replay_steps` is the auditor's trail: the timeline folded one event at a time, with the
running totals after each (capital raised, preferred outstanding, warrant overhang).
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from events import (
    COMMON,
    EVENT_TYPES,
    ClosingCompleted,
    ConversionRequested,
    EventReversed,
    LedgerEvent,
    WarrantsExercised,
    WarrantsIssued,
)
from events.codec import field_names
from ledger.bulk import paused_gc
from ledger.chain import GENESIS_HASH, event_hash
from ledger.errors import InvariantViolation
from ledger.state import LedgerState, timeline

Progress = Callable[[int, int], None]
"""Called as (done, total) while a long check runs."""

KNOWN_TOPICS = frozenset(f"{cls.__module__}:{cls.__name__}" for cls in EVENT_TYPES)


@dataclass(frozen=True)
class Problem:
    position: int
    problem: str


@dataclass(frozen=True)
class Verification:
    """What `audit verify` found: how many events, the head, and every problem."""

    events: int
    head_position: int
    head_hash: str
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


Row = tuple[int, LedgerEvent | str]
"""A stored row: its version (position) and the event decoded from it, or why it could not be."""


# --- the chain -------------------------------------------------------------------------------


def _hash_of(event: LedgerEvent, prev_hash: str) -> str | None:
    """The hash the event's content implies, or None if the content is too damaged to hash."""
    try:
        return event_hash(event, prev_hash)
    except Exception:  # damaged data may break anything; verify reports, it never crashes
        return None


def _original_position(event: LedgerEvent, hash_positions: dict[str, int]) -> int | None:
    """Where an event that fails its hash was first recorded, if it was moved intact."""
    before = 0 if event.prev_hash == GENESIS_HASH else hash_positions.get(event.prev_hash)
    if before is None:
        return None
    candidate = before + 1
    if candidate == event.originator_version:
        return None
    moved = dataclasses.replace(event, originator_version=candidate)
    return candidate if _hash_of(moved, event.prev_hash) == event.hash else None


def _hash_positions(rows: Sequence[Row]) -> dict[str, int]:
    return {
        e.hash: version
        for version, e in rows
        if isinstance(e, LedgerEvent) and isinstance(getattr(e, "hash", None), str)
    }


def check_chain(
    rows: Sequence[Row],
    head: tuple[str | None, str | None],
    *,
    ledger_id: Any = None,
    progress: Progress | None = None,
) -> list[Problem]:
    """Every break in the chain: rows in version order, `head` as stored (position, hash)."""
    problems: list[Problem] = []
    hash_positions: dict[str, int] | None = None  # built on the first mismatch only
    expected = 1
    prev: str | None = GENESIS_HASH
    for index, (version, decoded) in enumerate(rows):
        if progress is not None and index % 1000 == 0:
            progress(index, len(rows))
        gap = version > expected
        if gap:
            also = "" if version == expected + 1 else f" (and so is every position to {version - 1})"
            problems.append(Problem(expected, f"is missing{also}: deleted from the stream "
                                              f"(the next stored event is {version})"))
        expected = version + 1
        if isinstance(decoded, str):
            problems.append(Problem(version, f"cannot be read ({decoded}): the stored bytes "
                                             "were changed"))
            prev = None
            continue
        event = decoded
        if ledger_id is not None and event.originator_id != ledger_id:
            problems.append(Problem(version, "belongs to another stream: inserted"))
        stored_hash = getattr(event, "hash", None)
        stored_prev = getattr(event, "prev_hash", None)
        if not isinstance(stored_hash, str) or not isinstance(stored_prev, str):
            problems.append(Problem(version, "has no hash: inserted or edited"))
            prev = None
            continue
        flagged = len(problems)
        if _hash_of(event, stored_prev) != stored_hash:
            if hash_positions is None:
                hash_positions = _hash_positions(rows)
            moved_from = _original_position(event, hash_positions)
            if moved_from is not None:
                problems.append(Problem(version, f"holds the event recorded at position "
                                                 f"{moved_from}: reordered"))
            else:
                problems.append(Problem(version, "its content does not match its hash: "
                                                 "edited (or inserted)"))
        elif prev is not None and stored_prev != prev and not gap:
            problems.append(Problem(version, f"does not follow position {version - 1} "
                                             "(its previous hash differs): an event before "
                                             "it was inserted, deleted or replaced"))
        # A row already reported explains the break after it; report it once, not twice.
        prev = stored_hash if len(problems) == flagged else None
    if progress is not None:
        progress(len(rows), len(rows))
    problems.extend(_check_head(rows, head))
    return problems


def _check_head(rows: Sequence[Row], head: tuple[str | None, str | None]) -> list[Problem]:
    raw_position, head_hash = head
    last_version = rows[-1][0] if rows else 0
    last = rows[-1][1] if rows else None
    last_hash = (getattr(last, "hash", None) if isinstance(last, LedgerEvent)
                 else GENESIS_HASH if not rows else None)
    if raw_position is None and head_hash is None:
        if rows:
            return [Problem(last_version, "the ledger records no head although it holds "
                                          "events: the head was deleted")]
        return []
    try:
        head_position = int(raw_position or "0")
    except ValueError:
        return [Problem(last_version, f"the recorded head position {raw_position!r} is not a "
                                      "number: the head was edited")]
    if head_position > last_version:
        return [Problem(last_version + 1, f"is missing: the ledger's head is at "
                                          f"{head_position} but the stream ends at "
                                          f"{last_version} (deleted)")]
    if head_position < last_version:
        return [Problem(head_position + 1, f"the stream continues past the ledger's head "
                                           f"({head_position}) to {last_version}: appended "
                                           "outside finledger")]
    if last_hash is not None and head_hash != last_hash:
        return [Problem(last_version, "the ledger's head hash does not match the last "
                                      "event: the head or the last event was replaced")]
    return []


def check_expected_head(rows: Sequence[Row], expected: str) -> list[Problem]:
    """The ledger must still end exactly where an auditor saw it end."""
    wanted = expected.strip().lower()
    hashes = [(v, getattr(e, "hash", None)) for v, e in rows if isinstance(e, LedgerEvent)]
    last_version = rows[-1][0] if rows else 0
    last_hash = hashes[-1][1] if hashes and hashes[-1][0] == last_version else None
    if not rows and wanted == GENESIS_HASH:
        return []
    if wanted == last_hash:
        return []
    for version, h in hashes:
        if h == wanted:
            return [Problem(version + 1, f"the expected head is position {version}, but "
                                         f"{last_version - version} event(s) were recorded "
                                         "after it")]
    return [Problem(last_version, "the expected head hash is nowhere in the chain: the "
                                  "history the auditor saw was rewritten")]


# --- the history -----------------------------------------------------------------------------


def check_history(events: Sequence[LedgerEvent]) -> list[Problem]:
    """Reversals well-formed and the whole timeline valid, as the ledger knows it now."""
    problems: list[Problem] = []
    by_position = {e.originator_version: e for e in events}
    seen: dict[int, int] = {}
    for event in events:
        if not isinstance(event, EventReversed):
            continue
        target = by_position.get(event.reversed_position)
        if target is None or event.reversed_position >= event.originator_version:
            problems.append(Problem(event.originator_version,
                                    f"reverses position {event.reversed_position}, which was "
                                    "not recorded before it"))
        elif isinstance(target, EventReversed):
            problems.append(Problem(event.originator_version, "reverses a reversal"))
        if event.reversed_position in seen:
            problems.append(Problem(event.originator_version,
                                    f"reverses position {event.reversed_position} again "
                                    f"(already reversed at {seen[event.reversed_position]})"))
        seen.setdefault(event.reversed_position, event.originator_version)
    try:
        LedgerState().apply_all(timeline(events))
    except InvariantViolation as exc:
        problems.append(Problem(exc.position or 0, f"the history breaks an invariant: {exc}"))
    except Exception as exc:  # a damaged but hash-consistent event must not crash verify
        problems.append(Problem(0, f"the history cannot be replayed: {exc!r}"))
    return problems


# --- the materialized projections ------------------------------------------------------------


def _show(value: Any) -> str:
    return str(value) if value is not None else "none"


def compare_rows(table: str, stored: Mapping[Any, Any], fresh: Mapping[Any, Any]) -> list[Problem]:
    """Rows of a materialized table against the same rows replayed fresh, key by key.

    A row's position is the event that created it (its `position` field)."""
    problems: list[Problem] = []
    for key in sorted(set(stored) | set(fresh), key=str):
        kept, replayed = stored.get(key), fresh.get(key)
        if kept == replayed:
            continue
        row = replayed if replayed is not None else kept
        position = getattr(row, "position", 0)
        if not isinstance(position, int):
            position = 0
        if kept is None:
            what = "is missing from the table"
        elif replayed is None:
            what = "is in the table but follows from no event"
        else:
            names = [f.name for f in dataclasses.fields(kept)
                     if getattr(kept, f.name) != getattr(replayed, f.name, None)]
            what = "differs: " + ", ".join(
                f"{name} is {_show(getattr(kept, name))} in the table but "
                f"{_show(getattr(replayed, name, None))} by replay" for name in names)
        problems.append(Problem(position, f"{table} row {key!r} {what}"))
    return problems


# --- the replay trail ------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """The running totals after one event of the timeline was applied."""

    event: LedgerEvent
    capital_gross: Decimal
    preferred_outstanding: int
    warrants_outstanding: int

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.event.originator_version,
            "effective_date": self.event.effective_date.isoformat(),
            "type": type(self.event).__name__,
            "capital_gross": str(self.capital_gross),
            "preferred_outstanding": self.preferred_outstanding,
            "warrants_outstanding": self.warrants_outstanding,
        }


@dataclass
class _Totals:
    capital_gross: Decimal = Decimal("0.00")
    preferred_outstanding: int = 0
    warrants: dict[str, int] = dataclasses.field(default_factory=dict)
    warrants_outstanding: int = 0
    expiries: list[tuple[date, str]] = dataclasses.field(default_factory=list)

    def expire_through(self, on: date) -> None:
        """Take out every warrant expired on `on` (the day after its expiry date)."""
        while self.expiries and self.expiries[0][0] < on:
            _, ref = heapq.heappop(self.expiries)
            self.warrants_outstanding -= self.warrants.pop(ref, 0)

    def apply(self, event: LedgerEvent) -> None:
        if isinstance(event, ClosingCompleted):
            self.capital_gross += event.gross
            if event.security != COMMON:
                self.preferred_outstanding += event.shares
        elif isinstance(event, ConversionRequested):
            self.preferred_outstanding -= event.shares
        elif isinstance(event, WarrantsIssued):
            self.warrants[event.ref] = event.shares
            self.warrants_outstanding += event.shares
            if event.expires is not None:
                heapq.heappush(self.expiries, (event.expires, event.ref))
        elif isinstance(event, WarrantsExercised):
            self.capital_gross += event.proceeds
            if event.warrant in self.warrants:
                self.warrants[event.warrant] -= event.shares
                self.warrants_outstanding -= event.shares


def replay_steps(
    events: Iterable[LedgerEvent],
    *,
    until: date | None = None,
    to_position: int | None = None,
) -> list[Step]:
    """One step per event of the timeline, with the running totals after it.

    `to_position` replays the ledger as recorded at that position (later events and later
    reversals not yet known); `until` stops at events effective on or before that date.
    Warrants count as outstanding until the day after their expiry, judged at each step's date.
    """
    known = [e for e in events if to_position is None or e.originator_version <= to_position]
    totals = _Totals()
    steps: list[Step] = []
    for event in timeline(known):
        if until is not None and event.effective_date > until:
            break
        totals.expire_through(event.effective_date)
        totals.apply(event)
        steps.append(Step(event, totals.capital_gross, totals.preferred_outstanding,
                          totals.warrants_outstanding))
    return steps


# --- reading the store -----------------------------------------------------------------------


def decode_row(mapper: Any, stored: Any) -> LedgerEvent | str:
    """The event in a stored row, or why it cannot be read (never raises)."""
    if stored.topic not in KNOWN_TOPICS:
        return f"unknown event topic {str(stored.topic)[:60]!r}"
    try:
        event = mapper.to_domain_event(stored)
    except Exception as exc:  # damaged bytes may fail in the cipher, zlib or JSON
        return type(exc).__name__
    if not isinstance(event, LedgerEvent):
        return f"not a ledger event ({type(event).__name__})"
    missing = [name for name in field_names(type(event)) if not hasattr(event, name)]
    if missing:
        return f"field {missing[0]!r} is missing"
    return event


READ_BATCH = 5000


def read_rows(app: Any, ledger_id: Any, progress: Progress | None = None) -> list[Row]:
    """Every stored row of the ledger's stream, decoded one by one, in version order.

    Rows are fetched in batches, each decoded and let go before the next, so the stored
    bytes of the whole stream are never held at once."""
    recorder = app.recorder
    last = recorder.select_events(ledger_id, desc=True, limit=1)
    total = last[0].originator_version if last else 0
    rows: list[Row] = []
    after: int | None = None
    with paused_gc():
        while True:
            batch = recorder.select_events(ledger_id, gt=after, limit=READ_BATCH)
            for row in batch:
                if progress is not None and len(rows) % 1000 == 0:
                    progress(len(rows), max(total, len(rows)))
                rows.append((row.originator_version, decode_row(app.mapper, row)))
            if len(batch) < READ_BATCH:
                break
            after = batch[-1].originator_version
    return rows


def verify(
    rows: Sequence[Row],
    meta: dict[str, str],
    *,
    ledger_id: Any = None,
    expect_head: str | None = None,
    progress: Progress | None = None,
) -> Verification:
    """Chain, head, expected head and (when the chain holds) the history itself."""
    with paused_gc():
        problems = check_chain(rows, (meta.get("head_position"), meta.get("head_hash")),
                               ledger_id=ledger_id, progress=progress)
    if expect_head is not None:
        problems.extend(check_expected_head(rows, expect_head))
    events = [e for _, e in rows if isinstance(e, LedgerEvent)]
    if not problems:
        with paused_gc():
            problems.extend(check_history(events))
    problems.sort(key=lambda p: p.position)
    raw_position = meta.get("head_position", "0")
    return Verification(
        events=len(rows),
        head_position=int(raw_position) if raw_position.isdigit() else -1,
        head_hash=meta.get("head_hash", GENESIS_HASH),
        problems=tuple(problems),
    )
