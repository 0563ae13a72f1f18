"""Reading a ledger's stream in bounded memory: stored rows in pages, and the timeline
streamed in order without holding it whole.

`stored_batches` pages through the stream in recording order; each page is let go before the
next. `Stream.timeline` is `ledger.state.timeline` over the store: the (effective date,
position) keys are read first (from the head of each row's JSON, a few bytes an event; a
reversal, or a row whose head is not the plain form, is decoded whole), then the events are
fetched in timeline order, most of them in recording order and the few that were back-dated
(or dated far ahead) on demand, so that only a bounded window of decoded events is held.
`Reorder` does the same for events that arrive in recording order anyway (`audit verify`
decodes each row once, for the chain, and hands it on). Whoever takes an event in timeline
order checks its decoded date against its key, so a key misread can never reorder silently.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from events import EventReversed, LedgerEvent
from ledger.errors import StoreError

READ_BATCH = 5000
WINDOW = 20_000  # decoded events held ahead of the timeline at most (besides one batch)

REVERSAL_TOPIC = f"{EventReversed.__module__}:{EventReversed.__name__}"


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


_CACHE_LIMIT = 100_000
_ordinals: dict[bytes, int] = {}


def _ordinal(text: bytes) -> int:
    """The ordinal of an ISO date (cached: a ledger has far fewer dates than events)."""
    found = _ordinals.get(text)
    if found is None:
        if len(_ordinals) >= _CACHE_LIMIT:
            _ordinals.clear()
        found = _ordinals[text] = date.fromisoformat(text.decode()).toordinal()
    return found


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

    def order(self, upto: int | None = None) -> array[int]:
        """The positions of `ledger.state.timeline` of the events up to `upto`."""
        last = self.count if upto is None else min(upto, self.count)
        reversals = [(at, target) for at, target in self.reversals if at <= last]
        left_out = {at for at, _ in reversals} | {target for _, target in reversals}
        ordinals = self.ordinals
        combined = [(ordinals[p] << 32) | p for p in range(1, last + 1) if p not in left_out]
        combined.sort()
        mask = (1 << 32) - 1
        return array("i", [c & mask for c in combined])


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
                keys.add(version, _ordinal(found[1]), None)
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
        wanted = bytearray(keys.count + 1)  # the events the timeline holds
        for position in order:
            wanted[position] = 1
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
                        if (version in fetched_ahead or not wanted[version]
                                or rank[version] - index > WINDOW):
                            fetched_ahead.discard(version)
                            continue  # not wanted, already given, or wanted much later
                        buffer[version] = self.decode(row)
                    cursor = stop + 1
                event = buffer.pop(position, None)
            if event is None:  # far from the reading position: fetched on its own
                event = self.at(position)
                if position >= cursor:
                    fetched_ahead.add(position)
            if (event.originator_version != position
                    or event.effective_date.toordinal() != ordinals[position]):
                raise KeyMismatch(f"position {position} changed while it was read")
            yield event
