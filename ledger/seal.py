"""Sealing many events fast (an import): event, hash and stored form in one pass."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from events import OPTIONAL_FIELDS, VALUE_TYPES, LedgerEvent, Source
from events.codec import at_default, data_field_names, field_names
from ledger.store import DataclassAsDict, DateAsISO


class EventSealer:
    """Builds an event, its hash and its stored form in one pass over its fields.

    What the slow path does in three: the event built by its dataclass `__init__`, its data
    in JSON form for the hash chain (`events.codec.event_data`, then `ledger.chain`), and
    eventsourcing's mapper encoding it for the store (`Mapper.to_stored_event` through the
    transcoder's per-object hook). Here each field is looked at once and both JSON forms are
    built side by side as plain JSON values, so the JSON encoders run without calling back
    into Python. The hash and the stored bytes are the very ones the slow path gives (tests
    prove it for every event type); any value this pass does not know (a reversal's nested
    event, a stray type) makes `seal` return None and the caller take the slow path.
    """

    def __init__(self, mapper: Mapper[UUID] | None = None) -> None:
        self.mapper = mapper
        # The stored form is written only for eventsourcing's JSON transcoder set up as the
        # store sets it up (compact separators, no ASCII escaping, these transcodings).
        self.stored = False
        self.names: dict[type, str] = {}
        if mapper is not None:
            transcoder = mapper.transcoder
            types = getattr(transcoder, "types", None)
            encoder = getattr(transcoder, "encoder", None)
            if isinstance(types, dict) and isinstance(encoder, json.JSONEncoder) and (
                encoder.item_separator, encoder.key_separator, encoder.ensure_ascii,
                encoder.sort_keys) == (",", ":", False, False) and encoder.indent is None and all(
                isinstance(types.get(kind), expected) for kind, expected in _EXPECTED.items()
            ):
                self.stored = True
                self.names = {kind: types[kind].name for kind in _EXPECTED}
        names = self.names or dict.fromkeys(_EXPECTED, "")
        # '{"_type_":NAME,"_data_":' for each kind the stored form wraps
        self.wraps = {kind: '{"_type_":' + _text(name) + ',"_data_":'
                      for kind, name in names.items()}

    def seal(
        self, cls: type[LedgerEvent], payload: dict[str, Any], *, originator_id: UUID,
        position: int, on: date, recorded_at: datetime, actor: str, prev_hash: str,
        source: Source | None = None,
    ) -> tuple[LedgerEvent, dict[str, Any], StoredEvent | None] | None:
        """(event, its data in JSON form, its stored form if there is a mapper), or None.

        Both JSON texts are written here piece by piece, each value's JSON text made once:
        what `json.dumps(..., separators=(",", ":"), ensure_ascii=False)` writes (sorted
        keys for the hash), strings escaped by the json module's own function."""
        plan = _plan(cls)
        if plan.class_version != 1:
            return None
        unmatched = len(plan.names) - len(payload)  # an optional field may be left out
        wraps = self.wraps
        attrs: dict[str, Any] = {
            "originator_id": originator_id, "originator_version": position,
            "effective_date": on, "recorded_at": recorded_at, "actor": actor,
            "prev_hash": prev_hash, "hash": "",
        }
        data: dict[str, Any] = {}
        texts: dict[str, str] = {}  # name -> JSON text in the hash's form
        stored: list[str] = []  # '"name":JSON' in the store's form, in field order
        for name, key in zip(plan.names, plan.keys, strict=True):
            try:
                value = payload[name]
            except KeyError:
                if name not in plan.optional:
                    return None
                value = plan.optional[name]  # left out: its default
                unmatched -= 1
            attrs[name] = value
            kind = type(value)
            if kind is str:
                data[name] = value
                text = texts[name] = _text(value)
                stored.append(key + text)
            elif kind is Decimal or kind is date:
                plain = str(value) if kind is Decimal else value.isoformat()
                data[name] = plain
                text = texts[name] = '"' + plain + '"'
                stored.append(key + wraps[kind] + text + "}")
            elif kind is int:
                data[name] = value
                text = texts[name] = int.__repr__(value)
                stored.append(key + text)
            elif value is None or kind is bool:
                data[name] = value
                text = texts[name] = "null" if value is None else "true" if value else "false"
                stored.append(key + text)
            elif kind is tuple:
                items = _items(value, wraps)
                if items is None:
                    return None
                data[name], texts[name], text = items
                stored.append(key + text)
            else:
                return None
            default = plan.optional.get(name, _REQUIRED)
            if default is not _REQUIRED and at_default(value, default):
                del data[name], texts[name]  # stored, but neither in the data nor hashed
        if unmatched:  # a field the class does not have
            return None
        on_text = on.isoformat()
        at_text = recorded_at.isoformat()
        actor_text = _text(actor)
        prev_text = _text(prev_hash)
        # An imported event's source: hashed after recorded_at (keys sorted), stored last
        # (where the slow path's `with_source` puts it).
        hashed_source = stored_source = ""
        if source is not None:
            if type(source.position) is not int or type(source.hash) is not str:
                return None
            position_text, hash_text = int.__repr__(source.position), _text(source.hash)
            hashed_source = ',"source":{"hash":' + hash_text + ',"position":' + position_text + "}"
            stored_source = (',"source":' + wraps[Source] + '{"position":' + position_text
                             + ',"hash":' + hash_text + "}}")
            attrs["source"] = source
        canonical = "".join([
            '{"actor":', actor_text, ',"data":{',
            ",".join([key + texts[name] for name, key in plan.sorted if name in texts]),
            '},"effective_date":"', on_text, '","position":', int.__repr__(position),
            ',"prev_hash":', prev_text, ',"recorded_at":"', at_text, '"', hashed_source,
            ',"type":', plan.type_text, "}",
        ])
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        attrs["hash"] = digest
        event: LedgerEvent = object.__new__(cls)
        event.__dict__.update(attrs)
        if not self.stored or self.mapper is None:
            return event, data, None
        text = "".join([
            '{"effective_date":', wraps[date], '"', on_text, '"},"recorded_at":',
            wraps[datetime], '"', at_text, '"},"actor":', actor_text, ',"prev_hash":',
            prev_text, ',"hash":"', digest, '"', *["," + part for part in stored],
            stored_source, "}",
        ])
        encoded = text.encode("utf8")
        if self.mapper.compressor:
            encoded = self.mapper.compressor.compress(encoded)
        if self.mapper.cipher:
            encoded = self.mapper.cipher.encrypt(encoded)
        return event, data, StoredEvent(originator_id=originator_id, originator_version=position,
                                        topic=plan.topic, state=encoded)


_text: Callable[[str], str] = json.encoder.encode_basestring
"""A string's JSON text as the json module writes it with ensure_ascii=False."""


class _Plan:
    """What sealing needs of an event class, worked out once."""

    def __init__(self, cls: type[LedgerEvent]) -> None:
        self.names = data_field_names(cls)
        self.keys = tuple(_text(name) + ":" for name in self.names)
        self.sorted = tuple(sorted(zip(self.names, self.keys, strict=True)))
        self.type_text = _text(cls.__name__)
        self.topic = get_topic(cls)
        self.class_version = getattr(cls, "class_version", 1)
        self.optional = OPTIONAL_FIELDS.get(cls, {})


_REQUIRED = object()


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type[LedgerEvent]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def _items(
    values: tuple[Any, ...], wraps: dict[type, str]
) -> tuple[list[Any], str, str] | None:
    """A tuple of value objects as (JSON data, its JSON text in the hash's form, in the
    store's form), or None if it holds another kind of value."""
    data: list[Any] = []
    texts: list[str] = []
    stored: list[str] = []
    for item in values:
        kind = type(item)
        keys = _VALUE_KEYS.get(kind)
        if keys is None:
            return None
        fields = vars(item)  # the store writes them in this order, the hash sorted
        if len(fields) != len(keys):
            return None
        item_data: dict[str, Any] = {}
        item_texts: dict[str, str] = {}
        item_stored: list[str] = []
        for name, value in fields.items():
            key = keys.get(name)
            if key is None:
                return None
            vkind = type(value)
            if vkind is str:
                text = _text(value)
            elif vkind is Decimal or vkind is date:
                plain = str(value) if vkind is Decimal else value.isoformat()
                item_data[name] = plain
                text = item_texts[name] = '"' + plain + '"'
                item_stored.append(key + wraps[vkind] + text + "}")
                continue
            elif vkind is int:
                text = int.__repr__(value)
            elif value is None:
                text = "null"
            else:
                return None
            item_data[name] = value
            item_texts[name] = text
            item_stored.append(key + text)
        data.append(item_data)
        texts.append("{" + ",".join([key + item_texts[name]
                                     for name, key in _SORTED_VALUE_KEYS[kind]]) + "}")
        stored.append(wraps[kind] + "{" + ",".join(item_stored) + "}}")
    return data, "[" + ",".join(texts) + "]", "[" + ",".join(stored) + "]"


# Each value type's fields with their JSON keys ('"name":'), and in the hash's order.
_VALUE_KEYS: dict[type, dict[str, str]] = {
    kind: {name: _text(name) + ":" for name in field_names(kind)} for kind in VALUE_TYPES
}
_SORTED_VALUE_KEYS = {kind: tuple(sorted(keys.items())) for kind, keys in _VALUE_KEYS.items()}


_EXPECTED: dict[type, type] = {
    Decimal: DecimalAsStr, date: DateAsISO, datetime: DatetimeAsISO,
    **dict.fromkeys(VALUE_TYPES, DataclassAsDict),
}
