"""The application service: the one API through which everything reads and records.

`Ledger.record(command)` decides the command's event against the timeline as of its
effective date, checks that the whole timeline stays valid with it inserted, every stored
outcome after it included (`ledger.decision`), chains its hash to the head and appends it.
If another writer took the position first, it starts again from the new head, so nothing is
lost and no invariant is bypassed by a race. Nothing is appended to a ledger whose recorded
head does not match its last event (`check_head`), and a snapshot decides only when it is
sound and leads to that head; else the stream decides.
"""

from __future__ import annotations

import contextlib
import getpass
import itertools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, Protocol, cast

from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError

from events import EventReversed, LedgerEvent
from ledger.chain import GENESIS_HASH, event_hash, fields_hash, rule_of, stored_fields
from ledger.commands import Command
from ledger.decision import decide_in_timeline, fold_without
from ledger.errors import (
    ConcurrencyConflict,
    DamagedLedger,
    InvariantViolation,
    NotFound,
    StoreError,
)
from ledger.head_snapshot import SNAPSHOT_INTERVAL, HeadState, NeedsFullReplay, project_head, take
from ledger.inputs import clean_name, clean_text
from ledger.keys import KEY_CHECK_ROW, key_check_value, key_fits
from ledger.ledgers import (
    DEFAULT,
    clean_ledger_name,
    has_head,
    head_rows,
    ledger_id,
    own_meta,
)
from ledger.ledgers import names as ledger_names
from ledger.location import (
    FORMAT_VERSION,
    Target,
    check_sqlite_file,
    create_private_file,
    no_space_beside,
    redact,
    remove_sqlite_files,
)
from ledger.state import LedgerState, reversed_positions, timeline
from ledger.store import LedgerApplication, LedgerMapper, sqlite_env
from ledger.stream import Stream

MAX_ATTEMPTS = 200
CIPHER_TOPIC = "eventsourcing.cipher:AESCipher"
COMPRESSOR_TOPIC = "eventsourcing.compressor:ZlibCompressor"


class MetaRecorder(Protocol):
    def read_meta(self) -> dict[str, str]: ...

    def write_meta(self, rows: Sequence[tuple[str, str]]) -> None: ...


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def new_key() -> str:
    """A new AES-256 key for FINLEDGER_KEY."""
    from eventsourcing.cipher import AESCipher

    return AESCipher.create_key(32)


def _unreadable(exc: Exception) -> None:
    """Say in one line that a stored event cannot be decoded, when that is what `exc` is."""
    if type(exc).__name__ == "MapperDeserialisationError":
        raise StoreError(
            "a stored event cannot be read (wrong FINLEDGER_KEY, or the ledger file "
            "was damaged); run `finledger audit verify` with the right key"
        ) from None


class Ledger:
    """One ledger of a store (`ledger`, its name): its stream, its chain, and the rules that
    guard what it records. `follow`, when set, is called inside the transaction that appends
    an event, with the event and that transaction's tables (the read model kept with it)."""

    def __init__(
        self,
        target: str,
        *,
        actor: str | None = None,
        key: str | None = None,
        create: bool = False,
        ledger: str = DEFAULT,
    ) -> None:
        self.target = Target.parse(target)
        self.name = clean_ledger_name(ledger)
        self.id = ledger_id(self.name)
        self.follow: Callable[[Sequence[LedgerEvent], Any], None] | None = None
        self.actor = clean_name(actor, "--actor") if actor is not None else default_actor()
        self.key = key or None
        self._create = create
        self._app: LedgerApplication | None = None
        # The ledger's chain rule (`ledger.chain`), from its format version when it is opened.
        self.rule = rule_of({"format_version": str(FORMAT_VERSION)})
        # The warnings of the last command recorded (`Command.advice`, on its decision state).
        self.advice: tuple[str, ...] = ()

    # --- opening ---------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        if self.target.kind == "sqlite":
            env = sqlite_env(self.target)
        else:
            from ledger.postgres import postgres_env

            env = postgres_env(self.target)
        env["IS_SNAPSHOTTING_ENABLED"] = "y"
        if self.key:
            env["CIPHER_TOPIC"] = CIPHER_TOPIC
            env["CIPHER_KEY"] = self.key
            env["COMPRESSOR_TOPIC"] = COMPRESSOR_TOPIC
        return env

    @property
    def exists(self) -> bool:
        return self.target.exists()

    def open(self, *, create: bool | None = None) -> LedgerApplication:
        if self._app is not None:
            return self._app
        create = self._create if create is None else create
        created = False
        if not self.target.exists():
            if not create:
                raise NotFound(
                    f"no ledger at {self.target.display()!r}; run `finledger init` or record "
                    "an event to create it, or point --db / FINLEDGER_DB at an existing one"
                )
            if self.target.kind == "sqlite":
                create_private_file(self.target.path)
                created = True
        elif self.target.kind == "sqlite":
            check_sqlite_file(self.target.path)
        try:
            app = self._open_app()
            if not create and not has_head(self.recorder.read_meta(), self.name):
                raise NotFound(
                    f"there is no ledger {self.name!r} in {self.target.display()}; "
                    "`finledger ledgers` lists them (recording into a new name creates it)")
            self._build_timeline(app)
            return app
        except BaseException:
            if created:  # a ledger this command could not set up is not left behind
                self.close()
                remove_sqlite_files(self.target.path)
            raise

    def _build_timeline(self, app: LedgerApplication) -> None:
        """The timeline rows a ledger written before them lacks, built on first open (a cache
        of the stream: what cannot be built now, a damaged row, is the stream's to report)."""
        from ledger import timeline

        with contextlib.suppress(Exception):
            timeline.ensure(app, self.id, self._decode, whole=False)

    def _open_app(self) -> LedgerApplication:
        try:
            app = LedgerApplication(env=self._env())
        except ValueError as exc:
            raise StoreError(f"FINLEDGER_KEY is not a valid key ({exc}); make one with "
                             "`finledger keygen`") from None
        except (PersistenceError, OSError) as exc:
            raise StoreError(
                f"cannot open the ledger at {self.target.display()}: {redact(str(exc))}"
            ) from None
        self._app = app
        self._check_meta()
        return app

    def discard_if_empty(self) -> None:
        """Remove the SQLite store file if no ledger of it holds an event (a new store that a
        refused command, such as an import, created for nothing)."""
        if self.target.kind != "sqlite" or self._app is None:
            return
        if self._app.recorder.max_notification_id() is None:  # no ledger of it holds one
            self.close()
            remove_sqlite_files(self.target.path)

    @property
    def recorder(self) -> MetaRecorder:
        app = self.open()
        return app.recorder  # type: ignore[return-value]

    def _check_meta(self) -> None:
        meta = self.recorder.read_meta()
        cipher = self.open().mapper.cipher
        if not meta:
            self.recorder.write_meta(
                [("format_version", str(FORMAT_VERSION)), ("encrypted", "1" if self.key else "0")]
                + ([(KEY_CHECK_ROW, key_check_value(cipher))] if cipher is not None else [])
            )
            self.rule = rule_of({"format_version": str(FORMAT_VERSION)})
            return
        try:
            version = int(meta.get("format_version", "1"))
        except ValueError:
            raise StoreError(
                f"this ledger's format version {meta['format_version']!r} is not a number; "
                "the store was damaged or not written by finledger"
            ) from None
        if version > FORMAT_VERSION:
            raise StoreError(
                f"this ledger was written by a newer finledger (ledger format {version}, this "
                f"program reads up to {FORMAT_VERSION}); upgrade finledger to read it"
            )
        self.rule = rule_of(meta)
        encrypted = meta.get("encrypted") == "1"
        if encrypted and not self.key:
            raise StoreError(
                "this ledger is encrypted; set FINLEDGER_KEY to the key it was created with"
            )
        if not encrypted and self.key:
            raise StoreError(
                "this ledger is not encrypted, but FINLEDGER_KEY is set; unset it to open "
                "this ledger"
            )
        check = meta.get(KEY_CHECK_ROW)
        if cipher is not None and check is not None and not key_fits(cipher, check):
            raise StoreError(
                "FINLEDGER_KEY is not the key this ledger was encrypted with; set it to the "
                "key printed by the `finledger keygen` that created the ledger"
            )

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading ---------------------------------------------------------------------------

    def events(self, *, after: int = 0, limit: int | None = None) -> list[LedgerEvent]:
        """The recorded events after position `after` (at most `limit`), in recording order."""
        app = self.open()
        try:
            return list(
                app.events.get(self.id, gt=after or None, limit=limit)  # type: ignore[arg-type]
            )
        except PersistenceError as exc:
            from ledger.damage import file_damage_line

            damaged = file_damage_line(self.target)
            if damaged is not None:
                raise DamagedLedger(damaged) from None
            raise StoreError(f"cannot read the ledger: {redact(str(exc))}") from None
        except Exception as exc:
            _unreadable(exc)
            raise

    def stream(self) -> Stream:
        """The stream read through the store a page at a time (`ledger.stream.Stream`)."""
        return Stream(self.open(), self.id, self._decode)

    def _decode(self, stored: Any) -> LedgerEvent:
        try:
            event = self.open().mapper.to_domain_event(stored)
        except Exception as exc:
            _unreadable(exc)
            raise
        if not isinstance(event, LedgerEvent):
            raise StoreError("a stored event is not a ledger event; run `finledger audit verify`")
        return event

    def meta(self) -> dict[str, str]:
        """The store's meta as this ledger sees it (`ledgers.own_meta`: its own head)."""
        return own_meta(self.recorder.read_meta(), self.name)

    def ledgers(self) -> list[tuple[str, int, str]]:
        """Every ledger of the store: its name, event count (its head position: positions
        run 1 to N) and head hash, by name."""
        meta = self.recorder.read_meta()
        found = []
        for name in ledger_names(meta):
            seen = own_meta(meta, name)
            raw = seen.get("head_position", "0")
            found.append((name, int(raw) if raw.isdigit() else 0,
                          seen.get("head_hash", GENESIS_HASH)))
        return found

    def head(self) -> tuple[int, str]:
        meta = self.meta()
        return int(meta.get("head_position", "0")), meta.get("head_hash", GENESIS_HASH)

    def state(self, events: Sequence[LedgerEvent] | None = None) -> LedgerState:
        return LedgerState().apply_all(timeline(self.events() if events is None else events))

    def current_state(self) -> LedgerState:
        """The state at the head: from the latest snapshot when one is exact, else replayed
        (for what only needs the names the ledger holds: series, holders, references)."""
        head = self._head()
        return head.state if head is not None else self.state()

    # --- recording -------------------------------------------------------------------------

    def init(self) -> None:
        self.open(create=True)
        if not has_head(self.recorder.read_meta(), self.name):  # a new name: listed, empty
            self.recorder.write_meta(head_rows(self.name, (0, GENESIS_HASH)))

    def record(self, command: Command) -> LedgerEvent:
        """Decide, check and append the command's event: all of it or nothing."""
        self.advice = ()
        return self._append(lambda: self._decide(command))

    def reverse(self, position: int, reason: str) -> LedgerEvent:
        """Append a reversal of the event at `position`, if the history without it holds."""
        reason = clean_text(reason, "--reason", noun="reason")
        return self._append(lambda: self._decide_reversal(position, reason, self.events()))

    def _append(self, decide: Callable[[], tuple[LedgerEvent, HeadState]]) -> LedgerEvent:
        app = self.open(create=True)
        for attempt in range(MAX_ATTEMPTS):
            self.check_head()
            event, after = decide()
            try:
                app.save(event, meta=head_rows(self.name, (event.originator_version, event.hash)),
                         tables=self._following(event))
            except IntegrityError:
                pass  # another writer took this position: decide again from the new head
            except OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    full = "; free some space on its disk and try again" if (
                        self.target.kind == "sqlite" and no_space_beside(self.target.path)) else ""
                    raise StoreError(
                        f"cannot write to the ledger: {redact(str(exc))}{full}; nothing was "
                        "recorded") from None
            else:
                if after.fresh or event.originator_version % SNAPSHOT_INTERVAL == 0:
                    # The event is appended: a snapshot is only a cache, and one that cannot
                    # be written now is taken by a later command; it never fails this one.
                    with contextlib.suppress(Exception):
                        self._snapshot(after)
                return event
            time.sleep(random.uniform(0.001, 0.01) * min(attempt + 1, 20))
        raise ConcurrencyConflict(
            f"other writers kept recording first ({MAX_ATTEMPTS} attempts); try again"
        )

    def _following(self, event: LedgerEvent) -> Callable[[Any], None] | None:
        """What the store calls with the appending transaction's tables (`follow`)."""
        follow = self.follow
        if follow is None:
            return None
        return lambda tables: follow([event], tables)

    def _snapshot(self, head: HeadState) -> None:
        app = self.open()
        if app.snapshots is not None:
            head.fresh = False
            with contextlib.suppress(IntegrityError):  # one is already there (maybe a racer's)
                app.snapshots.put([take(head)])

    def _head(self) -> HeadState | None:
        """The state at the head from the latest snapshot and the events after it, or None
        when only a full replay is exact (or the ledger is empty)."""
        app = self.open()
        try:
            head = app.repository.get(self.id, projector_func=project_head)
        except (NeedsFullReplay, StoreError) as exc:
            if isinstance(exc, StoreError):
                raise
            return None
        except Exception:  # an unreadable snapshot is a cache miss, never an answer (an
            return None  # unreadable event is the stream's to report, read as it is then)
        if not isinstance(head, HeadState):
            return None
        meta = self.meta()  # the head `check_head` found the last event to match
        if (str(head.version), head.head_hash) != (meta.get("head_position"),
                                                   meta.get("head_hash")):
            return None  # a snapshot that does not lead to the chain's head decides nothing
        return head

    def check_head(self) -> None:
        """Refuse to write on a ledger whose recorded head does not match its last event (the
        position, the hash, and that event's content against its hash): what a damaged or
        tampered ledger shows on open. The whole chain is `audit verify`'s to prove."""
        app = self.open()
        for _ in range(MAX_ATTEMPTS):
            # The head read on both sides of the last event: the same twice, no writer
            # committed in between (heads only move on), so the three agree or never will.
            meta = self.meta()
            try:
                rows = app.recorder.select_events(self.id, desc=True, limit=1)
            except PersistenceError as exc:
                raise StoreError(f"cannot read the ledger: {redact(str(exc))}") from None
            if self.meta() == meta:
                break
        raw_position, head_hash = meta.get("head_position", "0"), meta.get("head_hash")
        found = "the ledger is empty"
        if rows:
            position = rows[0].originator_version
            mapper = cast(LedgerMapper, app.mapper)
            try:  # the stored form, before any upcaster, and then the event
                state = mapper.decode_state(rows[0])
                stored = stored_fields(rows[0].topic, state)
                implied = fields_hash(stored, position, stored["prev_hash"], self.rule)
                event = mapper.event_from(rows[0], state)
                last = event if isinstance(event, LedgerEvent) else None
            except Exception:  # a damaged row may fail anywhere in decoding
                last = None
            if last is None:
                found = f"its last event (position {position}) cannot be read"
            elif implied != stored["hash"]:
                found = f"its last event (position {position}) does not match its hash"
            elif (str(position), stored["hash"]) == (raw_position, head_hash):
                return
            else:
                found = f"its last event is at position {position}"
        elif raw_position == "0" and head_hash in (None, GENESIS_HASH):
            return
        raise StoreError(
            f"the ledger's recorded head (position {raw_position}) does not match what it "
            f"holds ({found}): it was changed outside finledger; nothing was recorded; run "
            "`finledger audit verify`")

    def _envelope(
        self, events: Sequence[LedgerEvent], cls: type[LedgerEvent], effective: date,
        payload: dict[str, Any],
    ) -> LedgerEvent:
        prev = events[-1].hash if events else GENESIS_HASH
        return self._envelope_at(len(events), prev, cls, effective, payload)

    def _envelope_at(
        self, previous: int, prev: str, cls: type[LedgerEvent], effective: date,
        payload: dict[str, Any],
    ) -> LedgerEvent:
        position = previous + 1
        draft = cls(
            originator_id=self.id,
            originator_version=position,
            effective_date=effective,
            recorded_at=datetime.now(UTC),
            actor=self.actor,
            prev_hash=prev,
            hash="",
            **payload,
        )
        return replace(draft, hash=event_hash(draft, prev, self.rule))

    def _decide(self, command: Command) -> tuple[LedgerEvent, HeadState]:
        head = self._head()
        on = command.effective_date
        if head is not None and (head.last_date is None or on >= head.last_date):
            # At the end of the timeline: the head state is the state as of `on`, and
            # nothing follows.
            def decide(before: LedgerState) -> LedgerEvent:
                cls, payload = command.decide(before, head.version + 1)
                self.advice = command.advice(before)
                return self._envelope_at(head.version, head.head_hash, cls, on, payload)

            event, _ = decide_in_timeline(head.state, decide, ())
            # A long way from the last snapshot (or none yet): take one with this event.
            fresh = head.folded >= SNAPSHOT_INTERVAL
            return event, HeadState(
                self.id, event.originator_version, head.state, event.hash, fresh=fresh
            )
        return self._decide_streamed(command)

    def snapshot(self, state: LedgerState | None = None, last: LedgerEvent | None = None) -> None:
        """Snapshot the state at the head now (after a bulk append such as an import), so the
        next recording loads it instead of replaying the whole stream. A caller that already
        holds the exact state after `last` (the head) passes both; else it is replayed."""
        if state is None or last is None:
            events = self.events()
            if not events:
                return
            state, last = LedgerState().apply_all(timeline(events)), events[-1]
        self._snapshot(HeadState(self.id, last.originator_version, state, last.hash))

    def _decide_streamed(self, command: Command) -> tuple[LedgerEvent, HeadState]:
        """Decide on the state as of the command's date, then check and fold every later
        event after it (`ledger.decision`): for a back-dated command, or when no snapshot
        can be used. The timeline is read a page at a time (`Stream.timeline`), so the whole
        stream is never held (a million events held took ~4 GB)."""
        stream = self.stream()
        keys = stream.keys()
        count = keys.count
        prev = stream.at(count).hash if count else GENESIS_HASH
        on = command.effective_date
        state = LedgerState()
        ordered = stream.timeline(keys)
        after: list[LedgerEvent] = []
        for earlier in ordered:
            if earlier.effective_date > on:
                after.append(earlier)
                break
            state.apply(earlier)

        def decide(before: LedgerState) -> LedgerEvent:
            cls, payload = command.decide(before, count + 1)
            self.advice = command.advice(before)
            return self._envelope_at(count, prev, cls, on, payload)

        event, state = decide_in_timeline(state, decide, itertools.chain(after, ordered))
        return event, HeadState(self.id, event.originator_version, state, event.hash, fresh=True)

    def _decide_reversal(
        self, position: int, reason: str, events: Sequence[LedgerEvent]
    ) -> tuple[LedgerEvent, HeadState]:
        if position < 1 or position > len(events):
            raise NotFound(
                f"there is no event at position {position}; positions run from 1 to "
                f"{len(events)} (see `finledger log`)"
            )
        target = events[position - 1]
        if isinstance(target, EventReversed):
            raise InvariantViolation(
                f"position {position} is itself a reversal; a reversal is never reversed"
            )
        already = reversed_positions(events)
        if position in already:
            raise InvariantViolation(
                f"position {position} was already reversed by position {already[position]}"
            )
        state = fold_without(target, timeline(e for e in events if e.originator_version != position))
        on = max(
            datetime.now(UTC).date(),
            max((e.effective_date for e in events), default=target.effective_date),
        )
        event = self._envelope(
            events,
            EventReversed,
            on,
            {"reversed_position": position, "reason": reason, "reversed": target},
        )
        return event, HeadState(self.id, event.originator_version, state, event.hash, fresh=True)


__all__ = ["Ledger", "new_key"]
