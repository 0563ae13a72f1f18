"""Reading a ledger's stream in bounded memory: stored rows in batches, a strict light
decode for the hash chain, and the timeline streamed in order without holding it whole.

`stored_batches` pages through the stream in recording order; each page is let go before the
next. `light` reads one stored row straight to what the chain needs (the hash its content
implies, its stored hashes, its effective date and, for a reversal, what it reverses) without
building the event: it is *strict*, refusing (returning None) anything the full decoder could
read differently, so a caller falls back to the full decode and reports exactly as before.
Where it answers, its hash equals `ledger.chain.event_hash` of the fully decoded event.

`Timeline` is `ledger.state.timeline` over the store: the (effective date, position) keys
are read first (a few bytes per event), then the events are fetched in timeline order, most
of them in recording order and the few that were back-dated or forward-dated on demand, so
that only a bounded window of decoded events is ever held.
"""

from __future__ import annotations

import hashlib
import json
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from events import EVENT_TYPES, VALUE_TYPES, EventReversed, LedgerEvent
from events.codec import data_field_names, field_names
from ledger.errors import StoreError

READ_BATCH = 5000
WINDOW = 20_000  # decoded events held ahead of the timeline at most (besides one batch)

EVENT_TOPICS: dict[str, type[LedgerEvent]] = {
    f"{cls.__module__}:{cls.__name__}": cls for cls in EVENT_TYPES}
VALUE_TOPICS: dict[str, type] = {f"{cls.__module__}:{cls.__name__}": cls for cls in VALUE_TYPES}
REVERSAL_TOPIC = f"{EventReversed.__module__}:{EventReversed.__name__}"
_ENVELOPE_IN_COLUMNS = frozenset({"originator_id", "originator_version"})
_STATE_KEYS: dict[type, frozenset[str]] = {
    cls: frozenset(field_names(cls)) - _ENVELOPE_IN_COLUMNS for cls in EVENT_TYPES}
_ALL_KEYS: dict[type, frozenset[str]] = {
    cls: frozenset(field_names(cls)) for cls in (*EVENT_TYPES, *VALUE_TYPES)}


def stored_batches(
    recorder: Any, ledger_id: Any, *, after: int = 0, upto: int | None = None,
    batch: int = READ_BATCH,
) -> Iterator[Sequence[Any]]:
    """The stored rows after position `after` (to `upto`), in version order, a page at a time."""
    while True:
        rows = recorder.select_events(ledger_id, gt=after or None, lte=upto, limit=batch)
        if rows:
            yield rows
        if len(rows) < batch:
            return
        after = rows[-1].originator_version


def plain_state(mapper: Any, stored: Any) -> bytes:
    """The row's JSON bytes, deciphered and decompressed as the mapper would (may raise)."""
    raw = stored.state
    if mapper.cipher:
        raw = mapper.cipher.decrypt(raw)
    if mapper.compressor:
        raw = mapper.compressor.decompress(raw)
    return bytes(raw)


# --- the light decode ------------------------------------------------------------------------


class _Refused(Exception):
    """The light decode will not answer for this row: the full decoder decides."""


@dataclass(frozen=True, slots=True)
class Light:
    """What the chain and the timeline need of one stored row, read without the event."""

    originator_id: Any
    version: int
    computed: str  # the hash its content implies (`event_hash` of the decoded event)
    hash: str
    prev_hash: str
    ordinal: int  # its effective date's ordinal
    reversed_position: int | None  # what it reverses, for an EventReversed


_CACHE_LIMIT = 200_000
_decimals: dict[str, str] = {}
_dates: dict[str, tuple[str, int]] = {}


def _decimal(data: Any) -> str:
    if type(data) is not str:
        raise _Refused
    text = _decimals.get(data)
    if text is None:
        if len(_decimals) >= _CACHE_LIMIT:
            _decimals.clear()
        text = _decimals[data] = str(Decimal(data))
    return text


def _date(data: Any) -> tuple[str, int]:
    if type(data) is not str:
        raise _Refused
    found = _dates.get(data)
    if found is None:
        if len(_dates) >= _CACHE_LIMIT:
            _dates.clear()
        day = date.fromisoformat(data)
        found = _dates[data] = (day.isoformat(), day.toordinal())
    return found


def _wrapped(value: Any, name: str) -> Any:
    """The `_data_` of a `{"_type_": name, "_data_": ...}` object, else refused."""
    if type(value) is not dict or len(value) != 2 or value.get("_type_") != name \
            or "_data_" not in value:
        raise _Refused
    return value["_data_"]


def _value(value: Any) -> Any:
    """The JSON form `events.codec.to_json_value` gives the value the full decoder reads."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is list:
        return [_value(v) for v in value]
    if kind is not dict or len(value) != 2 or "_data_" not in value:
        raise _Refused  # a plain object (or a float): the full path decides
    name = value.get("_type_")
    data = value["_data_"]
    if name == "decimal_str":
        return _decimal(data)
    if name == "date_iso":
        return _date(data)[0]
    if name == "datetime_iso":
        if type(data) is not str:
            raise _Refused
        return datetime.fromisoformat(data).isoformat()
    if name == "uuid_hex":
        if type(data) is not str:
            raise _Refused
        return str(UUID(data))
    if type(name) is not str or type(data) is not dict:
        raise _Refused
    value_cls = VALUE_TOPICS.get(name)
    if value_cls is not None:
        names = field_names(value_cls)
        if data.keys() != _ALL_KEYS[value_cls]:
            raise _Refused
        return {n: _value(data[n]) for n in names}
    event_cls = EVENT_TOPICS.get(name)
    if event_cls is None or data.keys() != _ALL_KEYS[event_cls]:
        raise _Refused
    for n in field_names(event_cls):  # the full decoder reads (and may refuse) every field
        if n not in ("effective_date", "originator_version"):
            _value(data[n])
    position = data["originator_version"]
    if type(position) is not int:
        raise _Refused
    return {
        "position": position,
        "type": event_cls.__name__,
        "effective_date": _date(_wrapped(data["effective_date"], "date_iso"))[0],
        "data": {n: _value(data[n]) for n in data_field_names(event_cls)},
    }


def light_state(cls: type[LedgerEvent], version: int, originator_id: Any, state: Any) -> Light:
    """`Light` from a decoded JSON state (raises `_Refused` where the full path decides)."""
    if type(state) is not dict or state.keys() != _STATE_KEYS[cls]:
        raise _Refused
    effective, ordinal = _date(_wrapped(state["effective_date"], "date_iso"))
    recorded = _wrapped(state["recorded_at"], "datetime_iso")
    if type(recorded) is not str:
        raise _Refused
    actor, prev_hash, stored_hash = state["actor"], state["prev_hash"], state["hash"]
    if type(actor) is not str or type(prev_hash) is not str or type(stored_hash) is not str:
        raise _Refused
    reversed_position: int | None = None
    if cls is EventReversed:
        reversed_position = state["reversed_position"]
        if type(reversed_position) is not int:
            raise _Refused
    body = {
        "position": version,
        "type": cls.__name__,
        "effective_date": effective,
        "recorded_at": datetime.fromisoformat(recorded).isoformat(),
        "actor": actor,
        "data": {name: _value(state[name]) for name in data_field_names(cls)},
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return Light(originator_id, version, hashlib.sha256(canonical.encode()).hexdigest(),
                 stored_hash, prev_hash, ordinal, reversed_position)


def light(mapper: Any, stored: Any) -> Light | None:
    """The row read lightly, or None where only the full decoder may judge it."""
    found = light_read(mapper, stored)
    return found[0] if found is not None else None


def light_read(mapper: Any, stored: Any) -> tuple[Light, dict[str, Any]] | None:
    """`light`, with the row's JSON state (to build the event from with `build_event`)."""
    cls = EVENT_TOPICS.get(stored.topic)
    if cls is None or type(stored.originator_version) is not int:
        return None
    try:
        state = json.loads(plain_state(mapper, stored).decode("utf8"))
        return light_state(cls, stored.originator_version, stored.originator_id, state), state
    except Exception:  # refused, or damaged bytes: the full path says what it is
        return None


# --- building the event from a state the light read accepted ---------------------------------

_decimal_objects: dict[str, Decimal] = {}
_date_objects: dict[str, date] = {}


def _build(value: Any) -> Any:
    """What the transcoder's object hook makes of a value (its shape already accepted)."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return value
    if kind is list:
        return [_build(v) for v in value]
    name = value["_type_"]
    data = value["_data_"]
    if name == "decimal_str":
        found = _decimal_objects.get(data)
        if found is None:
            if len(_decimal_objects) >= _CACHE_LIMIT:
                _decimal_objects.clear()
            found = _decimal_objects[data] = Decimal(data)
        return found
    if name == "date_iso":
        day = _date_objects.get(data)
        if day is None:
            if len(_date_objects) >= _CACHE_LIMIT:
                _date_objects.clear()
            day = _date_objects[data] = date.fromisoformat(data)
        return day
    if name == "datetime_iso":
        return datetime.fromisoformat(data)
    if name == "uuid_hex":
        return UUID(data)
    cls = VALUE_TOPICS.get(name) or EVENT_TOPICS[name]
    values = {}
    for key, item in data.items():  # as `ledger.store.DataclassAsDict.decode`
        built = _build(item)
        values[key] = tuple(built) if type(built) is list else built
    if tuple(values) != field_names(cls):
        return cls(**values)
    obj: Any = object.__new__(cls)
    obj.__dict__.update(values)
    return obj


def build_event(stored: Any, state: dict[str, Any]) -> LedgerEvent:
    """The event the full decode (`LedgerMapper.to_domain_event`) makes of a row whose JSON
    `state` the light read accepted: equal to it, field for field."""
    cls = EVENT_TOPICS[stored.topic]
    values = {}
    for key, item in state.items():
        built = _build(item)
        values[key] = tuple(built) if type(built) is list else built
    values["originator_id"] = stored.originator_id
    values["originator_version"] = stored.originator_version
    event: Any = object.__new__(cls)
    object.__setattr__(event, "__dict__", values)
    return event  # type: ignore[no-any-return]


# --- the timeline over the store -------------------------------------------------------------


_HEAD = re.compile(rb'\{"effective_date":\{"_type_":"date_iso","_data_":"(\d{4}-\d{2}-\d{2})"\}')


class KeyMismatch(StoreError):
    """An event is not where, or not dated as, its timeline key said (the stream has a gap,
    or changed while it was read)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the ledger's stream cannot be followed ({detail}); it changed while "
                         "it was read, or it was damaged: run `finledger audit verify`")


@dataclass
class Keys:
    """Per position (1..count): its effective date's ordinal, and the reversals recorded."""

    ordinals: array[int]
    reversals: list[tuple[int, int]]  # (position of the reversal, position it reverses)

    @property
    def count(self) -> int:
        return len(self.ordinals) - 1

    @classmethod
    def empty(cls) -> Keys:
        return cls(array("i", [0]), [])

    def add(self, version: int, ordinal: int, reversed_position: int | None) -> None:
        if version != len(self.ordinals):
            raise KeyMismatch(f"position {version} out of order")
        self.ordinals.append(ordinal)
        if reversed_position is not None:
            self.reversals.append((version, reversed_position))

    def order(self, upto: int | None = None) -> list[int]:
        """The positions of `ledger.state.timeline` of the events up to `upto`."""
        last = self.count if upto is None else min(upto, self.count)
        reversals = [(at, target) for at, target in self.reversals if at <= last]
        left_out = {at for at, _ in reversals} | {target for _, target in reversals}
        ordinals = self.ordinals
        combined = [(ordinals[p] << 32) | p for p in range(1, last + 1) if p not in left_out]
        combined.sort()
        mask = (1 << 32) - 1
        return [c & mask for c in combined]


class Reorder:
    """Events fed in recording order, handed on in timeline order (`Keys.order`).

    An event comes after the ones before it in the timeline; those later in the timeline
    wait in a buffer, at most `WINDOW` of them: one wanted much later is let go and fetched
    again (`fetch(position)`) when its turn comes."""

    def __init__(self, keys: Keys, fetch: Callable[[int], LedgerEvent],
                 emit: Callable[[LedgerEvent], None], upto: int | None = None) -> None:
        self.keys = keys
        self.order = keys.order(upto)
        self.rank = array("i", bytes(4 * (keys.count + 1)))
        self.wanted = bytearray(keys.count + 1)
        for index, position in enumerate(self.order):
            self.rank[position] = index
            self.wanted[position] = 1
        self.fetch = fetch
        self.emit = emit
        self.next = 0
        self.fed = 0
        self.buffer: dict[int, LedgerEvent] = {}

    def feed(self, event: LedgerEvent) -> None:
        version = event.originator_version
        if version != self.fed + 1 or version > self.keys.count \
                or event.effective_date.toordinal() != self.keys.ordinals[version]:
            raise KeyMismatch(f"position {version} is not the one its key was read for")
        self.fed = version
        if not self.wanted[version]:
            return
        rank = self.rank[version]
        if rank == self.next:
            self.emit(event)
            self.next += 1
            self._drain()
        elif rank - self.next <= WINDOW:
            self.buffer[version] = event

    def _drain(self) -> None:
        order, buffer = self.order, self.buffer
        while self.next < len(order):
            position = order[self.next]
            event = buffer.pop(position, None)
            if event is None:
                if position > self.fed:
                    return
                event = self.fetch(position)  # let go earlier: read again
            self.emit(event)
            self.next += 1

    def finish(self) -> None:
        """Hand on what is left (every event fed by now)."""
        self.fed = max(self.fed, self.keys.count)
        self._drain()


Decode = Callable[[Any], LedgerEvent]


class Stream:
    """A ledger's stream read through its store: rows, keys, and the timeline in order."""

    def __init__(self, app: Any, ledger_id: Any, decode: Decode) -> None:
        self.app = app
        self.ledger_id = ledger_id
        self.decode = decode

    def batches(self, *, after: int = 0, upto: int | None = None,
                batch: int = READ_BATCH) -> Iterator[Sequence[Any]]:
        return stored_batches(self.app.recorder, self.ledger_id, after=after, upto=upto,
                              batch=batch)

    def events(self, *, after: int = 0, upto: int | None = None) -> Iterator[LedgerEvent]:
        """The events in recording order, decoded a page at a time."""
        for rows in self.batches(after=after, upto=upto):
            for row in rows:
                yield self.decode(row)

    def keys(self) -> Keys:
        """The timeline keys of every event (only reversals and odd rows decoded whole).

        An event's key is read from the head of its JSON; whoever takes the event in that
        order checks its decoded date against the key (`Reorder`, `timeline`)."""
        keys = Keys.empty()
        for version, topic, head in self._heads():
            found = _HEAD.match(head) if topic != REVERSAL_TOPIC and head else None
            if found is not None:
                keys.add(version, _date(found[1].decode())[1], None)
                continue
            event = self.at(version)
            keys.add(version, event.effective_date.toordinal(),
                     event.reversed_position if isinstance(event, EventReversed) else None)
        return keys

    def _heads(self) -> Iterator[tuple[int, str, bytes]]:
        """(position, topic, the first bytes of its plain JSON) of every row, in order."""
        recorder, mapper = self.app.recorder, self.app.mapper
        from eventsourcing.sqlite import SQLiteAggregateRecorder

        if (isinstance(recorder, SQLiteAggregateRecorder)
                and not mapper.cipher and not mapper.compressor):
            after = 0
            while True:
                with recorder.datastore.transaction(commit=False) as cursor:
                    cursor.execute(
                        "SELECT originator_version, topic, substr(state, 1, 80) FROM "
                        f"{recorder.events_table_name} WHERE originator_id = ? AND "
                        "originator_version > ? ORDER BY originator_version LIMIT ?",
                        [self.ledger_id.hex, after, READ_BATCH * 4])
                    page = cursor.fetchall()
                for row in page:
                    yield row[0], row[1], bytes(row[2] or b"")
                if len(page) < READ_BATCH * 4:
                    return
                after = page[-1][0]
        for rows in self.batches():
            for row in rows:
                try:
                    head = plain_state(mapper, row)[:80]
                except Exception:  # the full decode says what is wrong with it
                    head = b""
                yield row.originator_version, row.topic, head

    def at(self, position: int) -> LedgerEvent:
        """The event at one position."""
        rows = self.app.recorder.select_events(self.ledger_id, gt=position - 1 or None,
                                               lte=position)
        if not rows:
            raise KeyMismatch(f"position {position} is gone")
        return self.decode(rows[0])

    def timeline(self, keys: Keys, upto: int | None = None) -> Iterator[LedgerEvent]:
        """`ledger.state.timeline` of the events up to `upto`, streamed."""
        order = keys.order(upto)
        rank = array("i", bytes(4 * (keys.count + 1)))
        for index, position in enumerate(order):
            rank[position] = index
        ordinals = keys.ordinals
        skip = array("b", bytes(keys.count + 1))  # marks events wanted by the timeline
        for position in order:
            skip[position] = 1
        buffer: dict[int, LedgerEvent] = {}
        fetched_ahead: set[int] = set()
        cursor = 1  # the next position read in recording order
        last = keys.count if upto is None else min(upto, keys.count)
        for index, position in enumerate(order):
            event = buffer.pop(position, None)
            if event is None and cursor <= position <= cursor + WINDOW:
                while cursor <= position:
                    stop = min(last, max(position, cursor + READ_BATCH - 1))
                    for row in self.app.recorder.select_events(
                            self.ledger_id, gt=cursor - 1 or None, lte=stop):
                        version = row.originator_version
                        if (version in fetched_ahead or not skip[version]
                                or rank[version] - index > WINDOW):
                            fetched_ahead.discard(version)
                            continue  # not wanted, already given, or wanted much later
                        buffer[version] = self.decode(row)
                    cursor = stop + 1
                event = buffer.pop(position, None)
            if event is None:  # far from the reading position: fetched on its own
                rows = self.app.recorder.select_events(self.ledger_id, gt=position - 1 or None,
                                                       lte=position)
                if not rows:
                    raise KeyMismatch(f"position {position} is gone")
                event = self.decode(rows[0])
                if position >= cursor:
                    fetched_ahead.add(position)
            if (event.originator_version != position
                    or event.effective_date.toordinal() != ordinals[position]):
                raise KeyMismatch(f"position {position} changed while it was read")
            yield event
