"""Sealing many events fast (an import): event, hash and stored form in one pass."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from events import VALUE_TYPES, LedgerEvent
from events.codec import data_field_names, field_names
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
        self.canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"),
                                          ensure_ascii=False)
        self.encoder: json.JSONEncoder | None = None
        self.names: dict[type, str] = {}
        if mapper is not None:
            transcoder = mapper.transcoder
            types = getattr(transcoder, "types", None)
            encoder = getattr(transcoder, "encoder", None)
            if isinstance(types, dict) and isinstance(encoder, json.JSONEncoder) and all(
                isinstance(types.get(kind), expected) for kind, expected in _EXPECTED.items()
            ):
                self.encoder = encoder
                self.names = {kind: types[kind].name for kind in _EXPECTED}

    def seal(
        self, cls: type[LedgerEvent], payload: dict[str, Any], *, originator_id: UUID,
        position: int, on: date, recorded_at: datetime, actor: str, prev_hash: str,
    ) -> tuple[LedgerEvent, dict[str, Any], StoredEvent | None] | None:
        """(event, its data in JSON form, its stored form if there is a mapper), or None."""
        names = data_field_names(cls)
        if len(payload) != len(names) or getattr(cls, "class_version", 1) != 1:
            return None
        stored = self.encoder is not None
        type_names = self.names
        attrs: dict[str, Any] = {
            "originator_id": originator_id, "originator_version": position,
            "effective_date": on, "recorded_at": recorded_at, "actor": actor,
            "prev_hash": prev_hash, "hash": "",
        }
        data: dict[str, Any] = {}
        state: dict[str, Any] = {}
        for name in names:
            try:
                value = payload[name]
            except KeyError:
                return None
            attrs[name] = value
            kind = type(value)
            if kind is str or kind is int or kind is bool or value is None:
                data[name] = value
                if stored:
                    state[name] = value
            elif kind is Decimal or kind is date:
                text = str(value) if kind is Decimal else value.isoformat()
                data[name] = text
                if stored:
                    state[name] = {"_type_": type_names[kind], "_data_": text}
            elif kind is tuple:
                items = _items(value, type_names if stored else None)
                if items is None:
                    return None
                data[name], state[name] = items
            else:
                return None
        on_text = on.isoformat()
        at_text = recorded_at.isoformat()
        body = {"position": position, "type": cls.__name__, "effective_date": on_text,
                "recorded_at": at_text, "actor": actor, "data": data, "prev_hash": prev_hash}
        digest = hashlib.sha256(self.canonical.encode(body).encode()).hexdigest()
        attrs["hash"] = digest
        event: LedgerEvent = object.__new__(cls)
        event.__dict__.update(attrs)
        if not stored or self.mapper is None or self.encoder is None:
            return event, data, None
        state = {"effective_date": {"_type_": type_names[date], "_data_": on_text},
                 "recorded_at": {"_type_": type_names[datetime], "_data_": at_text},
                 "actor": actor, "prev_hash": prev_hash, "hash": digest, **state}
        encoded = self.encoder.encode(state).encode("utf8")
        if self.mapper.compressor:
            encoded = self.mapper.compressor.compress(encoded)
        if self.mapper.cipher:
            encoded = self.mapper.cipher.encrypt(encoded)
        return event, data, StoredEvent(originator_id=originator_id, originator_version=position,
                                        topic=_topic(cls), state=encoded)


_TOPICS: dict[type, str] = {}


def _topic(cls: type) -> str:
    topic = _TOPICS.get(cls)
    if topic is None:
        topic = _TOPICS[cls] = get_topic(cls)
    return topic


_VALUE_TYPES = frozenset(VALUE_TYPES)


def _items(
    values: tuple[Any, ...], type_names: dict[type, str] | None
) -> tuple[list[Any], list[Any]] | None:
    """A tuple of value objects as (JSON data, stored form), or None if it holds another
    kind of value."""
    data: list[Any] = []
    state: list[Any] = []
    for item in values:
        kind = type(item)
        if kind not in _VALUE_TYPES:
            return None
        fields = vars(item)
        if tuple(fields) != field_names(kind):
            return None
        item_data: dict[str, Any] = {}
        item_state: dict[str, Any] = {}
        for name, value in fields.items():
            vkind = type(value)
            if vkind is str or vkind is int or vkind is bool or value is None:
                item_data[name] = item_state[name] = value
            elif vkind is Decimal:
                text = str(value)
                item_data[name] = text
                if type_names is not None:
                    item_state[name] = {"_type_": type_names[Decimal], "_data_": text}
            else:
                return None
        data.append(item_data)
        if type_names is not None:
            state.append({"_type_": type_names[kind], "_data_": item_state})
    return data, state


_EXPECTED: dict[type, type] = {
    Decimal: DecimalAsStr, date: DateAsISO, datetime: DatetimeAsISO,
    **dict.fromkeys(VALUE_TYPES, DataclassAsDict),
}
