"""The event store: eventsourcing's application, recorder and mapper, set up for a ledger.

One ledger is one aggregate stream: every event is a version of the same originator, so the
version is the event's position, the store's unique (originator, version) key makes
concurrent writers race for a position (the loser re-checks and retries), and the stream is
naturally the order of the hash chain. The chain's head is written by the same transaction
that appends the events, into `finledger_meta`, so deleting the last event is detectable.

The backend is chosen by the target: a file path is SQLite (the embedded default), a
`postgresql://` URL is eventsourcing's PostgreSQL module.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoding,
    find_id_convertor,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import Environment, get_topic, resolve_topic

from events import EVENT_TYPES, VALUE_TYPES, LedgerEvent, with_source
from ledger import timeline
from ledger.ledgers import MAIN_ID
from ledger.location import META_TABLE, Target
from ledger.sqltables import SQLiteTables
from ledger.state import LedgerState, Lot, SeriesState, WarrantState

LEDGER_ID = MAIN_ID  # ledger `main`'s stream; another ledger's is `ledgers.ledger_id(name)`


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class DataclassAsDict(Transcoding):
    """A frozen dataclass nested inside an event, stored as its fields."""

    def __init__(self, cls: type) -> None:
        self.type = cls
        self.name = get_topic(cls)
        self.names = tuple(f.name for f in dataclasses.fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return dict(vars(obj))

    def decode(self, data: dict[str, Any]) -> Any:
        values = {k: _tuples(v) for k, v in data.items()}
        if tuple(values) != self.names:
            # An imported event nested in a reversal carries its source outside its fields.
            source = values.pop("source", None) if "source" not in self.names else None
            # the class refuses what it does not have, or lacks
            return with_source(self.type(**values), source)
        # Exactly the fields, in order: what the frozen dataclass's __init__ would assign
        # one `object.__setattr__` at a time (these classes have no __post_init__).
        obj: Any = object.__new__(self.type)
        obj.__dict__.update(values)
        return obj


class StateAsDict(Transcoding):
    """A mutable state dataclass inside a snapshot, stored as its fields (lists stay lists)."""

    def __init__(self, cls: type) -> None:
        self.type = cls
        self.name = get_topic(cls)

    def encode(self, obj: Any) -> dict[str, Any]:
        return dict(vars(obj))

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


def _tuples(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
"""Dataclasses, dates and times go to the transcodings, as the json module sends them."""


class LedgerTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, byte for byte, with the per-object hooks made cheap.

    The stored form is unchanged (`{"_type_": name, "_data_": ...}` per registered type);
    only the lookups are: one dict hit per object instead of method dispatch and nested
    try blocks, and the plain types decoded by their constructors directly."""

    _PLAIN: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "decimal_str": Decimal,
        "date_iso": date.fromisoformat,
    }
    # The plain types encoded by their own methods directly (what their transcodings call).
    _PLAIN_ENCODE: ClassVar[dict[type, Callable[[Any], Any]]] = {
        DecimalAsStr: str, DateAsISO: date.isoformat, DatetimeAsISO: datetime.isoformat,
    }

    def __init__(self) -> None:
        self._encoders: dict[type, tuple[str, Callable[[Any], Any]]] = {}
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        self._events: set[type] = set()  # the event classes (carried inside a reversal)
        super().__init__()
        self.encoder = json.JSONEncoder(
            default=self._encode_obj, separators=(",", ":"), ensure_ascii=False
        )
        self.decoder = json.JSONDecoder(object_hook=self._decode_obj)

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        encode = self._PLAIN_ENCODE.get(type(transcoding), transcoding.encode)
        if type(transcoding) is DataclassAsDict:
            encode = vars  # its fields as they are (the encoders only read them)
            if issubclass(transcoding.type, LedgerEvent):
                self._events.add(transcoding.type)
        self._encoders[transcoding.type] = (transcoding.name, encode)
        plain = self._PLAIN.get(transcoding.name)
        same = plain is not None and type(transcoding) in (DateAsISO, DecimalAsStr)
        self._decoders[transcoding.name] = plain if same and plain else transcoding.decode

    def encode_event(self, state: dict[str, Any]) -> bytes:
        """`encode` of an event's state (its fields but id and position): the json module's
        bytes, written by orjson (the same bytes, faster), or by the json module for what
        orjson refuses (an integer beyond 64 bits, a lone surrogate) or would write its own
        way (a UUID outside a transcoded value: orjson writes it as text)."""
        if any(type(value) is UUID for value in state.values()):
            return self.encode(state)
        try:
            return orjson.dumps(state, default=self._encode_orjson, option=_PASSTHROUGH)
        except TypeError:  # (orjson.JSONEncodeError is one)
            return self.encode(state)

    def _encode_obj(self, o: Any) -> dict[str, Any]:
        found = self._encoders.get(type(o))
        if found is None:
            return super()._encode_obj(o)  # raises TranscodingNotRegisteredError
        return {"_type_": found[0], "_data_": found[1](o)}

    def _encode_orjson(self, o: Any) -> dict[str, Any]:
        found = self._encoders.get(type(o))
        if found is None:
            return super()._encode_obj(o)  # raises TranscodingNotRegisteredError
        data = found[1](o)
        if type(o) in self._events:
            # orjson writes a UUID as text of its own; the json module hands it to the
            # transcoding (an event carried inside a reversal holds its stream's id)
            data = {k: self._encode_obj(v) if type(v) is UUID else v for k, v in data.items()}
        return {"_type_": found[0], "_data_": data}

    def _decode_obj(self, d: dict[str, Any]) -> Any:
        if len(d) != 2 or "_type_" not in d or "_data_" not in d:
            return d
        name = d["_type_"]
        decode = self._decoders.get(name) if isinstance(name, str) else None
        if decode is None:
            return super()._decode_obj(d)  # raises as eventsourcing does
        return decode(d["_data_"])


class LedgerMapper(Mapper[UUID]):
    """eventsourcing's mapper, its reading split in two so that the hash chain can read a
    row's stored state before any upcaster runs (`decode_state`, then `event_from`); and
    stored JSON has no tuples, so events get back the tuples they were recorded with. An
    event's state is written through orjson (`LedgerTranscoder.encode_event`).

    `event_from` is what `Mapper.to_domain_event` does after decoding, and `to_stored_event`
    what eventsourcing's does (tests pin them equal, for every event type, an upcast row and
    an encrypted ledger: tests/ledger/test_chain_format.py)."""

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.event_from(stored_event, self.decode_state(stored_event))

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """`Mapper.to_stored_event`, an event's state written by `encode_event` (a snapshot
        is written by eventsourcing's own way)."""
        if not isinstance(domain_event, LedgerEvent):
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        transcoder = self.transcoder
        stored = (transcoder.encode_event(state) if isinstance(transcoder, LedgerTranscoder)
                  else transcoder.encode(state))
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return StoredEvent(originator_id=originator_id, originator_version=originator_version,
                           topic=get_topic(type(domain_event)), state=stored)

    def decode_state(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The row's state as the transcoder decodes it (deciphered, decompressed), before
        any upcaster: its fields but the id and position, and class_version if above 1."""
        stored_state = stored_event.state
        try:
            if self.cipher:
                stored_state = self.cipher.decrypt(stored_state)
            if self.compressor:
                stored_state = self.compressor.decompress(stored_state)
            state: dict[str, Any] = self.transcoder.decode(stored_state)
        except Exception as e:
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic "
                f"'{stored_event.topic}', originator_id '{stored_event.originator_id}' and "
                f"originator_version {stored_event.originator_version}: {e}") from e
        return state

    def event_from(self, stored_event: StoredEvent, state: dict[str, Any]) -> Any:
        """The event of a decoded state (`decode_state`), upcast to its class's version."""
        cls = resolve_topic(stored_event.topic)
        id_convertor = find_id_convertor(cls, type(stored_event.originator_id))  # type: ignore[arg-type]
        state["originator_id"] = id_convertor(stored_event.originator_id)
        state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        for key, value in state.items():
            if isinstance(value, list):
                state[key] = tuple(value)
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event


def meta_rows(kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    """The meta rows a save carries (`meta=`: the ledger's chain head, `ledgers.head_rows`),
    written by the very transaction that appends the events."""
    return list(kwargs.get("meta") or ())


def timeline_events(kwargs: dict[str, Any]) -> Sequence[object]:
    """The domain events a save carries (`LedgerApplication.save`), for their timeline rows."""
    return kwargs.get("timeline") or ()


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            *map(timeline.dialect(), timeline.CREATE),
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        timeline.write(c.executemany, timeline_events(kwargs))
        rows = meta_rows(kwargs)
        if rows:
            c.executemany(
                f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                rows,
            )
        return ids

    def read_meta(self) -> dict[str, str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT key, value FROM {META_TABLE}")
            return {row["key"]: row["value"] for row in c.fetchall()}

    @contextmanager
    def bulk_insert(self, originator_id: UUID) -> Iterator[SQLiteBulkInsert]:
        """One transaction for many batches of events (an import): committed when the block
        ends, rolled back, with everything inserted so far, when it raises."""
        with self.datastore.transaction(commit=True) as c:
            yield SQLiteBulkInsert(self, c)

    def write_meta(self, rows: Sequence[tuple[str, str]]) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                list(rows),
            )


class SQLiteBulkInsert:
    """Batches of stored events inserted by one open transaction (see `bulk_insert`)."""

    def __init__(self, recorder: LedgerSQLiteRecorder, cursor: SQLiteCursor) -> None:
        self.recorder = recorder
        self.cursor = cursor

    @property
    def connection(self) -> sqlite3.Connection:
        """The transaction's connection (the read model's tables are written by it too)."""
        return self.cursor.sqlite_cursor.connection

    @property
    def tables(self) -> SQLiteTables:
        """The read-model tables as this transaction sees them (written by it too)."""
        return SQLiteTables(self.connection, own=False)

    def insert(self, stored_events: Sequence[StoredEvent],
               events: Sequence[object] = ()) -> None:
        """The stored events, and the timeline rows of their domain events (`events`)."""
        self.cursor.executemany(self.recorder.insert_events_statement, [
            (s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
             s.originator_version, s.topic, s.state) for s in stored_events])
        timeline.write(self.cursor.executemany, events)

    def select(self, originator_id: UUID, after: int, upto: int | None = None
               ) -> list[StoredEvent]:
        """The events after a position (up to another) as this transaction sees them (its
        own included)."""
        cursor = self.connection.execute(
            f"SELECT originator_version, topic, state FROM {self.recorder.events_table_name} "
            "WHERE originator_id = ? AND originator_version > ? AND originator_version <= ? "
            "ORDER BY originator_version", (originator_id.hex, after, upto or 2**62))
        return [StoredEvent(originator_id=originator_id, originator_version=version,
                            topic=topic, state=state) for version, topic, state in cursor]

    def set_meta(self, rows: Sequence[tuple[str, str]]) -> None:
        """Meta rows (the ledger's new head) written by this transaction."""
        self.cursor.executemany(
            f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            list(rows),
        )


class LedgerApplication(Application[UUID]):
    """eventsourcing's application, configured only by the env it is given."""

    name = "finledger"

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """eventsourcing's save, its ledger events handed to the recorder too (`timeline=`),
        whose insert writes their timeline rows in the same transaction."""
        kwargs.setdefault("timeline", [o for o in objs if isinstance(o, LedgerEvent)])
        return super().save(*objs, **kwargs)

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Deliberately not os.environ: a stray CIPHER_TOPIC must not change a ledger.
        return Environment(name, dict(env or {}))

    def construct_transcoder(self) -> LedgerTranscoder:
        transcoder = LedgerTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def construct_mapper(self) -> Mapper[UUID]:
        return LedgerMapper(
            transcoder=self.construct_transcoder(),
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        for cls in (*VALUE_TYPES, *EVENT_TYPES):
            transcoder.register(DataclassAsDict(cls))
        for state_cls in (LedgerState, SeriesState, Lot, WarrantState):
            transcoder.register(StateAsDict(state_cls))


def sqlite_env(target: Target) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": target.path,
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": get_topic(LedgerSQLiteRecorder),
    }
