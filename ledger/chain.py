"""The hash chain: each event's hash covers its position, type, dates, actor, data and the
hash of the event recorded before it."""

from __future__ import annotations

import hashlib
import json

from events import LedgerEvent
from events.codec import event_data

GENESIS_HASH = "0" * 64


def canonical(event: LedgerEvent, prev_hash: str) -> bytes:
    body = {
        "position": event.originator_version,
        "type": type(event).__name__,
        "effective_date": event.effective_date.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "actor": event.actor,
        "data": event_data(event),
        "prev_hash": prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: LedgerEvent, prev_hash: str) -> str:
    return hashlib.sha256(canonical(event, prev_hash)).hexdigest()
