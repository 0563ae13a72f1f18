"""Reading a ledger's stream in bounded memory: stored rows in pages, and the timeline
streamed in order without holding it whole.

`stored_batches` pages through the stream in recording order; each page is let go before the
next. `Stream.timeline` is `ledger.state.timeline` over the store: the (effective date,
position) keys are read first (from the timeline table, `ledger.timeline`), then the events are
fetched in timeline order, most of them in recording order and the few that were back-dated
(or dated far ahead) on demand, so that only a bounded window of decoded events is held.
`Reorder` does the same for events that arrive in recording order anyway (`audit verify`
decodes each row once, for the chain, and hands it on). Whoever takes an event in timeline
order checks its decoded date against its key, so a key misread can never reorder silently.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from events import EventReversed, LedgerEvent
from ledger.errors import StoreError

READ_BATCH = 5000
WINDOW = 20_000  # decoded events held ahead of the timeline at most (besides one batch)

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


# --- the timeline over the store -------------------------------------------------------------


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
        """The timeline keys of every event, read from the timeline table (`ledger.timeline`,
        its missing rows built first). Whoever takes an event in that order checks its
        decoded date against the key (`Reorder`, `timeline`); a stream with a gap raises
        `KeyMismatch` (it is read whole)."""
        from ledger import timeline

        if not timeline.ensure(self.app, self.ledger_id, self.decode) \
                and not timeline.complete(self.app, self.ledger_id):
            return self.decoded_keys()
        ordinals, reversals = timeline.read_keys(self.app, self.ledger_id)
        return Keys(ordinals, reversals)

    def decoded_keys(self) -> Keys:
        """The keys from the decoded events (a store whose table cannot be written now)."""
        keys = Keys.empty()
        for event in self.events():
            keys.add(event.originator_version, event.effective_date.toordinal(),
                     event.reversed_position if isinstance(event, EventReversed) else None)
        return keys

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
