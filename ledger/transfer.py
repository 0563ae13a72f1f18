"""Export and import: the ledger's events as JSON lines, and back again, all or nothing.

An export line is an event as `log --json` shows it. An import line needs only `type`,
`effective_date` and `data`: each line becomes the command that would have recorded it by
hand, decided against the ledger as of its date and checked against the whole timeline, and
the outcome the line states (common shares, cash in lieu, each holder's dividend...) must be
the outcome recomputed, so an import never silently changes history. Every event is then
appended in one transaction: a refused line, or a killed import, appends nothing. Each new
event keeps the recorded_at and actor its line states, and the line's position and hash as
its `source`; its own position and hash chain are the new ledger's.

The check is incremental: one `LedgerState` is carried along and only a line dated before
the latest effective date so far (a back-dated entry) or a reversal rebuilds it, so a long
export in recording order imports in seconds.
"""

from __future__ import annotations

import itertools
import json
import re
import typing
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)

import events as events_module
from events import (
    EVENTS_BY_NAME,
    EventReversed,
    LedgerEvent,
    Source,
    with_source,
)
from events.codec import data_field_names, event_data, from_json_value, log_entry
from ledger.chain import GENESIS_HASH, STORED_RULE, event_fields, fields_hash
from ledger.commands import Command
from ledger.decision import command_class, decide_in_timeline, fold_without
from ledger.errors import (
    ConcurrencyConflict,
    InvalidInput,
    InvariantViolation,
    LedgerError,
    NotFound,
    StoreError,
)
from ledger.gc_pause import paused_gc
from ledger.inputs import clean_name
from ledger.location import redact
from ledger.state import ORDER_FREE, LedgerState, reversed_positions, timeline

Progress = Callable[[str, int, int], None]
"""Called as (phase, done, total) while an import runs."""


# --- export ----------------------------------------------------------------------------------


def export_lines(events: Sequence[LedgerEvent]) -> Iterator[str]:
    """Every event with its metadata, one JSON object a line, in recording order."""
    reversals = reversed_positions(events)
    for event in events:
        entry = log_entry(event, reversals.get(event.originator_version))
        yield json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"


# --- import: lines to commands ---------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One line of an import file: which line, and what it says happened."""

    line: int
    index: int
    position: int
    cls: type[LedgerEvent]
    effective_date: date
    data: dict[str, Any]
    # What the line says of its recording (an export's lines say it all): kept by the new
    # event, so the imported history is the one recorded, not a new one.
    recorded_at: datetime | None = None
    actor: str | None = None
    source: Source | None = None


def _provenance(obj: dict[str, Any], position: int) -> dict[str, Any]:
    """The line's recorded_at, actor and source (its position and hash), those it has."""
    found: dict[str, Any] = {}
    if obj.get("recorded_at") is not None:
        try:
            found["recorded_at"] = datetime.fromisoformat(obj["recorded_at"])
        except (TypeError, ValueError):
            raise InvalidInput(f"recorded_at {obj['recorded_at']!r} is not a time "
                               "YYYY-MM-DDTHH:MM:SS+00:00") from None
    if obj.get("actor") is not None:
        if not isinstance(obj["actor"], str):
            raise InvalidInput(f"actor {obj['actor']!r} is not a name")
        found["actor"] = clean_name(obj["actor"], "actor")
    if obj.get("hash"):  # an event never sealed (hash "") has no place in a chain to name
        if not isinstance(obj["hash"], str) or not _HASH.fullmatch(obj["hash"]):
            raise InvalidInput(f"hash {obj['hash']!r} is not a SHA-256 hash (64 hex digits)")
        found["source"] = Source(position=position, hash=obj["hash"])
    return found


_HASH = re.compile("[0-9a-f]{64}")


def parse_line(line: int, index: int, text: str) -> Entry:
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"not a JSON object ({exc})") from None
    if not isinstance(obj, dict):
        raise InvalidInput("not a JSON object; each line is one event as `export` writes it")
    for key in ("type", "effective_date", "data"):
        if key not in obj:
            raise InvalidInput(f"{key!r} is missing; a line needs type, effective_date and data")
    cls = EVENTS_BY_NAME.get(obj["type"]) if isinstance(obj["type"], str) else None
    if cls is None:
        raise InvalidInput(f"{obj['type']!r} is not an event type; use one of "
                           f"{', '.join(EVENTS_BY_NAME)}")
    try:
        effective = _date(obj["effective_date"])
    except (TypeError, ValueError):
        raise InvalidInput(f"effective_date {obj['effective_date']!r} is not a date "
                           "YYYY-MM-DD") from None
    if not isinstance(obj["data"], dict):
        raise InvalidInput("'data' is not a JSON object")
    position = obj.get("position", index)
    if isinstance(position, bool) or not isinstance(position, int):
        raise InvalidInput(f"position {position!r} is not a whole number")
    return Entry(line, index, position, cls, effective, obj["data"], **_provenance(obj, position))


# Dates and decimals read from the file, by their text: equal texts give one shared object
# (they never change), so the many dates and prices the checked state keeps (a warrant's
# issue date, expiry and price...) cost one object each, not one per line. Bounded: cleared
# when full.
_INTERNED: dict[Any, Any] = {}
_MAX_INTERNED = 1 << 16


def _date(text: Any) -> date:
    found = _INTERNED.get((date, text)) if type(text) is str else None
    if found is None:
        found = date.fromisoformat(text)
        _intern((date, text), found)
    return found


def _intern(key: Any, value: Any) -> None:
    if len(_INTERNED) >= _MAX_INTERNED:
        _INTERNED.clear()
    _INTERNED[key] = value


# The field types whose values are shared by text (see _INTERNED).
_PLAIN_HINTS = frozenset({Decimal, date, Decimal | None, date | None})
_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The field types of a dataclass (resolved once: resolving is slow and imports repeat it)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls, vars(events_module))
    return _HINTS[cls]


class _Fields:
    """Typed access to a line's `data`, with refusals that name the field."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.hints = _hints(entry.cls)
        if not entry.data.keys() <= self.hints.keys():
            unknown = sorted(set(entry.data) - set(self.hints))
            raise InvalidInput(f"{entry.cls.__name__} has no field {unknown[0]!r}")

        self.typed: dict[str, Any] = {}

    def value(self, name: str, hint: Any = None) -> Any:
        if name not in self.entry.data:
            raise InvalidInput(f"{self.entry.cls.__name__} needs {name!r} in its data")
        return self.typed_value(name, hint)

    def get(self, name: str, default: Any) -> Any:
        return self.typed_value(name, None) if name in self.entry.data else default

    def typed_value(self, name: str, hint: Any = None) -> Any:
        if name not in self.typed:
            raw = self.entry.data[name]
            kind = hint or self.hints[name]
            key = (kind, raw) if type(raw) is str and kind in _PLAIN_HINTS else None
            if key is not None and key in _INTERNED:
                self.typed[name] = _INTERNED[key]
                return self.typed[name]
            try:
                value = self.typed[name] = from_json_value(kind, raw)
            except (ArithmeticError, AttributeError, KeyError, TypeError, ValueError):
                raise InvalidInput(f"{name} {raw!r} is not a valid value") from None
            if key is not None:
                _intern(key, value)
        return self.typed[name]


def command_for(entry: Entry, f: _Fields | None = None) -> Command:
    """The command that, recorded by hand on the line's date, decides the line's event."""
    f = f or _Fields(entry)
    command = command_class(entry.cls)
    if command is None:
        raise InvalidInput(f"{entry.cls.__name__} cannot be imported as a command")
    return command.of(entry.effective_date, f.value, f.get)


# --- import: checking every line as if recorded by hand --------------------------------------


class Importer:
    """Decides and checks import lines one by one against the ledger they extend.

    With `keep` (the default) every new event stays in `new`. An import that streams its
    file passes `keep=False` and `read_new`, which reads the new events back from the open
    transaction: the usual line needs only the state carried along and the head, and only a
    back-dated line or a reversal reads the whole timeline."""

    def __init__(
        self,
        existing: Sequence[LedgerEvent],
        *,
        ledger_id: UUID,
        actor: str,
        keep: bool = True,
        rule: int = STORED_RULE,
    ) -> None:
        self.ledger_id = ledger_id
        self.actor = actor
        self.existing: list[LedgerEvent] = list(existing)
        self.offset = len(self.existing)
        self.keep = keep
        self.new: list[LedgerEvent] = []
        self.count = 0
        self.read_new: Callable[[], list[LedgerEvent]] | None = None
        # The new events at positions (after, upto], as the open transaction holds them.
        self.read_range: Callable[[int, int], list[LedgerEvent]] | None = None
        # Each position's effective date (its ordinal; index 0 unused): the timeline's keys,
        # a few bytes an event, so the events themselves need not be held.
        self.dates = array("i", [0])
        self.dates.extend(e.effective_date.toordinal() for e in self.existing)
        self.rule = rule  # the ledger's chain rule (`ledger.chain`)
        last = self.existing[-1] if self.existing else None
        self._head = (last.originator_version, last.hash) if last else (0, GENESIS_HASH)
        self.last: LedgerEvent | None = last
        self.reversed = reversed_positions(self.existing)
        self.state = LedgerState().apply_all(timeline(self.existing))
        self.positions = _Positions()
        self._data: dict[str, Any] | None = None  # the JSON data of the event just sealed
        self._line: Entry | None = None  # the line being added (its recording is kept)
        # The timeline in order with state checkpoints, built at the first back-dated line.
        self.trail: _Trail | None = None

    @property
    def head(self) -> tuple[int, str]:
        return self._head

    @property
    def events(self) -> list[LedgerEvent]:
        """Every event: those the ledger had, then the new ones."""
        if self.keep:
            return [*self.existing, *self.new]
        if self.read_new is None:
            raise RuntimeError("the new events are neither kept nor readable")
        return [*self.existing, *self.read_new()]

    def _envelope(self, cls: type[LedgerEvent], on: date, payload: dict[str, Any]) -> LedgerEvent:
        position, prev = self._head
        # The line's own recording, when it states it (an export's line does), else now, by
        # the importing actor. The chain is new either way: position and prev_hash are here.
        line = self._line
        recorded_at = line.recorded_at if line and line.recorded_at else datetime.now(UTC)
        actor = line.actor if line and line.actor else self.actor
        source = line.source if line else None
        attrs: dict[str, Any] = {"originator_id": self.ledger_id, "originator_version": position + 1,
                 "effective_date": on, "recorded_at": recorded_at, "actor": actor,
                 "prev_hash": prev, "hash": ""}
        if payload.keys() == _data_names(cls):
            # Exactly the class's fields: what its frozen __init__ would assign one
            # `object.__setattr__` at a time, in field order (event classes have no
            # __post_init__).
            event: LedgerEvent = object.__new__(cls)
            state = event.__dict__
            state.update(attrs)
            for name in data_field_names(cls):
                state[name] = payload[name]
        else:
            event = cls(**attrs, **payload)  # refuses what it does not have, or lacks
        with_source(event, source)
        # The hash covers everything but itself: seal the event just built (no one else has
        # seen it yet) rather than building it a second time with `replace`. Its JSON data,
        # made for the hash, is what the line's stated outcome is compared with.
        fields = event_fields(event)
        object.__setattr__(event, "hash", fields_hash(fields, position + 1, prev, self.rule))
        self._data = fields["data"]
        return event

    def add(self, entry: Entry) -> LedgerEvent:
        if entry.position in self.positions:
            raise InvalidInput(f"position {entry.position} appears twice in the file")
        self._line = entry
        event = self._reversal(entry) if entry.cls is EventReversed else self._record(entry)
        self._head = (event.originator_version, event.hash)
        self.last = event
        self.count += 1
        self.dates.append(event.effective_date.toordinal())
        if self.keep:
            self.new.append(event)
        self.positions.add(entry.position, event.originator_version)
        return event

    def _record(self, entry: Entry) -> LedgerEvent:
        fields = _Fields(entry)
        command = command_for(entry, fields)
        on = entry.effective_date
        latest = self.state.last_date

        def decide(before: LedgerState) -> LedgerEvent:
            cls, payload = command.decide(before, self._head[0] + 1)
            return self._envelope(cls, on, payload)

        if latest is None or on >= latest or entry.cls in ORDER_FREE:
            # Everything known is effective on or before `on`: the carried state is the
            # state as of `on`, and nothing follows. An order-free event (its rule neither
            # reads nor changes the state) may be folded in at the end even when back-dated:
            # the state comes out as a full replay would leave it.
            event, _ = decide_in_timeline(self.state, decide, ())
            _same_outcome(fields, event, self._data)
            if self.trail is not None:
                self.trail.add(event)
            return event
        # Back-dated: decide on the state as of `on` (from the nearest checkpoint before it),
        # then check and fold every later event after it, exactly as a full replay would.
        trail = self._trail()
        before, index = trail.state_at(on)
        trail.keep(index, before)  # the state in front of the line: the next one's start
        event, state = decide_in_timeline(before.copy(), decide, trail.events(index))
        _same_outcome(fields, event, self._data)
        trail.insert(index, event)
        self.state = state
        return event

    def _trail(self) -> _Trail:
        if self.trail is None:
            # `ledger.state.timeline` of every event, by its keys: no reversal, nothing
            # reversed, by effective date then position.
            left_out = {*self.reversed, *self.reversed.values()}
            keys = sorted((ordinal << 32) | position
                          for position, ordinal in enumerate(self.dates)
                          if position and position not in left_out)
            self.trail = _Trail(array("q", keys), self._at)
        return self.trail

    def _at(self, positions: Sequence[int]) -> dict[int, LedgerEvent]:
        """The events at these positions: the ledger's own from memory, the new ones kept,
        or read back from the open transaction a range at a time."""
        found: dict[int, LedgerEvent] = {}
        offset = self.offset
        wanted = sorted(positions)
        new = [p for p in wanted if p > offset]
        for position in wanted[:len(wanted) - len(new)]:
            found[position] = self.existing[position - 1]
        if self.keep:
            for position in new:
                found[position] = self.new[position - offset - 1]
            return found
        if self.read_range is None:
            raise RuntimeError("the new events are neither kept nor readable")
        start = 0
        while start < len(new):  # ranges of nearby positions, read in one query each
            stop = start + 1
            while stop < len(new) and new[stop] - new[stop - 1] <= _GAP:
                stop += 1
            want = set(new[start:stop])
            for event in self.read_range(new[start] - 1, new[stop - 1]):
                if event.originator_version in want:
                    found[event.originator_version] = event
            start = stop
        return found

    def _reversal(self, entry: Entry) -> LedgerEvent:
        f = _Fields(entry)
        file_position = f.value("reversed_position", int)
        if isinstance(file_position, bool) or not isinstance(file_position, int):
            raise InvalidInput(f"reversed_position {file_position!r} is not a position")
        reason = clean_name(str(f.value("reason", str)), "reason")
        position = self.positions.get(file_position)
        if position is None:
            raise NotFound(f"it reverses position {file_position}, which is not an earlier "
                           "line of this file")
        events = self.events
        target = events[position - 1]
        if isinstance(target, EventReversed):
            raise InvariantViolation(f"position {file_position} is itself a reversal; a "
                                     "reversal is never reversed")
        if position in self.reversed:
            raise InvariantViolation(f"position {file_position} was already reversed")
        stated = entry.data.get("reversed")
        if isinstance(stated, dict) and stated.get("type") != type(target).__name__:
            raise InvalidInput(f"it says it reverses a {stated.get('type')}, but position "
                               f"{file_position} is a {type(target).__name__}")
        state = fold_without(target, timeline(e for e in events
                                              if e.originator_version != position))
        event = self._envelope(EventReversed, entry.effective_date, {
            "reversed_position": position, "reason": reason, "reversed": target})
        self.state = state
        self.reversed[position] = event.originator_version
        self.trail = None  # the timeline lost an event: rebuilt at the next back-dated line
        return event


_DATA_NAMES: dict[type, frozenset[str]] = {}


def _data_names(cls: type[LedgerEvent]) -> frozenset[str]:
    """An event class's own field names, as a set (worked out once per class)."""
    names = _DATA_NAMES.get(cls)
    if names is None:
        names = _DATA_NAMES[cls] = frozenset(data_field_names(cls))
    return names


class _Positions:
    """File position -> ledger position of the lines added so far: two arrays of integers
    while the file's positions ascend (an export's always do), a dict once they do not."""

    def __init__(self) -> None:
        self.file = array("q")
        self.ledger = array("q")
        self.other: dict[int, int] | None = None

    def __contains__(self, position: int) -> bool:
        if self.other is None and (not self.file or position > self.file[-1]):
            return False  # past every position so far (the usual next line)
        return self.get(position) is not None

    def get(self, position: int) -> int | None:
        if self.other is not None:
            return self.other.get(position)
        index = bisect_left(self.file, position)
        if index < len(self.file) and self.file[index] == position:
            return self.ledger[index]
        return None

    def add(self, position: int, ledger_position: int) -> None:
        if self.other is None:
            if (not self.file or position > self.file[-1]) and -2**63 <= position < 2**63:
                self.file.append(position)
                self.ledger.append(ledger_position)
                return
            self.other = dict(zip(self.file, self.ledger, strict=True))
            self.file, self.ledger = array("q"), array("q")
        self.other[position] = ledger_position


class _Trail:
    """The timeline in order, and copies of the state along it: one every `spacing` events,
    and the one in front of the latest back-dated line.

    The timeline is its keys (a few bytes an event); of the events only the latest `TAIL`
    added are kept decoded, the others read again (`at`) when a line dated before them needs
    them: an import of a million events holds the keys, not the events.

    A back-dated line starts from the nearest copy before its date instead of the first
    event, so a line dated a little before the latest ones costs what follows it (and two
    state copies), not the history. At most MAX_CHECKPOINTS spaced copies are kept: past
    that, every other one of the older half is dropped, so the copies stay dense near the
    latest events (where back-dated lines mostly land) and sparse further back, and memory
    stays bounded (a copy of a million-event state is about 12 MB)."""

    SPACING = 1024
    MAX_CHECKPOINTS = 12
    TAIL = 20_000  # the latest events added kept decoded (the rest are read again)
    CHUNK = 2_000  # events read back at a time

    def __init__(self, keys: array[int], at: Callable[[Sequence[int]], dict[int, LedgerEvent]]
                 ) -> None:
        # The timeline's keys in order: (effective date ordinal << 32) | position.
        self.keys = keys
        self.at = at
        self.kept: dict[int, LedgerEvent] = {}  # position -> event, the latest added
        self.spacing = self.SPACING
        # (how many events of the timeline were folded, the state after them), ascending.
        self.checkpoints: list[tuple[int, LedgerState]] = []
        self.recent: tuple[int, LedgerState] | None = None

    def events(self, start: int, stop: int | None = None) -> Iterator[LedgerEvent]:
        """The timeline's events from index `start` to `stop`, in order."""
        keys = self.keys
        stop = len(keys) if stop is None else stop
        kept = self.kept
        for first in range(start, stop, self.CHUNK):
            positions = [key & _POSITION for key in keys[first:min(stop, first + self.CHUNK)]]
            missing = [p for p in positions if p not in kept]
            found = self.at(missing) if missing else {}
            for position in positions:
                event = kept.get(position) or found[position]
                yield event

    def _keep(self, event: LedgerEvent) -> None:
        kept = self.kept
        kept[event.originator_version] = event
        if len(kept) > 2 * self.TAIL:  # the oldest added let go (read again if needed)
            for position in list(itertools.islice(kept, len(kept) - self.TAIL)):
                del kept[position]

    def add(self, event: LedgerEvent) -> None:
        """An event folded in at the end: dated last, or order-free (state.ORDER_FREE) and
        then put at its place. An order-free event changes no state, so every checkpoint
        still holds, those after it one event further along."""
        key = _key(event)
        index = bisect_right(self.keys, key)
        self.keys.insert(index, key)
        self._keep(event)
        if index < len(self.keys) - 1:
            self.checkpoints = [(c + 1 if c > index else c, state)
                                for c, state in self.checkpoints]
            if self.recent is not None and self.recent[0] > index:
                self.recent = (self.recent[0] + 1, self.recent[1])

    def state_at(self, on: date) -> tuple[LedgerState, int]:
        """A state with every event effective on or before `on` folded in, and how many
        that is (spaced checkpoints are taken on the way). It is the caller's: a spaced
        checkpoint is copied, the recent one is taken (the caller keeps its successor)."""
        index = bisect_right(self.keys, (on.toordinal() << 32) | _POSITION)
        found = bisect_right(self.checkpoints, index, key=lambda c: c[0]) - 1
        start, base = self.checkpoints[found] if found >= 0 else (0, None)
        state: LedgerState | None = None
        if self.recent is not None and start < self.recent[0] <= index:
            (start, state), self.recent = self.recent, None
        if state is None:
            state = base.copy() if base is not None else LedgerState()
        for count, event in enumerate(self.events(start, index), start=start + 1):
            state.apply(event)
            if count % self.spacing == 0 and count > self._last_spaced():
                self.checkpoints.append((count, state.copy()))
                self._thin()
        return state, index

    def _last_spaced(self) -> int:
        return self.checkpoints[-1][0] if self.checkpoints else 0

    def keep(self, index: int, state: LedgerState) -> None:
        """The state after the first `index` events (the trail's own from now on): where
        the next back-dated line starts."""
        self.recent = (index, state)

    def insert(self, index: int, event: LedgerEvent) -> None:
        """The accepted back-dated event at `index`; checkpoints after it are stale (they
        lack it) and dropped."""
        self.keys.insert(index, _key(event))
        self._keep(event)
        self.checkpoints = [c for c in self.checkpoints if c[0] <= index]
        if self.recent is not None and self.recent[0] > index:
            self.recent = None
        self._thin()

    def _thin(self) -> None:
        while len(self.checkpoints) > self.MAX_CHECKPOINTS:
            half = len(self.checkpoints) // 2
            self.checkpoints = self.checkpoints[:half][1::2] + self.checkpoints[half:]


_POSITION = (1 << 32) - 1  # the position's bits of a timeline key
_GAP = 64  # positions apart still read back in one range


def _key(event: LedgerEvent) -> int:
    return (event.effective_date.toordinal() << 32) | event.originator_version


def _same_outcome(fields: _Fields, event: LedgerEvent,
                  data: dict[str, Any] | None = None) -> None:
    """Refuse a line whose stated outcome is not what recording it computes.

    `data` is the event's data in JSON form when the caller has it: a line stating exactly
    that (an export's line does) states the computed outcome, value for value, so the
    typed comparison is needed only when the two differ in form."""
    if data is not None and data == fields.entry.data:
        return
    for name, raw in fields.entry.data.items():
        if fields.typed_value(name) != getattr(event, name):
            computed = (event_data(event) if data is None else data)[name]
            where, said, computes = _first_difference(name, raw, computed)
            raise InvariantViolation(
                f"the file says {where} = {json.dumps(said)}, but recording it computes "
                f"{json.dumps(computes)}; an import never changes history", None,
            )


def _first_difference(path: str, said: Any, computed: Any) -> tuple[str, Any, Any]:
    """The innermost field where a line's stated value (JSON) departs from the computed one,
    e.g. `payments[1].amount`, so a refusal names one figure rather than a whole array."""
    if isinstance(said, list) and isinstance(computed, list) and len(said) == len(computed):
        for index, (a, b) in enumerate(zip(said, computed, strict=True)):
            if not _same_json(a, b):
                return _first_difference(f"{path}[{index}]", a, b)
    if isinstance(said, dict) and isinstance(computed, dict) and said.keys() == computed.keys():
        for key in said:
            if not _same_json(said[key], computed[key]):
                return _first_difference(f"{path}.{key}", said[key], computed[key])
    return path, said, computed


def _same_json(said: Any, computed: Any) -> bool:
    """Equal, or the same decimal written two ways ("10000" and "10000.00")."""
    if said == computed:
        return True
    if isinstance(said, str) and isinstance(computed, str):
        try:
            return Decimal(said) == Decimal(computed)
        except ArithmeticError:
            return False
    if isinstance(said, list) and isinstance(computed, list):
        return len(said) == len(computed) and all(
            _same_json(a, b) for a, b in zip(said, computed, strict=True))
    if isinstance(said, dict) and isinstance(computed, dict):
        return said.keys() == computed.keys() and all(
            _same_json(said[k], computed[k]) for k in said)
    return False


def check_lines(
    lines: Sequence[str],
    existing: Sequence[LedgerEvent],
    *,
    ledger_id: UUID,
    actor: str,
    progress: Progress | None = None,
) -> list[LedgerEvent]:
    """Every line decided and checked; the first refused one raises, naming its line."""
    importer = Importer(existing, ledger_id=ledger_id, actor=actor)
    with paused_gc():
        _check(importer, lines, progress=progress, total=len(lines))
    return importer.new


def _check(
    importer: Importer,
    lines: Iterable[str],
    *,
    progress: Progress | None,
    total: int | None,
    each: Callable[[LedgerEvent], None] | None = None,
) -> None:
    """Add every line to `importer` (a file's lines one by one: they need not all be held),
    calling `each` with every event; the first refused line raises, naming its number."""
    index = 0
    number = 0
    for raw in lines:
        # The lines as `str.splitlines` splits a whole text (a line read from a file ends at
        # a newline only; the rarer separators split it further, as they always have).
        for text in raw.splitlines() or [raw]:
            number += 1
            if progress is not None and number % 1000 == 0:
                progress("Checking", number, max(total or 0, number))
            if not text or text.isspace():  # `not text.strip()`, without the copy
                continue
            index += 1
            try:
                event = importer.add(parse_line(number, index, text))
            except LedgerError as exc:
                raise type(exc)(f"line {number}: {exc}") from None
            except RecursionError:  # brackets nested thousands deep: no export writes that
                raise InvalidInput(
                    f"line {number}: not an event as `export` writes it (its JSON is nested "
                    "too deeply)"
                ) from None
            if each is not None:
                each(event)
    if progress is not None:
        progress("Checking", number, max(total or 0, number))


@dataclass(frozen=True)
class Imported:
    """What an import appended: how many events, at which positions."""

    count: int
    first: int
    last: int


Sink = Callable[[Sequence[LedgerEvent], Any], None]
"""Called with each batch of appended events and the import's open transaction's connection
(a sqlite3 connection for a SQLite ledger): the read model is caught up by the very
transaction that appends the events, and rolled back with it."""

# Events encoded and inserted at a time: what the import holds besides its state.
BATCH = 5000


def import_lines(
    book: Any,
    lines: Iterable[str],
    *,
    progress: Progress | None = None,
    total: int | None = None,
    sink: Sink | None = None,
) -> Imported:
    """Check every line and append its event, all in one transaction (or none).

    The lines are read one at a time and the events encoded and inserted in batches as they
    are checked, inside that one transaction: memory holds the checked state and one batch,
    not the file. A refused line raises (naming it) and the transaction appends nothing."""
    from ledger.ledgers import head_rows

    app = book.open(create=True)
    book.check_head()
    mapper = app.mapper
    importer = Importer(book.events(), ledger_id=book.id, actor=book.actor, keep=False,
                        rule=book.rule)
    events: list[LedgerEvent] = []
    stored: list[StoredEvent] = []
    try:
        with paused_gc(), app.recorder.bulk_insert(book.id) as writer:

            def flush() -> None:
                if stored:
                    writer.insert(stored, events)
                    if sink is not None:
                        sink(events, writer.tables)
                    events.clear()
                    stored.clear()

            def each(event: LedgerEvent) -> None:
                events.append(event)
                stored.append(mapper.to_stored_event(event))
                if len(stored) >= BATCH:
                    flush()

            def read_new() -> list[LedgerEvent]:
                flush()
                return [mapper.to_domain_event(s)
                        for s in writer.select(book.id, importer.offset)]

            def read_range(after: int, upto: int) -> list[LedgerEvent]:
                flush()
                return [mapper.to_domain_event(s)
                        for s in writer.select(book.id, after, upto)]

            importer.read_new = read_new
            importer.read_range = read_range
            _check(importer, lines, progress=progress, total=total, each=each)
            if progress is not None:
                progress("Writing", 0, 1)
            flush()
            if importer.count:
                writer.set_meta(head_rows(book.name, importer.head))
    except IntegrityError:
        raise ConcurrencyConflict("another writer recorded while this import ran; nothing "
                                  "was imported; run the import again") from None
    except (OperationalError, PersistenceError) as exc:
        raise StoreError(f"cannot write to the ledger; nothing was imported: "
                         f"{redact(str(exc))}") from None
    if not importer.count or importer.last is None:
        return Imported(0, 0, 0)
    # The checker already holds the exact state at the new head: snapshot it, so the next
    # recording need not replay what was just imported.
    book.snapshot(importer.state, importer.last)
    if progress is not None:
        progress("Writing", 1, 1)
    return Imported(importer.count, importer.offset + 1, importer.head[0])
