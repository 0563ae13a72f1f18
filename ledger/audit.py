"""Proving the ledger: the hash chain checked from the first event, and the replay trail.

`check_store` hashes each row's stored form as it was written, before any upcaster (the
ledger's chain rule, `ledger.chain`), so an event read through an upcaster still verifies
and an edited byte is named by its position.

`check_chain` is pure: it takes the stored rows (each decoded to an event, or the reason it
could not be), the head the store recorded, and returns every problem found with its position.
It never raises on damaged data: an edited, inserted, deleted or reordered event is a
`Problem`, not an exception. `read_rows` is the only part that touches the store.

`replay_steps` is the auditor's trail: the timeline folded one event at a time, with the
running totals after each (capital raised, preferred outstanding, warrant overhang).
"""

from __future__ import annotations

import dataclasses
import functools
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from events import (
    EVENT_TYPES,
    EventReversed,
    LedgerEvent,
)
from events.codec import field_names
from ledger.chain import (
    GENESIS_HASH,
    STORED_RULE,
    event_fields,
    fields_hash,
    rule_of,
    stored_fields,
)
from ledger.decision import READERS, Footprint, computed_with, prices_of, used_price
from ledger.errors import InvariantViolation, MalformedOption
from ledger.gc_pause import paused_gc
from ledger.state import LedgerState, describe, timeline
from ledger.stream import KeyMismatch, Keys, stored_batches

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


Fields = dict[str, Any]
"""A row's JSON form, with the hash and previous hash it states (`ledger.chain.stored_fields`)."""

Row = tuple[int, LedgerEvent | str]
"""A stored row: its version (position) and the event decoded from it, or why it could not be."""


# --- the chain -------------------------------------------------------------------------------


def _hash_of(fields: Fields, position: int, prev_hash: str, rule: int) -> str | None:
    """The hash the stored content implies, or None if it is too damaged to hash."""
    try:
        return fields_hash(fields, position, prev_hash, rule)
    except Exception:  # damaged data may break anything; verify reports, it never crashes
        return None


def _original_position(fields: Fields, version: int, hash_positions: dict[str, int],
                       rule: int) -> int | None:
    """Where a row that fails its hash was first recorded, if it was moved intact."""
    prev = fields.get("prev_hash")
    before = 0 if prev == GENESIS_HASH else hash_positions.get(prev) if isinstance(prev, str) \
        else None
    if before is None or not isinstance(prev, str):
        return None
    candidate = before + 1
    if candidate == version:
        return None
    return candidate if _hash_of(fields, candidate, prev, rule) == fields.get("hash") else None


def _hash_positions(rows: Sequence[Row]) -> dict[str, int]:
    return {
        e.hash: version
        for version, e in rows
        if isinstance(e, LedgerEvent) and isinstance(getattr(e, "hash", None), str)
    }


def _decoded_fields(event: LedgerEvent) -> Fields | None:
    """The JSON form of an event already decoded (rows handed in by a caller, not read from
    the store): what its stored form is when it was stored at its class's current version."""
    try:
        return {**event_fields(event), "hash": getattr(event, "hash", None),
                "prev_hash": getattr(event, "prev_hash", None)}
    except Exception:  # damaged data may break anything
        return None


def read_row(mapper: Any, stored: Any) -> tuple[LedgerEvent | str, Fields | None]:
    """A stored row's event (or why it cannot be read), and what the chain reads of it: its
    JSON form before any upcaster, with the hash and previous hash it states
    (`ledger.chain.stored_fields`; None if it cannot be read). Decoded once for both. Never
    raises."""
    if stored.topic not in KNOWN_TOPICS:
        return f"unknown event topic {str(stored.topic)[:60]!r}", None
    try:
        state = mapper.decode_state(stored)
    except Exception as exc:  # damaged bytes may fail in the cipher, zlib or JSON
        return type(exc).__name__, None
    try:
        fields: Fields | None = stored_fields(stored.topic, state)
    except Exception:  # damaged data may break anything
        fields = None
    try:
        event = mapper.event_from(stored, state)
    except Exception as exc:  # an upcaster or a class may refuse a damaged state
        return type(exc).__name__, fields
    return _complete(event), fields


Checked = LedgerEvent | str
"""A row as the chain check takes it: the decoded event, or why it could not be read."""


class ChainCheck:
    """`check_chain`, fed one row at a time in version order, so no row is held.

    A row whose content does not match its hash may have been moved intact from another
    position; where it came from is found by `finish`, from the positions of the few hashes
    those rows point back to (`lookup`), not from a map of every hash."""

    def __init__(self, ledger_id: Any = None, expect_head: str | None = None,
                 rule: int = STORED_RULE) -> None:
        self.ledger_id = ledger_id
        self.rule = rule
        self.problems: list[Problem] = []
        self.count = 0
        self.last_version = 0
        self.last_hash: str | None = GENESIS_HASH  # the hash of the last row, if it has one
        self.last_is_event = False
        self._expected = 1
        self._prev: str | None = GENESIS_HASH
        self._pending: list[tuple[int, int, Fields]] = []  # (index in problems, version, row)
        self._wanted = expect_head.strip().lower() if expect_head is not None else None
        self.wanted_at: int | None = None  # first position whose hash is the expected head
        self._wanted_also: int | None = None  # a second one (a prefix that is ambiguous)

    def feed(self, version: int, decoded: Checked, link: Fields | None = None) -> None:
        """One row: `decoded` as the store's mapper reads it, `link` what its stored form
        states and implies (`stored_link`; from `decoded` itself when not given)."""
        problems = self.problems
        self.count += 1
        self.last_version = version
        expected = self._expected
        gap = version > expected
        if gap:
            also = "" if version == expected + 1 else f" (and so is every position to {version - 1})"
            problems.append(Problem(expected, f"is missing{also}: deleted from the stream "
                                              f"(the next stored event is {version})"))
        self._expected = version + 1
        if isinstance(decoded, str):
            problems.append(Problem(version, f"cannot be read ({decoded}): the stored bytes "
                                             "were changed"))
            self._prev = None
            self.last_hash, self.last_is_event = None, False
            return
        self.last_is_event = True
        if self.ledger_id is not None and decoded.originator_id != self.ledger_id:
            problems.append(Problem(version, "belongs to another stream: inserted"))
        fields = link if link is not None else _decoded_fields(decoded)
        stored_hash = fields.get("hash") if fields is not None else None
        stored_prev = fields.get("prev_hash") if fields is not None else None
        self.last_hash = stored_hash
        if self._wanted is not None and head_matches(self._wanted, stored_hash):
            if self.wanted_at is None:
                self.wanted_at = version
            elif self._wanted_also is None:
                self._wanted_also = version
        if fields is None or not isinstance(stored_hash, str) or not isinstance(stored_prev, str):
            problems.append(Problem(version, "has no hash: inserted or edited"))
            self._prev = None
            return
        flagged = len(problems)
        if _hash_of(fields, version, stored_prev, self.rule) != stored_hash:
            self._pending.append((len(problems), version, fields))
            problems.append(Problem(version, ""))  # worded by `finish`
        elif self._prev is not None and stored_prev != self._prev and not gap:
            problems.append(Problem(version, f"does not follow position {version - 1} "
                                             "(its previous hash differs): an event before "
                                             "it was inserted, deleted or replaced"))
        # A row already reported explains the break after it; report it once, not twice.
        self._prev = stored_hash if len(problems) == flagged else None

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def needed_hashes(self) -> set[str]:
        """The hashes whose positions `finish` needs (those mismatched rows point back to)."""
        return {f["prev_hash"] for _, _, f in self._pending if f["prev_hash"] != GENESIS_HASH}

    def finish(self, hash_positions: Mapping[str, int]) -> None:
        for index, version, fields in self._pending:
            moved_from = _original_position(fields, version, dict(hash_positions), self.rule)
            if moved_from is not None:
                text = f"holds the event recorded at position {moved_from}: reordered"
            else:
                text = "its content does not match its hash: edited (or inserted)"
            self.problems[index] = Problem(version, text)
        self._pending = []

    def head_problems(self, head: tuple[str | None, str | None]) -> list[Problem]:
        last_hash = self.last_hash if self.last_is_event else (
            GENESIS_HASH if not self.count else None)
        return _head_problems(self.count, self.last_version, last_hash, head)

    def expected_head_problems(self) -> list[Problem]:
        """`check_expected_head`, from what was seen while feeding."""
        wanted = self._wanted or ""
        last_hash = self.last_hash if self.last_is_event else None
        if not self.count and head_matches(wanted, GENESIS_HASH):
            return []
        if self.wanted_at is not None and self._wanted_also is not None:
            raise _ambiguous(wanted, self.wanted_at, self._wanted_also)
        if head_matches(wanted, last_hash):
            return []
        if self.wanted_at is not None:
            return [_grew_after(self.wanted_at, self.last_version)]
        return [_rewritten(self.last_version)]


def check_chain(
    rows: Sequence[Row],
    head: tuple[str | None, str | None],
    *,
    ledger_id: Any = None,
    progress: Progress | None = None,
    rule: int = STORED_RULE,
) -> list[Problem]:
    """Every break in the chain: rows in version order, `head` as stored (position, hash).
    The rows are decoded already, so each is hashed in its JSON form (what it was stored as
    when it was stored at its class's current version); `check_store` reads the stored form."""
    check = ChainCheck(ledger_id, rule=rule)
    for index, (version, decoded) in enumerate(rows):
        if progress is not None and index % 1000 == 0:
            progress(index, len(rows))
        check.feed(version, decoded)
    if progress is not None:
        progress(len(rows), len(rows))
    if check.needed_hashes():
        check.finish(_hash_positions(rows))
    return [*check.problems, *_check_head(rows, head)]


def _check_head(rows: Sequence[Row], head: tuple[str | None, str | None]) -> list[Problem]:
    last_version = rows[-1][0] if rows else 0
    last = rows[-1][1] if rows else None
    last_hash = (getattr(last, "hash", None) if isinstance(last, LedgerEvent)
                 else GENESIS_HASH if not rows else None)
    return _head_problems(len(rows), last_version, last_hash, head)


def _head_problems(
    count: int, last_version: int, last_hash: Any, head: tuple[str | None, str | None]
) -> list[Problem]:
    raw_position, head_hash = head
    if raw_position is None and head_hash is None:
        if count:
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


MIN_HEAD_PREFIX = 8  # hex digits: a shorter prefix is too likely to match by chance


def parse_head(text: str) -> str:
    """An expected head as an auditor notes it: the whole hash or a prefix of at least
    MIN_HEAD_PREFIX hex digits (ValueError otherwise: a malformed option)."""
    wanted = text.strip().lower().rstrip(".").rstrip("\u2026")
    if not wanted or any(ch not in "0123456789abcdef" for ch in wanted):
        raise ValueError(f"{text!r} is not a head hash; give the hex digits `audit verify` "
                         "printed (the whole hash or its first 8 or more)")
    if len(wanted) < MIN_HEAD_PREFIX:
        raise ValueError(f"{text!r} is too short to name a head; give at least "
                         f"{MIN_HEAD_PREFIX} hex digits of it")
    if len(wanted) > len(GENESIS_HASH):
        raise ValueError(f"{text!r} is longer than a head hash ({len(GENESIS_HASH)} hex digits)")
    return wanted


def head_matches(wanted: str, stored: object) -> bool:
    """A stored hash is the expected head when the expected one is it or a prefix of it."""
    return bool(wanted) and isinstance(stored, str) and stored.startswith(wanted)


def _ambiguous(wanted: str, first: int, second: int) -> MalformedOption:
    return MalformedOption(f"--expect-head {wanted} is the start of the hashes at positions "
                           f"{first} and {second}; give more of its digits")


def check_expected_head(rows: Sequence[Row], expected: str) -> list[Problem]:
    """The ledger must still end exactly where an auditor saw it end."""
    wanted = expected.strip().lower()
    hashes = [(v, getattr(e, "hash", None)) for v, e in rows if isinstance(e, LedgerEvent)]
    last_version = rows[-1][0] if rows else 0
    last_hash = hashes[-1][1] if hashes and hashes[-1][0] == last_version else None
    if not rows and head_matches(wanted, GENESIS_HASH):
        return []
    matching = [v for v, h in hashes if head_matches(wanted, h)]
    if len(matching) > 1:
        raise _ambiguous(wanted, matching[0], matching[1])
    if head_matches(wanted, last_hash):
        return []
    for version, h in hashes:
        if head_matches(wanted, h):
            return [_grew_after(version, last_version)]
    return [_rewritten(last_version)]


def _grew_after(version: int, last_version: int) -> Problem:
    later = last_version - version
    events = "1 event was" if later == 1 else f"{later} events were"
    return Problem(version + 1, f"the expected head is position {version}, but {events} "
                                "recorded after it")


def _rewritten(last_version: int) -> Problem:
    return Problem(last_version, "the expected head hash is nowhere in the chain: the history "
                                 "the auditor saw was rewritten")


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
    dependencies = ReversalCheck()
    for event in events:
        dependencies.feed(event)
    problems.extend(dependencies.problems)
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


# --- reading the store -----------------------------------------------------------------------


def decode_row(mapper: Any, stored: Any) -> LedgerEvent | str:
    """The event in a stored row, or why it cannot be read (never raises)."""
    if stored.topic not in KNOWN_TOPICS:
        return f"unknown event topic {str(stored.topic)[:60]!r}"
    try:
        event = mapper.to_domain_event(stored)
    except Exception as exc:  # damaged bytes may fail in the cipher, zlib or JSON
        return type(exc).__name__
    return _complete(event)


def _complete(event: Any) -> LedgerEvent | str:
    """A decoded event, or why it is not a whole ledger event."""
    if not isinstance(event, LedgerEvent):
        return f"not a ledger event ({type(event).__name__})"
    names = field_names(type(event))
    if vars(event).keys() >= _name_set(names):
        return event  # every field is there (the common case, checked at once)
    missing = [name for name in names if not hasattr(event, name)]
    if missing:
        return f"field {missing[0]!r} is missing"
    return event


READ_BATCH = 5000


@functools.cache
def _name_set(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(names)


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


@dataclass
class ChainResult:
    """What the chain check over the store found, and what the history check needs next."""

    problems: list[Problem]
    count: int
    keys: Keys | None  # the timeline keys, when every event has plain ones (else None)
    streamed: bool = False  # every event was handed to the sink, in order


def _plain_key(event: LedgerEvent) -> tuple[int, int | None] | None:
    """The event's timeline key (its date's ordinal, what it reverses), if both are plain."""
    if type(event.effective_date) is not date:
        return None
    if isinstance(event, EventReversed):
        target = event.reversed_position
        return (event.effective_date.toordinal(), target) if type(target) is int else None
    return event.effective_date.toordinal(), None


def check_store(
    app: Any,
    ledger_id: Any,
    meta: Mapping[str, str],
    *,
    expect_head: str | None = None,
    progress: Progress | None = None,
    sink: Callable[[LedgerEvent], None] | None = None,
) -> ChainResult:
    """`check_chain` (and `check_expected_head`) over the stored rows, a page at a time:
    each row is decoded, checked and let go; only the timeline keys (a few bytes an event)
    are kept.

    `sink`, if given, is handed each event in recording order; should it raise, or an event
    have no plain timeline key, it is handed nothing more and `streamed` is False (the
    caller then checks the history over the whole stream, as before)."""
    recorder, mapper = app.recorder, app.mapper
    last = recorder.select_events(ledger_id, desc=True, limit=1)
    total = last[0].originator_version if last else 0
    check = ChainCheck(ledger_id, expect_head, rule_of(meta))
    keys: Keys | None = Keys.empty()
    with paused_gc():
        for rows in stored_batches(recorder, ledger_id):
            for row in rows:
                if progress is not None and check.count % 1000 == 0:
                    progress(check.count, max(total, check.count))
                version = row.originator_version
                read, link = read_row(mapper, row)
                check.feed(version, read, link)
                if keys is None:
                    continue
                key = _plain_key(read) if isinstance(read, LedgerEvent) else None
                try:
                    if key is None:
                        raise KeyMismatch(f"position {version} has no plain key")
                    keys.add(version, *key)
                    if sink is not None:
                        sink(read)  # type: ignore[arg-type]
                except Exception:  # the caller replays the history as before
                    keys, sink = None, None
        if progress is not None:
            progress(check.count, max(total, check.count))
        needed = check.needed_hashes()
        if needed or check.pending:
            positions: dict[str, int] = {}
            for rows in stored_batches(recorder, ledger_id):
                for row in rows:
                    link = read_row(mapper, row)[1]
                    found = link.get("hash") if link is not None else None
                    if isinstance(found, str) and found in needed:
                        positions[found] = row.originator_version
            check.finish(positions)
    problems = [*check.problems,
                *check.head_problems((meta.get("head_position"), meta.get("head_hash")))]
    if expect_head is not None:
        problems.extend(check.expected_head_problems())
    return ChainResult(problems, check.count, keys, streamed=sink is not None)


class ReversalCheck:
    """Every reversal against the reversal dependency rule (`ledger.decision.computed_with`)
    as the ledger stood when it was recorded, fed every event in recording order.

    Of each live event whose outcome reads earlier ones it keeps 8 bytes, its timeline key,
    grouped by what the rule reads besides the key (series, kind, holder): the rule holds
    for a group exactly when it holds for the group's latest event, so a reversal asks it
    of one event per group."""

    def __init__(self) -> None:
        # series -> (kind, holder) -> the packed keys of its live events, and their latest
        self.groups: dict[str, dict[tuple[type[LedgerEvent], str | None], array[int]]] = {}
        self.latest: dict[tuple[str, type[LedgerEvent], str | None], int] = {}
        # price (`Footprint.reads`) -> the packed keys of the live events computed with it
        self.price_readers: dict[str, array[int]] = {}
        self.problems: list[Problem] = []

    @staticmethod
    def _packed(mark: Footprint) -> int:
        return (mark.effective_date.toordinal() << 32) | mark.position

    def feed(self, event: LedgerEvent) -> None:
        if not isinstance(event, EventReversed):
            _, reads = prices_of(event)
            if reads:
                packed = self._packed(Footprint.of(event))
                for price in reads:
                    self.price_readers.setdefault(price, array("q")).append(packed)
            if type(event) in READERS:
                mark = Footprint.of(event)
                if mark.series is not None:
                    group = (mark.kind, mark.holder)
                    keys = self.groups.setdefault(mark.series, {}).setdefault(group, array("q"))
                    packed = self._packed(mark)
                    keys.append(packed)
                    top = (mark.series, *group)
                    self.latest[top] = max(self.latest.get(top, 0), packed)
            return
        target = event.reversed
        if not isinstance(target, LedgerEvent) or target.originator_version != \
                event.reversed_position:
            return  # ill-formed: `check_history` says so
        mark = Footprint.of(target)
        if self._price_used(mark, target, event):
            return
        groups = self.groups.get(mark.series or "", {})
        self._forget(mark, groups)
        for (kind, holder), keys in groups.items():
            if not keys:
                continue
            packed = self.latest[(mark.series or "", kind, holder)]
            later = Footprint(kind, mark.series, holder,
                              date.fromordinal(packed >> 32), packed & 0xFFFFFFFF)
            if computed_with(later, mark):
                self.problems.append(Problem(
                    event.originator_version,
                    f"reverses {describe(target)}, but the later {kind.__name__} at "
                    f"position {later.position} ({later.effective_date}) computed its "
                    "amounts with it and was not reversed first"))
                return

    def _price_used(self, mark: Footprint, target: LedgerEvent, reversal: EventReversed) -> bool:
        """The reversed event is no longer a price reader; refused (a problem) when a live
        event after it computed with a price it set (`ledger.decision.used_price`)."""
        packed = self._packed(mark)
        for price in mark.reads:
            keys = self.price_readers.get(price)
            if keys is not None and packed in keys:
                keys.remove(packed)
        for price in (*mark.sets, "*") if mark.sets else ():
            for key in self.price_readers.get(price, ()):
                later = Footprint(LedgerEvent, None, None, date.fromordinal(key >> 32),
                                  key & 0xFFFFFFFF, (), (price,))
                if key > packed and used_price(later, mark):
                    self.problems.append(Problem(
                        reversal.originator_version,
                        f"reverses {describe(target)}, but the later event at "
                        f"position {later.position} ({later.effective_date}) computed its "
                        "amounts with a price it set and was not reversed first"))
                    return True
        return False

    def _forget(self, mark: Footprint, groups: dict[tuple[type[LedgerEvent], str | None],
                                                   array[int]]) -> None:
        """The reversed event is no longer live."""
        keys = groups.get((mark.kind, mark.holder))
        packed = self._packed(mark)
        if keys is None or packed not in keys:
            return
        keys.remove(packed)
        top = (mark.series or "", mark.kind, mark.holder)
        if self.latest[top] == packed:
            self.latest[top] = max(keys, default=0)


class HistoryCheck:
    """`check_history` for a ledger whose chain holds (positions 1..n), from its timeline
    keys, with its timeline handed in an event at a time (`feed`), and every event in
    recording order (`record`)."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.state = LedgerState()
        self.failed: Problem | None = None
        self.reversals = ReversalCheck()

    def record(self, event: LedgerEvent) -> None:
        self.reversals.feed(event)

    def feed(self, event: LedgerEvent) -> None:
        if self.failed is not None:
            return
        try:
            self.state.apply(event)
        except InvariantViolation as exc:
            self.failed = Problem(exc.position or 0, f"the history breaks an invariant: {exc}")
        except Exception as exc:  # a damaged but hash-consistent event must not crash verify
            self.failed = Problem(0, f"the history cannot be replayed: {exc!r}")

    def problems(self) -> list[Problem]:
        problems = _reversal_problems(self.keys) + self.reversals.problems
        if self.failed is not None:
            problems.append(self.failed)
        return problems


def _reversal_problems(keys: Keys) -> list[Problem]:
    problems: list[Problem] = []
    count = keys.count
    reversal_at = {at for at, _ in keys.reversals}
    seen: dict[int, int] = {}
    for at, target in keys.reversals:
        if not 1 <= target <= count or target >= at:
            problems.append(Problem(at, f"reverses position {target}, which was "
                                        "not recorded before it"))
        elif target in reversal_at:
            problems.append(Problem(at, "reverses a reversal"))
        if target in seen:
            problems.append(Problem(at, f"reverses position {target} again "
                                        f"(already reversed at {seen[target]})"))
        seen.setdefault(target, at)
    return problems


def check_history_keys(keys: Keys, timeline_events: Iterable[LedgerEvent]) -> list[Problem]:
    """`check_history` for a ledger whose chain holds (positions 1..n), from its timeline
    keys and its timeline streamed in order (`ledger.stream.Stream.timeline`)."""
    problems = _reversal_problems(keys)
    try:
        state = LedgerState()
        for event in timeline_events:
            state.apply(event)
    except InvariantViolation as exc:
        problems.append(Problem(exc.position or 0, f"the history breaks an invariant: {exc}"))
    except Exception as exc:  # a damaged but hash-consistent event must not crash verify
        problems.append(Problem(0, f"the history cannot be replayed: {exc!r}"))
    return problems


def verification(problems: Iterable[Problem], count: int, meta: Mapping[str, str]
                 ) -> Verification:
    ordered = sorted(problems, key=lambda p: p.position)
    raw_position = meta.get("head_position", "0")
    return Verification(
        events=count,
        head_position=int(raw_position) if raw_position.isdigit() else -1,
        head_hash=meta.get("head_hash", GENESIS_HASH),
        problems=tuple(ordered),
    )


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
                               ledger_id=ledger_id, progress=progress, rule=rule_of(meta))
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
