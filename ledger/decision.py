"""Deciding on a date, then checking every stored outcome that follows: the one path that
`record` (at the end of the timeline or back-dated), `import` and `record reversal` take.

DOMAIN.md 5 and 9: a command is accepted only if the whole timeline with it inserted stays
valid, including every stored outcome after it. An event stores what was computed when it
was recorded (the lots a conversion took and their accrued dividends, each holder's dividend,
the common an exercise issued), so an event that follows an insertion (or a removal: a reversal) is decided
again on the state in front of it, and must come out exactly as stored; then it is folded.

`computed_with` is the reversal dependency rule: which later events computed their stored
outcome with an earlier one in place, and so must be reversed before it. `record reversal`,
`import` and `audit verify` all ask it (through `Footprint`, the few fields it reads).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import ledger.holdings  # noqa: F401  (its commands register in DECIDES)
from events import (
    COMMON,
    ClosingCompleted,
    CommonOutstandingReported,
    ConversionRequested,
    DividendDeclared,
    HolderDividend,
    LedgerEvent,
    LotConversion,
    LotTransfer,
    SharesRedeemed,
    SharesTransferred,
    StockSplit,
    TermsAdjusted,
    WarrantsExercised,
    WarrantsIssued,
    WarrantsTransferred,
)
from ledger.commands import DECIDES, Command, decided_by
from ledger.errors import InvalidInput, InvariantViolation
from ledger.state import LedgerState, describe


def timeline_key(event: LedgerEvent) -> tuple[date, int]:
    """Where an event stands in the timeline: its effective date, ties in recording order."""
    return event.effective_date, event.originator_version


# --- stored outcomes --------------------------------------------------------------------------


def command_class(kind: type[LedgerEvent]) -> type[Command] | None:
    """The command that decides events of `kind` (None: a reversal, which `fold_without`
    decides). Every command registers in `DECIDES`; the holdings' once imported, as here."""
    return DECIDES.get(kind)


def command_of(event: LedgerEvent) -> Command | None:
    """The command that decides `event`'s stored outcome from the state in front of it, for
    the events whose outcome depends on that state (None for the others: `redecides`). An
    authorization increase's `authorized` is the running figure as recorded, not an outcome:
    a back-dated increase before it is accepted (the fold checks the issued shares against
    it)."""
    command = command_class(type(event))
    if command is None or not command.redecides(event):
        return None
    return decided_by(event)


def _show(value: Any) -> str:
    if isinstance(value, tuple) and value and isinstance(value[0], LotConversion | LotTransfer):
        return ", ".join(f"{part.lot} ({part.shares:,})" for part in value)
    if isinstance(value, tuple) and value and isinstance(value[0], HolderDividend):
        return ", ".join(f"{p.holder} {p.amount}" for p in value)
    if isinstance(value, tuple) and not value:
        return "none"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def check_outcome(state: LedgerState, event: LedgerEvent) -> None:
    """Refuse when deciding `event` again on `state` (the timeline in front of it) would not
    compute the outcome it stores."""
    command = command_of(event)
    if command is None:
        return
    try:
        _, payload = command.decide(state, event.originator_version)
    except InvalidInput as exc:  # a stored event that its own command no longer accepts
        raise InvariantViolation(str(exc), event.originator_version) from None
    for name in (f.name for f in fields(event)):
        if name in payload and payload[name] != getattr(event, name):
            raise InvariantViolation(
                f"its {name.replace('_', ' ')} would be {_show(payload[name])}, not the "
                f"{_show(getattr(event, name))} it stores", event.originator_version)


EVERYTHING = ("everything", "")
COMMON_COUNT = ("common", "")


def scope(event: LedgerEvent) -> tuple[str, str] | None:
    """The part of the state an event changes, and the only part its command reads to decide
    its outcome: its series, or its warrant (None: nothing a stored outcome reads). A split
    and a common closing read every price, warrant and the fully diluted count
    (`EVERYTHING`); a split changes every price (a closing, those it adjusted: see `reach`)."""
    if isinstance(event, StockSplit):
        return EVERYTHING
    if isinstance(event, ClosingCompleted):
        return EVERYTHING if event.security == COMMON else ("series", event.security)
    if isinstance(event, CommonOutstandingReported):
        return COMMON_COUNT
    if isinstance(event, TermsAdjusted):
        return ("series", event.series) if event.series is not None else \
            ("warrant", event.warrant or "")
    if isinstance(event, (WarrantsIssued, WarrantsExercised, WarrantsTransferred)):
        # a transfer reads (and changes) the warrant it assigns shares of
        return "warrant", event.ref if isinstance(event, WarrantsIssued) else event.warrant
    series = getattr(event, "series", None)
    return ("series", series) if isinstance(series, str) else None


def reach(event: LedgerEvent) -> tuple[str, str] | None:
    """What an inserted or removed event can change for the outcomes after it: its `scope`,
    but a common closing that adjusted no terms changes only the common count (which the
    splits and common closings after it read)."""
    if isinstance(event, ClosingCompleted) and event.security == COMMON \
            and not event.adjustments:
        return COMMON_COUNT
    return scope(event)


def _meets(changed: tuple[str, str] | None, read: tuple[str, str] | None) -> bool:
    """Whether a change of `changed` can reach an outcome that reads `read`: the same part,
    or either is everything (anything at all changes what a split or a common closing
    reads; a split changes every price)."""
    if changed is None or read is None:
        return False
    if read == EVERYTHING:
        return True
    if read == COMMON_COUNT:
        return False  # a baseline's outcome reads nothing
    return changed in (read, EVERYTHING)


Wording = Callable[[LedgerEvent, InvariantViolation], str]


def fold_following(state: LedgerState, following: Iterable[LedgerEvent], why: Wording,
                   changed: LedgerEvent) -> LedgerState:
    """Fold the events that follow a change of the timeline (`changed` inserted, or taken
    out), each one's stored outcome decided again first where the change can reach it (its
    `scope`: an outcome read elsewhere in the state comes out as before); the first that
    breaks raises, worded by `why(event, problem)`."""
    changes = reach(changed)
    for later in following:
        try:
            try:
                if _meets(changes, scope(later)):
                    check_outcome(state, later)
            except InvariantViolation as changed_outcome:
                state.apply(later)  # an invariant it breaks says more; else the outcome
                raise changed_outcome from None
            state.apply(later)
        except InvariantViolation as exc:
            raise InvariantViolation(why(later, exc), later.originator_version) from None
    return state


def back_dated(on: date) -> Wording:
    def why(later: LedgerEvent, exc: InvariantViolation) -> str:
        return (f"back-dated to {on}, this would invalidate the later {describe(later)} "
                f"({later.effective_date}): {exc}")
    return why


def decide_in_timeline(
    before: LedgerState,
    decide: Callable[[LedgerState], LedgerEvent],
    following: Iterable[LedgerEvent],
) -> tuple[LedgerEvent, LedgerState]:
    """Decide on `before` (every event effective on or before the command's date folded),
    fold the new event in, then every event that follows it with its stored outcome checked.
    Returns the event and the state after the whole timeline (`before`, folded on)."""
    event = decide(before)
    before.apply(event)
    return event, fold_following(before, following, back_dated(event.effective_date), event)


# --- the reversal dependency -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Footprint:
    """What the reversal dependency rule reads of an event (kept per event by verify)."""

    kind: type[LedgerEvent]
    series: str | None
    holder: str | None
    effective_date: date
    position: int
    # The prices (`series:NAME`, `warrant:REF`) the event set, and those its stored outcome
    # was computed with (`*`: every price in force, as a split's).
    sets: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()

    @classmethod
    def of(cls, event: LedgerEvent) -> Footprint:
        series = getattr(event, "series", None)
        if isinstance(event, ClosingCompleted):
            series = event.security
        holder = event.holder if isinstance(event, ConversionRequested) else None
        sets, reads = prices_of(event)
        return cls(type(event), sys.intern(series) if isinstance(series, str) else None,
                   sys.intern(holder) if isinstance(holder, str) else None,
                   event.effective_date, event.originator_version, sets, reads)

    @property
    def key(self) -> tuple[date, int]:
        return self.effective_date, self.position


# Which later events store an outcome computed with an earlier event of the same series.
_COMPUTED_WITH: dict[type[LedgerEvent], tuple[type[LedgerEvent], ...]] = {
    # each holder's accrual: every closing, conversion and earlier dividend of its series
    DividendDeclared: (ClosingCompleted, ConversionRequested, DividendDeclared,
                       SharesTransferred, SharesRedeemed),
    # the accrued dividends (from the last dividend) and the lots FIFO leaves to take
    # (after the holder's earlier conversions, and any transfer or redemption of the series)
    ConversionRequested: (DividendDeclared, ConversionRequested, SharesTransferred,
                          SharesRedeemed),
    # a transfer and a redemption take lots FIFO (and store their accrual) as a conversion does
    SharesTransferred: (DividendDeclared, ConversionRequested, SharesTransferred,
                        SharesRedeemed),
    SharesRedeemed: (DividendDeclared, ConversionRequested, SharesTransferred, SharesRedeemed),
}


# The kinds whose stored outcome reads earlier events (the only ones a reversal can wait for).
READERS = frozenset(_COMPUTED_WITH)


EVERY_PRICE = "*"


def prices_of(event: LedgerEvent) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the prices `event` set, the prices its stored outcome used), as `Footprint` keeps
    them: a conversion uses its series' price, an exercise its warrant's; a split sets every
    price it lists and uses them all; a closing's anti-dilution adjustments and a change by
    hand set and use the prices they changed (each stores the old one)."""
    if isinstance(event, ConversionRequested):
        return (), (f"series:{event.series}",)
    if isinstance(event, WarrantsExercised):
        return (), (f"warrant:{event.warrant}",)
    if isinstance(event, StockSplit):
        changed = (*(f"series:{c.series}" for c in event.series),
                   *(f"warrant:{c.warrant}" for c in event.warrants))
        return changed, (EVERY_PRICE,)
    if isinstance(event, ClosingCompleted) and event.adjustments:
        changed = tuple(f"{a.instrument}:{a.name}" for a in event.adjustments)
        return changed, changed
    if isinstance(event, TermsAdjusted):
        key = f"series:{event.series}" if event.series is not None else f"warrant:{event.warrant}"
        return (key,), (key,)
    return (), ()


def used_price(later: Footprint, target: Footprint) -> bool:
    """Whether `later` (after `target`) computed its outcome with a price `target` set."""
    if not target.sets or not later.reads or later.key <= target.key:
        return False
    return EVERY_PRICE in later.reads or not set(target.sets).isdisjoint(later.reads)


def computed_with(later: Footprint, target: Footprint) -> bool:
    """Whether `later` stores an outcome computed with `target` in place: `later` comes after
    `target` in the timeline (a tie on the date goes by recording order), and either used a
    price `target` set (a split, an anti-dilution adjustment, a change by hand: `used_price`),
    or is in the same series and its kind reads what `target`'s kind changed (a conversion
    reads another conversion only of its own holder). Such a target is reversed only once
    `later` is."""
    if used_price(later, target):
        return True
    if later.key <= target.key or target.series is None or later.series != target.series:
        return False
    if target.kind not in _COMPUTED_WITH.get(later.kind, ()):
        return False
    return not (later.kind is ConversionRequested and target.kind is ConversionRequested
                and later.holder != target.holder)


def first_dependent(target: LedgerEvent, events: Iterable[LedgerEvent]) -> LedgerEvent | None:
    """The first of `events` (the live ones, in timeline order) computed with `target`."""
    mark = Footprint.of(target)
    return next((e for e in events if computed_with(Footprint.of(e), mark)), None)


def dependent_refusal(target: LedgerEvent, dependent: LedgerEvent) -> InvariantViolation:
    return InvariantViolation(
        f"cannot reverse {describe(target)}: the later {describe(dependent)} "
        f"({dependent.effective_date}) computed its amounts with it; reverse that first",
        dependent.originator_version)


def fold_without(target: LedgerEvent, ordered: Iterable[LedgerEvent]) -> LedgerState:
    """The timeline without `target` (`ordered`: the live events left, in order), folded:
    refused when a live event computed with it, or when an event after it no longer holds
    (its invariants, or its stored outcome decided again)."""
    ordered = list(ordered)
    dependent = first_dependent(target, ordered)
    if dependent is not None:
        raise dependent_refusal(target, dependent)
    mark = timeline_key(target)
    index = next((i for i, e in enumerate(ordered) if timeline_key(e) > mark), len(ordered))
    state = LedgerState().apply_all(ordered[:index])  # what comes before it stays as it was

    def why(later: LedgerEvent, exc: InvariantViolation) -> str:
        return f"cannot reverse {describe(target)}: the later {describe(later)} depends on it ({exc})"

    return fold_following(state, ordered[index:], why, target)
