"""The hash chain: each event's hash covers its position, type, dates, actor, data, its
source when it was imported (where it was first recorded) and the hash of the event recorded
before it.

The canonical form is built from the event's JSON form (what `log --json` and `export`
write), so the same function recomputes the hash of an exported line without rebuilding the
event: `entry_hash` is how an import proves a file is the history that was recorded.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from events import LedgerEvent
from events.codec import event_data, source_data

GENESIS_HASH = "0" * 64

HASHED_KEYS = ("position", "type", "effective_date", "recorded_at", "actor", "data")
"""The keys of an event's JSON form that its hash covers, besides prev_hash and source."""


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical(event: LedgerEvent, prev_hash: str) -> bytes:
    body: dict[str, Any] = {
        "position": event.originator_version,
        "type": type(event).__name__,
        "effective_date": event.effective_date.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "actor": event.actor,
        "data": event_data(event),
        "prev_hash": prev_hash,
    }
    source = source_data(event)
    if source is not None:
        body["source"] = source
    return _canonical(body)


def event_hash(event: LedgerEvent, prev_hash: str) -> str:
    return hashlib.sha256(canonical(event, prev_hash)).hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    """The hash an exported line's content implies (its `hash` if the line is untouched).
    Raises KeyError when the line lacks a key the hash covers."""
    body = {key: entry[key] for key in HASHED_KEYS}
    body["prev_hash"] = entry["prev_hash"]
    if entry.get("source") is not None:
        body["source"] = entry["source"]
    return hashlib.sha256(_canonical(body)).hexdigest()
