"""Plain JSON forms of events: the `data` that `log --json`, `export` and the hash chain use.

Money and prices become strings holding exact decimals, dates ISO strings, share counts
integers. `event_data` and `event_from_data` are inverse for every event type.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from events import EVENTS_BY_NAME, OPTIONAL_FIELDS, VALUE_TYPES, LedgerEvent

ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "effective_date", "recorded_at", "actor",
     "prev_hash", "hash"}
)
_VALUES_BY_NAME = {cls.__name__: cls for cls in VALUE_TYPES}


def to_json_value(value: Any) -> Any:
    """A JSON-ready form of one field value."""
    kind = type(value)
    if kind is str or kind is int or value is None or kind is bool:
        return value
    if kind is Decimal:
        return str(value)
    if kind is date or kind is datetime:
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, LedgerEvent):
        return {
            "position": value.originator_version,
            "type": type(value).__name__,
            "effective_date": value.effective_date.isoformat(),
            "data": event_data(value),
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_fields(value, field_names(kind))
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    return value


_AS_IS = frozenset({str, int, bool, type(None)})


def _json_fields(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """`{name: to_json_value(getattr(obj, name))}`, with the common types done inline."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(obj, name)
        kind = type(value)
        if kind in _AS_IS:
            out[name] = value
        elif kind is Decimal:
            out[name] = str(value)
        elif kind is date:
            out[name] = value.isoformat()
        else:
            out[name] = to_json_value(value)
    return out


def json_data(values: Mapping[str, Any], skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`{name: to_json_value(value)}` for the named values but those in `skip` (a stored
    event's state, as its transcoder decoded it), the common types done inline."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in skip:
            continue
        kind = type(value)
        if kind in _AS_IS:
            out[name] = value
        elif kind is Decimal:
            out[name] = str(value)
        elif kind is date:
            out[name] = value.isoformat()
        else:
            out[name] = to_json_value(value)
    return out


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_DATA_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, in order (looked up once per class)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def data_field_names(cls: type) -> tuple[str, ...]:
    """An event class's own field names (not its envelope), in order."""
    names = _DATA_NAMES.get(cls)
    if names is None:
        names = _DATA_NAMES[cls] = tuple(
            name for name in field_names(cls) if name not in ENVELOPE_FIELDS
        )
    return names


def event_data(event: LedgerEvent) -> dict[str, Any]:
    """The event's own fields (not its envelope) in JSON form; an optional field
    (`events.OPTIONAL_FIELDS`) is left out while it holds its default."""
    data = _json_fields(event, data_field_names(type(event)))
    optional = OPTIONAL_FIELDS.get(type(event))
    if optional:
        for name, default in optional.items():
            if at_default(getattr(event, name), default):
                del data[name]
    return data


def at_default(value: Any, default: object) -> bool:
    """Whether an optional field's value is its default (`False` is not `0`, nor `()` [])."""
    return type(value) is type(default) and value == default


def event_type_name(event: LedgerEvent) -> str:
    return type(event).__name__


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The field types of a dataclass (resolved once: resolving is slow and imports repeat it)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls, vars(__import__("events")))
    return _HINTS[cls]


Converter = Callable[[Any], Any]
_CONVERTERS: dict[Any, Converter] = {}


def from_json_value(hint: Any, value: Any) -> Any:
    """Inverse of `to_json_value` for a field of the given type hint."""
    if value is None:
        return None
    try:
        convert = _CONVERTERS[hint]
    except KeyError:
        convert = _CONVERTERS[hint] = _converter(hint)
    except TypeError:  # an unhashable hint: work it out each time
        convert = _converter(hint)
    return convert(value)


def _same(value: Any) -> Any:
    return value


def _event_value(value: Any) -> LedgerEvent:
    cls = EVENTS_BY_NAME[value["type"]]
    return event_from_data(
        cls,
        value["data"],
        envelope={
            "originator_version": value["position"],
            "effective_date": date.fromisoformat(value["effective_date"]),
        },
    )


def _converter(hint: Any) -> Converter:
    """How to turn a non-null JSON value into a field of type `hint` (worked out once)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        first = args[0]
        return lambda value: from_json_value(first, value)
    if origin is tuple:
        (item,) = typing.get_args(hint)[:1]
        return lambda value: tuple([from_json_value(item, v) for v in value])
    plain: dict[Any, Converter] = {
        Decimal: Decimal, date: date.fromisoformat, datetime: datetime.fromisoformat,
        UUID: UUID, LedgerEvent: _event_value,
    }
    for kind, convert in plain.items():
        if hint is kind:
            return convert
    if isinstance(hint, type) and hint.__name__ in _VALUES_BY_NAME:
        cls = _VALUES_BY_NAME[hint.__name__]
        hints = _hints(cls)
        return lambda value: cls(**{k: from_json_value(hints[k], v) for k, v in value.items()})
    return _same


def event_from_data(
    cls: type[LedgerEvent], data: dict[str, Any], envelope: dict[str, Any] | None = None
) -> LedgerEvent:
    """Rebuild an event from its JSON `data`; envelope fields not given get neutral values."""
    hints = _hints(cls)
    kwargs: dict[str, Any] = {
        "originator_id": UUID(int=0),
        "originator_version": 0,
        "effective_date": date.min,
        "recorded_at": datetime.min,
        "actor": "",
        "prev_hash": "",
        "hash": "",
    }
    kwargs.update(envelope or {})
    for name, value in data.items():
        kwargs[name] = from_json_value(hints[name], value)
    return cls(**kwargs)


def source_data(event: LedgerEvent) -> dict[str, Any] | None:
    """An imported event's `source` in JSON form (what the hash chain covers), else None."""
    source = event.source
    return None if source is None else {"position": source.position, "hash": source.hash}


def log_entry(event: LedgerEvent, reversed_by: int | None = None) -> dict[str, Any]:
    """One event as `log --json` and `export` show it (`source` only on an imported one)."""
    entry = {
        "position": event.originator_version,
        "type": type(event).__name__,
        "effective_date": event.effective_date.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "actor": event.actor,
        "data": event_data(event),
        "reversed_by": reversed_by,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
    source = source_data(event)
    if source is not None:
        entry["source"] = source
    return entry
