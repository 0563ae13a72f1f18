"""The hash chain: each event's hash covers what is stored of it, and the hash of the event
recorded before it.

What a hash covers is the event's stored form in JSON, read before any upcaster runs:
its position, type, dates, actor, data, its source when it was imported (where it was first
recorded) and the previous hash; and, by the rule of a ledger of format 2 or later
(`STORED_RULE`), the stored topic and class version too, so that a row whose class version
or topic was changed no longer verifies. The row's stored state, as the store's transcoder
decodes it and before any upcaster (`ledger.store.LedgerMapper.decode_state`), is put in the
JSON form that `log --json` and `export` write (`stored_fields`), so:

- an event read through an upcaster (a class version bump) verifies: its hash is taken over
  the row as it was written, never over what the current code decodes it into;
- an exported line recomputes to the same hash without the store (`entry_hash`), which is
  how an import proves a file is the history that was recorded (for an event stored at its
  class's current version and topic, as every line of a ledger that was never upcast is);
- an encrypted ledger's hashes are taken over the plaintext JSON (decrypted and
  decompressed first), so verifying needs its key, as reading it does.

A ledger of format 1 (written before format 2 existed) keeps `LEGACY_RULE` for every event,
those appended to it later included: its chain is one rule from end to end, and every hash
it ever recorded recomputes. The two rules' canonical forms differ in their keys, so no
content hashed by one can pass for content hashed by the other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson
from eventsourcing.utils import get_topic

from events import EVENTS_BY_NAME, OPTIONAL_FIELDS, LedgerEvent
from events.codec import ENVELOPE_FIELDS, event_data, json_data, source_data, to_json_value

GENESIS_HASH = "0" * 64

LEGACY_RULE = 1
"""The hash of a format-1 ledger: position, type, dates, actor, data, source, prev_hash."""
STORED_RULE = 2
"""The hash of a format-2 ledger: the legacy keys and the stored topic and class version."""

HASHED_KEYS = ("position", "type", "effective_date", "recorded_at", "actor", "data")
"""The keys of an event's JSON form that every rule covers, besides prev_hash and source."""


def rule_of(meta: Mapping[str, str]) -> int:
    """The chain rule of a ledger, from its meta table's format version."""
    version = meta.get("format_version", "1")
    return STORED_RULE if version.isdigit() and int(version) >= 2 else LEGACY_RULE


def canonical(body: Mapping[str, Any]) -> bytes:
    """The bytes a hash is taken of: `json.dumps(body, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)` in UTF-8, written by orjson (the same bytes, several times faster),
    or by the json module for what orjson refuses (an integer beyond 64 bits, a lone
    surrogate)."""
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # (orjson.JSONEncodeError is one)
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fields_hash(fields: Mapping[str, Any], position: int, prev_hash: str, rule: int) -> str:
    """The hash of an event's JSON form (`stored_fields`, an export line) under `rule`.
    Raises KeyError when a key the rule covers is missing."""
    body = {key: fields[key] for key in HASHED_KEYS[1:]}
    body["position"] = position
    body["prev_hash"] = prev_hash
    if fields.get("source") is not None:
        body["source"] = fields["source"]
    if rule >= STORED_RULE:
        body["topic"] = fields["topic"]
        body["class_version"] = fields["class_version"]
    return hashlib.sha256(canonical(body)).hexdigest()


def event_fields(event: LedgerEvent) -> dict[str, Any]:
    """An event object's JSON form as it will be stored (its class's topic and version)."""
    cls = type(event)
    fields: dict[str, Any] = {
        "type": cls.__name__,
        "topic": get_topic(cls),
        "class_version": getattr(cls, "class_version", 1),
        "effective_date": event.effective_date.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "actor": event.actor,
        "data": event_data(event),
    }
    source = source_data(event)
    if source is not None:
        fields["source"] = source
    return fields


def event_hash(event: LedgerEvent, prev_hash: str, rule: int = STORED_RULE) -> str:
    """The hash of an event about to be stored (sealing it), chained to `prev_hash`."""
    return fields_hash(event_fields(event), event.originator_version, prev_hash, rule)


def entry_hash(entry: Mapping[str, Any], rule: int = STORED_RULE) -> str:
    """The hash an exported line's content implies under `rule` (its `hash` if the line is
    untouched). The line's type names its class, whose topic and version it was stored with.
    Raises KeyError when the line lacks a key the hash covers."""
    fields = dict(entry)
    if rule >= STORED_RULE:
        cls = EVENTS_BY_NAME[entry["type"]]
        fields["topic"] = get_topic(cls)
        fields["class_version"] = getattr(cls, "class_version", 1)
    return fields_hash(fields, entry["position"], entry["prev_hash"], rule)


def entry_verifies(entry: Mapping[str, Any]) -> bool:
    """Does an exported line hash to the `hash` it states, under the rule of either format
    (a file does not say which format its ledger had)? Raises KeyError as `entry_hash`."""
    stated = entry["hash"]
    try:
        if entry_hash(entry, STORED_RULE) == stated:
            return True
    except KeyError:  # e.g. a type no class has: the legacy rule does not need its class
        pass
    return bool(entry_hash(entry, LEGACY_RULE) == stated)


# --- the stored form -------------------------------------------------------------------------


_NOT_DATA = ENVELOPE_FIELDS | {"source", "class_version"}


def stored_fields(topic: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """A stored event's JSON form, from its stored topic and its state as the store's
    transcoder decoded it, before any upcaster (`ledger.store.LedgerMapper.decode_state`):
    the fields its hash covers, and the `hash` and `prev_hash` it states. Transcoding is
    exact both ways (a decimal keeps its digits, a date its text), so this is the stored
    JSON with eventsourcing's type wrappers taken off. Raises on a state too damaged for it."""
    kind = topic.rpartition(":")[2].rpartition(".")[2]
    data = json_data(state, _NOT_DATA)
    cls = EVENTS_BY_NAME.get(kind)
    for name, default in (OPTIONAL_FIELDS.get(cls, {}) if cls is not None else {}).items():
        # a field added later is out of the hashed form while at its default, as
        # `events.codec.event_data` leaves it out of an event's data
        at = [] if isinstance(default, tuple) and not default else default
        if name in data and type(data[name]) is type(at) and data[name] == at:
            del data[name]
    fields: dict[str, Any] = {
        "type": kind,
        "topic": topic,
        "class_version": state.get("class_version", 1),
        "data": data,
    }
    for key in ("effective_date", "recorded_at", "actor", "prev_hash", "hash"):
        if key in state:
            fields[key] = to_json_value(state[key])
    source = state.get("source")
    if source is not None:
        fields["source"] = to_json_value(source)
    return fields
