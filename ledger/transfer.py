"""Export and import: the ledger's events as JSON lines, and back again, all or nothing.

An export line is an event as `log --json` shows it. An import line needs only `type`,
`effective_date` and `data`: each line becomes the command that would have recorded it by
hand, decided against the ledger as of its date and checked against the whole timeline, and
the outcome the line states (common shares, cash in lieu, each holder's dividend...) must be
the outcome recomputed, so an import never silently changes history. Every event is then
appended in one transaction: a refused line, or a killed import, appends nothing.

The check is incremental: one `LedgerState` is carried along and only a line dated before
the latest effective date so far (a back-dated entry) or a reversal rebuilds it, so a long
export in recording order imports in seconds.
"""

from __future__ import annotations

import json
import sys
import typing
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError

import events as events_module
from events import (
    EVENTS_BY_NAME,
    ClosingCompleted,
    CommonOutstandingReported,
    ConversionRequested,
    DividendDeclared,
    EventReversed,
    LedgerEvent,
    SeriesAuthorizationIncreased,
    SeriesDesignated,
    WarrantsExercised,
    WarrantsIssued,
)
from events.codec import event_data, from_json_value, log_entry
from ledger.bulk import paused_gc
from ledger.chain import GENESIS_HASH, event_hash
from ledger.commands import (
    Command,
    DeclareDividend,
    DesignateSeries,
    ExerciseWarrants,
    IncreaseAuthorization,
    IssueWarrants,
    RecordClosing,
    ReportCommonOutstanding,
    RequestConversion,
    clean_name,
)
from ledger.errors import (
    ConcurrencyConflict,
    InvalidInput,
    InvariantViolation,
    LedgerError,
    NotFound,
    StoreError,
)
from ledger.state import ORDER_FREE, LedgerState, describe, reversed_positions, timeline
from ledger.target import redact

Progress = Callable[[str, int, int], None]
"""Called as (phase, done, total) while an import runs."""


# --- export ----------------------------------------------------------------------------------


def export_lines(events: Sequence[LedgerEvent]) -> Iterator[str]:
    """Every event with its metadata, one JSON object a line, in recording order."""
    reversals = reversed_positions(events)
    for event in events:
        entry = log_entry(event, reversals.get(event.originator_version))
        yield json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"


# --- import: lines to commands ---------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One line of an import file: which line, and what it says happened."""

    line: int
    index: int
    position: int
    cls: type[LedgerEvent]
    effective_date: date
    data: dict[str, Any]


def parse_line(line: int, index: int, text: str) -> Entry:
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"not a JSON object ({exc})") from None
    if not isinstance(obj, dict):
        raise InvalidInput("not a JSON object; each line is one event as `export` writes it")
    for key in ("type", "effective_date", "data"):
        if key not in obj:
            raise InvalidInput(f"{key!r} is missing; a line needs type, effective_date and data")
    cls = EVENTS_BY_NAME.get(obj["type"]) if isinstance(obj["type"], str) else None
    if cls is None:
        raise InvalidInput(f"{obj['type']!r} is not an event type; use one of "
                           f"{', '.join(EVENTS_BY_NAME)}")
    try:
        effective = date.fromisoformat(obj["effective_date"])
    except (TypeError, ValueError):
        raise InvalidInput(f"effective_date {obj['effective_date']!r} is not a date "
                           "YYYY-MM-DD") from None
    if not isinstance(obj["data"], dict):
        raise InvalidInput("'data' is not a JSON object")
    position = obj.get("position", index)
    if isinstance(position, bool) or not isinstance(position, int):
        raise InvalidInput(f"position {position!r} is not a whole number")
    return Entry(line, index, position, cls, effective, obj["data"])


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The field types of a dataclass (resolved once: resolving is slow and imports repeat it)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls, vars(events_module))
    return _HINTS[cls]


class _Fields:
    """Typed access to a line's `data`, with refusals that name the field."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.hints = _hints(entry.cls)
        unknown = sorted(set(entry.data) - set(self.hints))
        if unknown:
            raise InvalidInput(f"{entry.cls.__name__} has no field {unknown[0]!r}")

        self.typed: dict[str, Any] = {}

    def value(self, name: str, hint: Any = None) -> Any:
        if name not in self.entry.data:
            raise InvalidInput(f"{self.entry.cls.__name__} needs {name!r} in its data")
        return self.typed_value(name, hint)

    def get(self, name: str, default: Any) -> Any:
        return self.typed_value(name, None) if name in self.entry.data else default

    def typed_value(self, name: str, hint: Any = None) -> Any:
        if name not in self.typed:
            raw = self.entry.data[name]
            try:
                self.typed[name] = from_json_value(hint or self.hints[name], raw)
            except (ArithmeticError, AttributeError, KeyError, TypeError, ValueError):
                raise InvalidInput(f"{name} {raw!r} is not a valid value") from None
        return self.typed[name]


def command_for(entry: Entry, f: _Fields | None = None) -> Command:
    """The command that, recorded by hand on the line's date, decides the line's event."""
    f = f or _Fields(entry)
    on = entry.effective_date
    cls = entry.cls
    if cls is SeriesDesignated:
        return DesignateSeries(
            effective_date=on, series=f.value("series"), stated_value=f.value("stated_value"),
            conversion_price=f.value("conversion_price"),
            dividend_rate=f.value("dividend_rate"), authorized=f.value("authorized"),
            par_value=f.get("par_value", Decimal("0")), cumulative=f.get("cumulative", True),
            frequency=f.get("frequency", "quarterly"), day_count=f.get("day_count", "actual/365"),
            dividend_form=f.get("dividend_form", "either"),
            convert_accrued=f.get("convert_accrued", True),
        )
    if cls is SeriesAuthorizationIncreased:
        return IncreaseAuthorization(effective_date=on, series=f.value("series"),
                                     shares=f.value("shares"))
    if cls is ClosingCompleted:
        allocations = f.value("allocations")
        return RecordClosing(
            effective_date=on, security=f.value("security"),
            investors=tuple((a.investor, a.shares) for a in allocations),
            price_per_share=f.get("price_per_share", None), fees=f.get("fees", Decimal("0")),
            ref=f.get("ref", None),
        )
    if cls is WarrantsIssued:
        return IssueWarrants(
            effective_date=on, holder=f.value("holder"), shares=f.value("shares"),
            exercise_price=f.value("exercise_price"), expires=f.get("expires", None),
            label=f.get("label", ""), closing=f.get("closing", None), ref=f.get("ref", None),
        )
    if cls is WarrantsExercised:
        return ExerciseWarrants(
            effective_date=on, warrant=f.value("warrant"), shares=f.value("shares"),
            cashless=f.get("cashless", False), market_price=f.get("market_price", None),
        )
    if cls is DividendDeclared:
        return DeclareDividend(effective_date=on, series=f.value("series"),
                               through=f.value("through"), form=f.value("form"),
                               price=f.get("price", None))
    if cls is ConversionRequested:
        return RequestConversion(effective_date=on, series=f.value("series"),
                                 holder=f.value("holder"), shares=f.value("shares"))
    if cls is CommonOutstandingReported:
        return ReportCommonOutstanding(effective_date=on, shares=f.value("shares"))
    raise InvalidInput(f"{cls.__name__} cannot be imported as a command")


# --- import: checking every line as if recorded by hand --------------------------------------


class Importer:
    """Decides and checks import lines one by one against the ledger they extend."""

    def __init__(self, existing: Sequence[LedgerEvent], *, ledger_id: UUID, actor: str) -> None:
        self.ledger_id = ledger_id
        self.actor = actor
        self.offset = len(existing)
        self.events: list[LedgerEvent] = list(existing)
        self.new: list[LedgerEvent] = []
        self.state = LedgerState().apply_all(timeline(existing))
        self.positions: dict[int, int] = {}
        # The timeline in order with state checkpoints, built at the first back-dated line.
        self.trail: _Trail | None = None

    @property
    def head(self) -> tuple[int, str]:
        last = self.events[-1] if self.events else None
        return (last.originator_version, last.hash) if last else (0, GENESIS_HASH)

    def _envelope(self, cls: type[LedgerEvent], on: date, payload: dict[str, Any]) -> LedgerEvent:
        position, prev = self.head
        event = cls(
            originator_id=self.ledger_id, originator_version=position + 1, effective_date=on,
            recorded_at=datetime.now(UTC), actor=self.actor, prev_hash=prev, hash="", **payload,
        )
        # The hash covers everything but itself: seal the event just built (no one else has
        # seen it yet) rather than building it a second time with `replace`.
        object.__setattr__(event, "hash", event_hash(event, prev))
        return event

    def add(self, entry: Entry) -> LedgerEvent:
        if entry.position in self.positions:
            raise InvalidInput(f"position {entry.position} appears twice in the file")
        event = self._reversal(entry) if entry.cls is EventReversed else self._record(entry)
        self.events.append(event)
        self.new.append(event)
        self.positions[entry.position] = event.originator_version
        return event

    def _record(self, entry: Entry) -> LedgerEvent:
        fields = _Fields(entry)
        command = command_for(entry, fields)
        on = entry.effective_date
        latest = self.state.last_date
        if latest is None or on >= latest or entry.cls in ORDER_FREE:
            # Everything known is effective on or before `on`: the carried state is the
            # state as of `on`, and no later event can be invalidated. An order-free event
            # (its rule neither reads nor changes the state) may be folded in at the end
            # even when back-dated: the state comes out as a full replay would leave it.
            cls, payload = command.decide(self.state, self.head[0] + 1)
            event = self._envelope(cls, on, payload)
            self.state.apply(event)
            _same_outcome(fields, event)
            if self.trail is not None:
                self.trail.add(event)
            return event
        # Back-dated: decide on the state as of `on` (from the nearest checkpoint before it),
        # then fold every later event again after it, exactly as a full replay would.
        trail = self._trail()
        state, index, taken = trail.state_at(on)
        cls, payload = command.decide(state, self.head[0] + 1)
        event = self._envelope(cls, on, payload)
        state.apply(event)
        for offset, later in enumerate(trail.ordered[index:]):
            try:
                state.apply(later)
            except InvariantViolation as exc:
                raise InvariantViolation(
                    f"back-dated to {on}, this would invalidate the later {describe(later)} "
                    f"({later.effective_date}): {exc}", later.originator_version,
                ) from None
            trail.maybe_keep(taken, index + offset + 2, state)
        _same_outcome(fields, event)
        trail.insert(index, event, taken)
        self.state = state
        return event

    def _trail(self) -> _Trail:
        if self.trail is None:
            self.trail = _Trail(timeline(self.events))
        return self.trail

    def _reversal(self, entry: Entry) -> LedgerEvent:
        f = _Fields(entry)
        file_position = f.value("reversed_position", int)
        if isinstance(file_position, bool) or not isinstance(file_position, int):
            raise InvalidInput(f"reversed_position {file_position!r} is not a position")
        reason = clean_name(str(f.value("reason", str)), "reason")
        position = self.positions.get(file_position)
        if position is None:
            raise NotFound(f"it reverses position {file_position}, which is not an earlier "
                           "line of this file")
        target = self.events[position - 1]
        if isinstance(target, EventReversed):
            raise InvariantViolation(f"position {file_position} is itself a reversal; a "
                                     "reversal is never reversed")
        already = reversed_positions(self.events)
        if position in already:
            raise InvariantViolation(f"position {file_position} was already reversed")
        stated = entry.data.get("reversed")
        if isinstance(stated, dict) and stated.get("type") != type(target).__name__:
            raise InvalidInput(f"it says it reverses a {stated.get('type')}, but position "
                               f"{file_position} is a {type(target).__name__}")
        event = self._envelope(EventReversed, entry.effective_date, {
            "reversed_position": position, "reason": reason, "reversed": target})
        state = LedgerState()
        for later in timeline([*self.events, event]):
            try:
                state.apply(later)
            except InvariantViolation as exc:
                raise InvariantViolation(
                    f"cannot reverse {describe(target)}: the later {describe(later)} depends "
                    f"on it ({exc})", later.originator_version,
                ) from None
        self.state = state
        self.trail = None  # the timeline lost an event: rebuilt at the next back-dated line
        return event


class _Trail:
    """The timeline in order, and copies of the state along it (one every `spacing` events
    folded while checking back-dated lines).

    A back-dated line starts from the nearest copy before its date instead of the first
    event. At most MAX_CHECKPOINTS copies are kept: past that, every other one is dropped and
    the spacing doubles, so memory stays bounded."""

    SPACING = 1024
    MAX_CHECKPOINTS = 32

    def __init__(self, ordered: list[LedgerEvent]) -> None:
        self.ordered = ordered
        self.keys = [(e.effective_date, e.originator_version) for e in ordered]
        self.spacing = self.SPACING
        # (how many events of the timeline were folded, the state after them), ascending.
        self.checkpoints: list[tuple[int, LedgerState]] = []

    def add(self, event: LedgerEvent) -> None:
        """An event folded in at the end: dated last, or order-free (state.ORDER_FREE) and
        then put at its place. An order-free event changes no state, so every checkpoint
        still holds, those after it one event further along."""
        key = (event.effective_date, event.originator_version)
        index = bisect_right(self.keys, key)
        self.ordered.insert(index, event)
        self.keys.insert(index, key)
        if index < len(self.keys) - 1:
            self.checkpoints = [(c + 1 if c > index else c, state)
                                for c, state in self.checkpoints]

    def state_at(self, on: date) -> tuple[LedgerState, int, list[tuple[int, LedgerState]]]:
        """A fresh state with every event effective on or before `on` folded in, how many
        that is, and the checkpoints taken on the way (kept only if the line is accepted)."""
        index = bisect_right(self.keys, (on, sys.maxsize))
        found = bisect_right(self.checkpoints, index, key=lambda c: c[0]) - 1
        start, state = (self.checkpoints[found][0], self.checkpoints[found][1].copy()) \
            if found >= 0 else (0, LedgerState())
        taken: list[tuple[int, LedgerState]] = []
        for count, event in enumerate(self.ordered[start:index], start=start + 1):
            state.apply(event)
            self.maybe_keep(taken, count, state)
        return state, index, taken

    def maybe_keep(self, taken: list[tuple[int, LedgerState]], count: int,
                   state: LedgerState) -> None:
        if count % self.spacing == 0:
            taken.append((count, state.copy()))

    def insert(self, index: int, event: LedgerEvent, taken: list[tuple[int, LedgerState]]) -> None:
        """The accepted back-dated event at `index`; checkpoints after it are stale (they
        lack it), those taken while folding it in replace them."""
        self.ordered.insert(index, event)
        self.keys.insert(index, (event.effective_date, event.originator_version))
        kept = [c for c in self.checkpoints if c[0] <= index]
        self.checkpoints = sorted({c[0]: c for c in [*kept, *taken]}.values(),
                                  key=lambda c: c[0])
        while len(self.checkpoints) > self.MAX_CHECKPOINTS:
            self.spacing *= 2
            self.checkpoints = self.checkpoints[1::2]


def _same_outcome(fields: _Fields, event: LedgerEvent) -> None:
    """Refuse a line whose stated outcome is not what recording it computes."""
    for name, raw in fields.entry.data.items():
        if fields.typed_value(name) != getattr(event, name):
            computed = event_data(event)[name]
            raise InvariantViolation(
                f"the file says {name} = {json.dumps(raw)}, but recording it computes "
                f"{json.dumps(computed)}; an import never changes history", None,
            )


def check_lines(
    lines: Sequence[str],
    existing: Sequence[LedgerEvent],
    *,
    ledger_id: UUID,
    actor: str,
    progress: Progress | None = None,
) -> list[LedgerEvent]:
    """Every line decided and checked; the first refused one raises, naming its line."""
    return _checked(lines, existing, ledger_id=ledger_id, actor=actor, progress=progress).new


def _checked(
    lines: Sequence[str],
    existing: Sequence[LedgerEvent],
    *,
    ledger_id: UUID,
    actor: str,
    progress: Progress | None = None,
) -> Importer:
    with paused_gc():
        importer = Importer(existing, ledger_id=ledger_id, actor=actor)
        index = 0
        for number, text in enumerate(lines, start=1):
            if progress is not None and number % 1000 == 0:
                progress("Checking", number, len(lines))
            if not text.strip():
                continue
            index += 1
            try:
                importer.add(parse_line(number, index, text))
            except LedgerError as exc:
                raise type(exc)(f"line {number}: {exc}") from None
    if progress is not None:
        progress("Checking", len(lines), len(lines))
    return importer


def import_lines(
    book: Any,
    lines: Iterable[str],
    *,
    progress: Progress | None = None,
) -> list[LedgerEvent]:
    """Check every line, then append all of its events in one transaction (or none)."""
    from ledger.store import LEDGER_ID

    lines = list(lines)
    app = book.open(create=True)
    importer = _checked(lines, book.events(), ledger_id=LEDGER_ID, actor=book.actor,
                        progress=progress)
    new = importer.new
    if not new:
        return new
    if progress is not None:
        progress("Writing", 0, 1)
    last = new[-1]
    try:
        with paused_gc():
            # What app.save does for plain events (no aggregates, snapshots or listeners
            # here), without its per-event protocol checks: encode, then one transaction.
            stored = [app.mapper.to_stored_event(event) for event in new]
            app.recorder.insert_events(stored, head=(last.originator_version, last.hash))
    except IntegrityError:
        raise ConcurrencyConflict("another writer recorded while this import ran; nothing "
                                  "was imported; run the import again") from None
    except (OperationalError, PersistenceError) as exc:
        raise StoreError(f"cannot write to the ledger; nothing was imported: "
                         f"{redact(str(exc))}") from None
    # The checker already holds the exact state at the new head: snapshot it, so the next
    # recording need not replay what was just imported.
    book.snapshot(importer.state, last)
    if progress is not None:
        progress("Writing", 1, 1)
    return new
