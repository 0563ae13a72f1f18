"""The state at the head of the stream, kept cheap to load with eventsourcing's snapshots.

Recording an event dated on or after everything already recorded only needs the state at
the end of the timeline. That state is an eventsourcing "aggregate" (`HeadState`) rebuilt by
`project_head` from the latest snapshot plus the few events after it, so the cost of a
recording does not grow with history. The fold is the very same `LedgerState.apply` the full
timeline check uses; it is exact only while events arrive in effective-date order, so a
back-dated event or a reversal after the snapshot raises `NeedsFullReplay` and the service
falls back to a full timeline fold (and then snapshots the result).

A snapshot is a cache: it carries a digest of the state, position and chain head it claims
(`digest`), checked when it is loaded; a snapshot that fails it, or of another shape, is
never decided from (`NeedsFullReplay`: the stream decides). An event after a sound snapshot
that does not follow the one before it is a damaged ledger (`ChainBroken`), not a cache miss.

A snapshot stores its class by topic (module path): those written while this module was
`ledger.head` name `ledger.head:HeadState`, which `OLD_TOPICS` keeps resolving here.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import typing
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.utils import TopicError, register_topic, resolve_topic

from events import EventReversed, LedgerEvent
from ledger import state as state_module
from ledger.chain import GENESIS_HASH
from ledger.errors import InvariantViolation, StoreError
from ledger.state import LedgerState, Packed, WarrantState

# Bump when LedgerState's shape changes: snapshots of another shape are then ignored
# (the state is rebuilt from events), never misread.
# 6: prices in force, adjusted warrant shares, the common outstanding;
# 7: transfers, redemptions, ownership caps
STATE_VERSION = 7
SNAPSHOT_INTERVAL = 250


class NeedsFullReplay(Exception):
    """The events after the snapshot cannot be folded incrementally (or the snapshot is
    not one to trust: a snapshot is a cache, and on any doubt the stream decides)."""


class ChainBroken(StoreError):
    """An event after a sound snapshot does not follow the one before it."""

    def __init__(self, position: int) -> None:
        super().__init__(
            f"the event at position {position} does not follow the one before it (its "
            "previous hash differs): the ledger was changed outside finledger; nothing was "
            "recorded; run `finledger audit verify`")


class HeadState:
    """Timeline state after the event at `version`, with the chain head hash."""

    def __init__(
        self, id: UUID, version: int, state: LedgerState, head_hash: str, *, fresh: bool = False
    ) -> None:
        self._id = id
        self._version = version
        self.state = state
        self.head_hash = head_hash
        self.state_version = STATE_VERSION
        # True when built by a full replay: worth snapshotting at once.
        self.fresh = fresh
        # Events folded after the snapshot it was loaded from (not part of the state).
        self.folded = 0

    @property
    def id(self) -> UUID:
        return self._id

    @property
    def version(self) -> int:
        return self._version

    @property
    def last_date(self) -> date | None:
        return self.state.last_date


OLD_TOPICS = ("ledger.head:HeadState",)
"""Topics `HeadState` was stored under before this module was renamed (snapshots keep them)."""


def register_old_topics() -> None:
    """Let snapshots stored under an old topic load as `HeadState` (again after eventsourcing's
    topic cache was cleared)."""
    for topic in OLD_TOPICS:
        try:
            resolve_topic(topic)
        except TopicError:  # not yet registered: the old module no longer exists
            register_topic(topic, HeadState)


def fold_event(head: HeadState, event: LedgerEvent) -> None:
    """Apply one event at the head, or refuse when only a full replay is exact."""
    if event.originator_version != head.version + 1:
        raise NeedsFullReplay(f"gap before position {event.originator_version}")
    if event.prev_hash != head.head_hash:
        raise ChainBroken(event.originator_version)
    if isinstance(event, EventReversed):
        raise NeedsFullReplay("a reversal")
    last = head.state.last_date
    if last is not None and event.effective_date < last:
        raise NeedsFullReplay("a back-dated event")
    try:
        head.state.apply(event)
    except InvariantViolation as exc:
        raise NeedsFullReplay(str(exc)) from None
    head._version = event.originator_version
    head.head_hash = event.hash


def project_head(head: HeadState | None, items: Iterable[Any]) -> HeadState | None:
    """eventsourcing projector: the snapshot (if any) first, then the events after it."""
    for item in items:
        if isinstance(item, Snapshot):
            register_old_topics()
            restored: object = item.mutate(None)
            if not isinstance(restored, HeadState) or getattr(restored, "state_version", None) != STATE_VERSION:
                raise NeedsFullReplay("snapshot of another state version")
            if getattr(restored, "digest", None) != _digest_or_none(restored):
                raise NeedsFullReplay("a damaged snapshot")
            restored.state = expand(restored.state)
            restored.folded = 0
            head = restored
            continue
        if head is None:
            head = HeadState(item.originator_id, 0, LedgerState(), GENESIS_HASH)
        fold_event(head, item)
        head.folded += 1
    return head


def take(head: HeadState) -> Snapshot:
    """A snapshot of the head, its many small records (warrants, closing references) packed
    as rows of plain values: decoding one then costs a JSON parse, not an object per field."""
    snapshot = Snapshot.take(head)
    packed = pack(head.state)
    snapshot.state["state"] = packed
    snapshot.state["digest"] = digest(head.version, head.head_hash, packed)
    return snapshot


def digest(version: int, head_hash: str, packed: dict[str, Any]) -> str:
    """A hash of the state a snapshot claims, with the position and chain head it claims it
    at: checked when the snapshot is loaded, so a damaged one is never decided from."""
    fields = packed["packed"]
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{version}\n{head_hash}\n{fields['last_date']!r}\n{fields['series']!r}\n".encode())
    h.update(f"{fields['common']!r}\n{fields['baseline_on']!r}\n{fields['protected']!r}\n"
             .encode())
    # what the ownership cap reads, and the references of transfers and redemptions
    h.update(repr([fields.get(name) for name in ("holder_common", "refs")]).encode())
    h.update(fields["warrants"].encode())
    h.update(b"\n\n")
    h.update(fields["closings"].encode())
    return h.hexdigest()


def _digest_or_none(head: HeadState) -> str | None:
    try:
        packed: Any = head.state
        return digest(head.version, head.head_hash, packed)
    except Exception:  # a snapshot too damaged to hash is one not to use
        return None


# --- packing the state's large collections -----------------------------------------------



def _to_plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@functools.cache
def _readers(cls: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """For each field of a flat dataclass, how to read its plain value back."""
    hints = typing.get_type_hints(cls, vars(state_module))
    readers: list[tuple[str, Callable[[Any], Any]]] = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        base = args[0]
        reader: Callable[[Any], Any]
        if base is Decimal:
            reader = Decimal
        elif base is date:
            reader = date.fromisoformat
        else:
            reader = _identity
        readers.append((f.name, _optional(reader) if len(args) < len(typing.get_args(hint)) else reader))
    return tuple(readers)


def _identity(value: Any) -> Any:
    return value


def _optional(reader: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else reader(value)


def _warrant_row(w: WarrantState) -> list[Any]:
    return [_to_plain(getattr(w, name)) for name, _ in _readers(WarrantState)]


def _warrant(row: list[Any]) -> WarrantState:
    readers = _readers(WarrantState)
    return WarrantState(**{name: read(v) for (name, read), v in zip(readers, row, strict=True)})


def _closing_row(on: date) -> list[Any]:
    return [on.isoformat()]


def _closing(row: list[Any]) -> date:
    return date.fromisoformat(row[0])


def _text(mapping: Any, row_of: Callable[[Any], list[Any]]) -> str:
    if isinstance(mapping, Packed):
        return mapping.text(row_of)  # lines never read since the last snapshot pass through
    return "".join(Packed.line(key, row_of(value)) for key, value in mapping.items())


def pack(state: LedgerState) -> dict[str, Any]:
    fields = dict(vars(state))
    fields["warrants"] = _text(state.warrants, _warrant_row)
    fields["closings"] = _text(state.closings, _closing_row)
    return {"packed": fields}


def expand(packed: Any) -> LedgerState:
    """The state a snapshot holds; its warrants and closing references are read from their
    rows only when a recording looks one up (`state.Packed`)."""
    if isinstance(packed, LedgerState):
        return packed
    fields = dict(packed["packed"])
    fields["warrants"] = Packed(fields["warrants"], _warrant)
    fields["closings"] = Packed(fields["closings"], _closing)
    return LedgerState(**fields)


register_old_topics()
