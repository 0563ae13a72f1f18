"""The ledger's timeline and the fold that checks every invariant of DOMAIN.md along it.

`timeline(events)` orders what the ledger knows: effective date, ties in recording order,
reversed events and the reversals themselves left out. `LedgerState.apply` folds one event in
and raises `InvariantViolation` naming the event's position when it would break an invariant.
Events carry their computed outcomes, so the fold never recomputes what was decided.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from events import (
    COMMON,
    ClosingCompleted,
    CommonOutstandingReported,
    ConversionRequested,
    DividendDeclared,
    EventReversed,
    LedgerEvent,
    SeriesAuthorizationIncreased,
    SeriesDesignated,
    SharesRedeemed,
    SharesTransferred,
    StockSplit,
    TermsAdjusted,
    WarrantsExercised,
    WarrantsIssued,
    WarrantsTransferred,
)
from ledger.calc import accrual_amount, accrual_numerator, floor_shares, mul, total
from ledger.errors import InvalidEvent, InvariantViolation
from ledger.terms import accrual_start, expired_on, lot_id


def describe(event: LedgerEvent) -> str:
    return f"{type(event).__name__} at position {event.originator_version}"


def reversed_positions(events: Iterable[LedgerEvent]) -> dict[int, int]:
    """Reversed position -> position of the reversal that reversed it."""
    return {
        e.reversed_position: e.originator_version
        for e in events
        if isinstance(e, EventReversed)
    }


def timeline(events: Iterable[LedgerEvent]) -> list[LedgerEvent]:
    """Events in effective-date order (ties in recording order), reversals applied."""
    events = list(events)
    reversed_ = reversed_positions(events)
    kept = [
        e
        for e in events
        if not isinstance(e, EventReversed) and e.originator_version not in reversed_
    ]
    return sorted(kept, key=lambda e: (e.effective_date, e.originator_version))


@dataclass
class Lot:
    """The shares one holder bought in one closing, or received by a transfer (`origin`: the
    lot it came from); `shares` is what is left unconverted. A transferred lot keeps its
    closing and issue date, so it accrues from where its origin did; `rank` (its closing's
    position) orders lots of one issue date oldest first."""

    id: str
    holder: str
    closing: str
    issued_on: date
    shares: int
    origin: str = ""
    rank: int = 0

    @property
    def age(self) -> tuple[date, int]:
        """FIFO order: the oldest issue date first, ties by closing."""
        return self.issued_on, self.rank


@dataclass
class SeriesState:
    terms: SeriesDesignated
    authorized: int
    issued: int = 0
    converted: int = 0
    redeemed: int = 0
    # Open lots only (a lot is dropped once fully converted), in timeline order, and each
    # holder's open lot ids in the same order: a conversion looks at its holder's lots only.
    lots: dict[str, Lot] = field(default_factory=dict)
    holder_lot_ids: dict[str, list[str]] = field(default_factory=dict)
    throughs: list[date] = field(default_factory=list)
    dividends_paid: Decimal = Decimal(0)
    # Highest positions applied so far: of any event that changes what accrues (a closing,
    # conversion or dividend of this series), and of a dividend. An event whose outcome was
    # computed from the state on its date must not find one recorded after it applied first.
    changed_at: int = 0
    dividend_at: int = 0
    # The conversion price in force (the designated one until a split or an adjustment).
    conversion_price: Decimal = Decimal(0)

    @property
    def name(self) -> str:
        return self.terms.series

    def as_converted(self) -> int:
        """Its holders' as-converted common at the price in force (floor per holder)."""
        stated, price = self.terms.stated_value, self.conversion_price
        return sum(floor_shares(mul(shares, stated), price) for shares in self.holdings().values())

    @property
    def outstanding(self) -> int:
        return self.issued - self.converted - self.redeemed

    @property
    def last_through(self) -> date | None:
        return self.throughs[-1] if self.throughs else None

    def holder_lots(self, holder: str) -> list[Lot]:
        """A holder's open lots, oldest first (the order conversions consume them)."""
        lots = self.lots
        return [lots[lot_id] for lot_id in self.holder_lot_ids.get(holder, ())]

    def holdings(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for lot in self.lots.values():
            result[lot.holder] = result.get(lot.holder, 0) + lot.shares
        return result

    def add_lot(self, lot: Lot) -> None:
        """Add an open lot in its holder's FIFO place (a closing's lot is the newest; a
        transferred one goes after the holder's lots as old as it or older)."""
        self.lots[lot.id] = lot
        ids = self.holder_lot_ids.setdefault(lot.holder, [])
        at = len(ids)
        while at > 0 and self.lots[ids[at - 1]].age > lot.age:
            at -= 1
        ids.insert(at, lot.id)

    def take_lots(self, holder: str, shares: int) -> list[tuple[Lot, int]]:
        """FIFO: the holder's lots, oldest first, and how many shares each gives to make up
        `shares` (the caller has checked the holder holds that many)."""
        taken: list[tuple[Lot, int]] = []
        remaining = shares
        for lot in self.holder_lots(holder):
            if remaining == 0:
                break
            take = min(remaining, lot.shares)
            taken.append((lot, take))
            remaining -= take
        return taken

    def held(self, holder: str) -> int:
        return sum(lot.shares for lot in self.holder_lots(holder))

    def drop_lot(self, lot: Lot) -> None:
        """Forget a fully converted lot (nothing refers to an empty lot but to refuse it)."""
        del self.lots[lot.id]
        ids = self.holder_lot_ids[lot.holder]
        ids.remove(lot.id)
        if not ids:
            del self.holder_lot_ids[lot.holder]

    def accrual_start(self, lot: Lot) -> date:
        return accrual_start(lot.issued_on, self.last_through)

    def lot_numerator(self, lot: Lot, shares: int, through: date) -> Decimal:
        t = self.terms
        return accrual_numerator(
            shares, t.stated_value, t.dividend_rate, self.accrual_start(lot), through, t.day_count
        )

    def accrued(self, lots: Iterable[Lot], through: date) -> Decimal:
        """Exact dividends accrued on the given lots up to `through` (not yet rounded)."""
        numerator = total(self.lot_numerator(lot, lot.shares, through) for lot in lots)
        return accrual_amount(numerator, self.terms.day_count)


def shortfall(series: SeriesState, holder: str, shares: int, what: str, on: date) -> str | None:
    """Why `holder` cannot `what` (convert, transfer, redeem) `shares` of `series` on `on`,
    or None when it holds that many: an unknown holder is named as unknown, with the
    series' holders listed."""
    held = series.held(holder)
    if shares <= held:
        return None
    if held == 0:
        holders = ", ".join(sorted(series.holdings())) or "none"
        return (f"{holder!r} holds 0 shares of {series.name!r} on {on}: unknown as a holder "
                f"of it then (its holders: {holders}); give one of them")
    return (f"{holder!r} holds {held:,} shares of {series.name!r} on {on}; it can {what} "
            f"at most that many, not {shares:,}")


@dataclass(frozen=True)
class WarrantState:
    """What the rules need of a warrant (plain values, so snapshots stay small). Frozen: an
    exercise replaces it, so copies of the state share the warrants they have in common."""

    shares: int
    exercise_price: Decimal  # the price in force
    expires: date | None
    issued_on: date
    exercised: int = 0
    adjusted: int = 0  # shares splits and adjustments added (or took away, negative)
    anti_dilution: str = "none"
    price_floor: Decimal | None = None
    # What a transfer copies to the new warrant, and the ownership cap (DOMAIN.md 11, 16).
    holder: str = ""
    label: str = ""
    closing: str | None = None
    exercisable_from: date | None = None
    ownership_cap: Decimal | None = None
    transferred: int = 0  # shares assigned to other holders' new warrants

    @property
    def outstanding(self) -> int:
        return self.shares - self.exercised - self.transferred + self.adjusted

    def exercisable_on(self, on: date) -> bool:
        return self.exercisable_from is None or on >= self.exercisable_from

    def expired_on(self, on: date) -> bool:
        return expired_on(self.expires, on)


V = TypeVar("V")


class Packed(MutableMapping[str, V]):
    """A mapping kept as one text, a row per line, whose values are read into objects one
    by one when first looked up.

    A state loaded from a snapshot holds every warrant and closing reference the ledger ever
    had (177,515 and 148,337 at a million events), and a recording looks up one or two.
    Parsing them as JSON rows took ~0.5 s at a million events; as one string they load at
    the speed of a copy, and a lookup is a substring search for the line that starts with
    the key. Each line is a JSON array `[key, *row]`, so no key or value can break a line
    (JSON escapes newlines inside strings). A key read, replaced or deleted is "gone" from
    the text: its line is stale, and left out when the mapping is written again (`text`).
    """

    def __init__(self, text: str, read: Callable[[list[Any]], V]) -> None:
        self._text = text  # "\n[key,...]" lines
        self._read = read
        self._objects: dict[str, V] = {}  # read (or set) since
        self._gone: set[str] = set()  # keys whose line in the text no longer counts

    @staticmethod
    def line(key: str, row: list[Any]) -> str:
        return "\n" + json.dumps([key, *row], ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def _mark(key: str) -> str:
        return "\n[" + json.dumps(key, ensure_ascii=False) + ","

    def _row(self, key: object) -> list[Any] | None:
        """The row the text holds for `key`, unless gone or absent."""
        if not isinstance(key, str) or key in self._gone:
            return None
        start = self._text.find(self._mark(key))
        if start < 0:
            return None
        end = self._text.find("\n", start + 1)
        row: list[Any] = json.loads(self._text[start + 1:end if end >= 0 else None])
        return row[1:]

    def __getitem__(self, key: str) -> V:
        try:
            return self._objects[key]
        except KeyError:
            row = self._row(key)
            if row is None:
                raise
            obj = self._objects[key] = self._read(row)
            self._gone.add(key)
            return obj

    def __setitem__(self, key: str, value: V) -> None:
        self._objects[key] = value
        self._gone.add(key)

    def __delitem__(self, key: str) -> None:
        if key in self._objects:
            del self._objects[key]
        elif self._row(key) is None:
            raise KeyError(key)
        self._gone.add(key)

    def __contains__(self, key: object) -> bool:
        return key in self._objects or self._row(key) is not None

    def _text_lines(self) -> Iterator[tuple[str, str]]:
        """(key, line) for every line of the text that still counts."""
        for line in self._text.split("\n")[1:]:
            key = _line_key(line)
            if key not in self._gone:
                yield key, line

    def __iter__(self) -> Iterator[str]:
        return iter([*self._objects, *(key for key, _ in self._text_lines())])

    def __len__(self) -> int:
        return len(self._objects) + sum(1 for _ in self._text_lines())

    def text(self, row_of: Callable[[V], list[Any]]) -> str:
        """The whole mapping as text again: lines never read pass through as they are."""
        # (a line left out only when some key is gone; else the text as it is)
        kept = "".join("\n" + line for _, line in self._text_lines()) if self._gone else self._text
        return kept + "".join(self.line(key, row_of(obj)) for key, obj in self._objects.items())

    def copy(self) -> Packed[V]:
        copied = Packed(self._text, self._read)  # str is immutable: shared
        copied._objects = dict(self._objects)  # the values are immutable (dates, warrants)
        copied._gone = set(self._gone)
        return copied


def _line_key(line: str) -> str:
    """The key a `Packed` line starts with (`["key",...`)."""
    close = line.find('"', 2)
    if "\\" not in line[2:close]:  # no escape in the key: it ends at the first quote
        return line[2:close]
    key, _ = json.JSONDecoder().raw_decode(line, 1)
    return str(key)


@dataclass
class LedgerState:
    """What the timeline has established up to the last event applied."""

    series: dict[str, SeriesState] = field(default_factory=dict)
    # Both are plain dicts while folding, `Packed` when loaded from a snapshot.
    warrants: MutableMapping[str, WarrantState] = field(default_factory=dict)
    # Closing reference -> its effective date (what a warrant's --closing is checked against).
    closings: MutableMapping[str, date] = field(default_factory=dict)
    last_date: date | None = None
    # The common outstanding as fully diluted counts it (DOMAIN.md 8): the latest baseline
    # (a reported one, or a split's), plus the common the ledger issued after its date.
    # The ownership cap (DOMAIN.md 16) reads it, with the common issued to each holder.
    common: int = 0
    baseline_on: date | None = None
    # The warrants protected by anti-dilution (what a common closing looks at: not every
    # warrant the ledger ever had), in issue order.
    protected: list[str] = field(default_factory=list)
    # References of the events that are neither closings nor warrants (transfers,
    # redemptions) -> their event type: a reference is never used twice.
    refs: dict[str, str] = field(default_factory=dict)
    holder_common: dict[str, int] = field(default_factory=dict)

    # --- lookups used by commands --------------------------------------------------------

    def ref_in_use(self, ref: str) -> bool:
        return ref in self.closings or ref in self.warrants or ref in self.refs

    def _check_ref_free(self, ref: str, event: LedgerEvent) -> None:
        """A reference (closing, warrant, transfer, redemption) is never used twice."""
        if self.ref_in_use(ref):
            raise self._violation(f"reference {ref!r} is already used; give a new --ref", event)

    def _claim_ref(self, event: LedgerEvent, ref: str) -> None:
        self._check_ref_free(ref, event)
        self.refs[ref] = type(event).__name__

    def common_outstanding(self, on: date) -> int:
        """Common outstanding as fully diluted counts it (DOMAIN.md 8), on the state's own
        date: the latest baseline (reported, or a split's) plus what the ledger issued after
        it. `on` is the date the state was folded to (every caller decides on it)."""
        del on
        return self.common

    def issued_warrant(self, ref: str, on: date, event: LedgerEvent | None = None
                       ) -> WarrantState:
        """The warrant `ref` as of the state's date `on`: refused if none is issued by then."""
        warrant = self.warrants.get(ref)
        if warrant is None:
            raise self._violation(
                f"no warrant {ref!r} is issued on or before {on}; "
                "`finledger report warrants` lists the references", event)
        return warrant

    def check_holding(self, series: SeriesState, holder: str, shares: int, what: str, *,
                      on: date, event: LedgerEvent | None = None) -> None:
        """Refuse unless `holder` holds `shares` of `series` on `on` (to `what` them)."""
        short = shortfall(series, holder, shares, what, on)
        if short is not None:
            raise self._violation(short, event)

    def check_exercisable(self, ref: str, warrant: WarrantState, on: date,
                          event: LedgerEvent | None = None) -> None:
        """A warrant is exercised on or after its exercisable-from date."""
        if not warrant.exercisable_on(on):
            raise self._violation(
                f"warrant {ref!r} is exercisable from {warrant.exercisable_from}; it cannot be "
                f"exercised on {on}", event)

    def check_cashless(self, warrant: WarrantState, market_price: Decimal | None,
                       event: LedgerEvent | None = None) -> None:
        """A cashless exercise needs a market price above the exercise price in force."""
        if market_price is None or market_price <= warrant.exercise_price:
            shown = "" if market_price is None else f", not {market_price}"
            raise self._violation(
                "a cashless exercise needs a market price above the exercise price "
                f"{warrant.exercise_price}{shown}", event)

    def get_series(self, name: str, event: LedgerEvent | None = None) -> SeriesState:
        try:
            return self.series[name]
        except KeyError:
            known = ", ".join(sorted(self.series)) or "none yet"
            raise self._violation(
                f"series {name!r} is not designated (designated series: {known}); "
                "record it first with `record series`",
                event,
            ) from None

    # --- the fold ---------------------------------------------------------------------------

    def copy(self) -> LedgerState:
        """An independent copy: folding into it leaves this state as it is. The warrants and
        closing references (every one the ledger ever had) are immutable values: the copy
        shares them, so it costs a copy of two dicts, not of an object per reference."""
        return LedgerState(
            series={name: _copy(series) for name, series in self.series.items()},
            warrants=_shallow(self.warrants),
            closings=_shallow(self.closings),
            last_date=self.last_date,
            common=self.common,
            baseline_on=self.baseline_on,
            protected=list(self.protected),
            refs=dict(self.refs),
            holder_common=dict(self.holder_common),
        )

    def series_in_order(self) -> list[SeriesState]:
        """Every series in designation order (timeline order, whatever the dict's order)."""
        return sorted(self.series.values(),
                      key=lambda s: (s.terms.effective_date, s.terms.originator_version))

    def warrants_in_order(self, refs: Iterable[str] | None = None) -> list[tuple[str, WarrantState]]:
        """Every warrant (or those of `refs`) by issue date, then reference: one order for
        every way the state was built (a snapshot's warrants are read back in no particular
        order)."""
        chosen = list(self.warrants) if refs is None else list(refs)
        return sorted(((ref, self.warrants[ref]) for ref in chosen),
                      key=lambda item: (item[1].issued_on, item[0]))

    def fully_diluted(self, on: date) -> int:
        """Fully diluted common on `on` (DOMAIN.md 8) from the timeline folded so far: the
        common outstanding, as-converted preferred at the prices in force, and the warrant
        shares outstanding and not expired on `on`."""
        return (self.common + sum(s.as_converted() for s in self.series.values())
                + sum(w.outstanding for w in self.warrants.values() if not w.expired_on(on)))

    def _issue_common(self, event: LedgerEvent, shares: int) -> None:
        """Common the ledger's own event issued: it counts if dated after the baseline."""
        if self.baseline_on is None or event.effective_date > self.baseline_on:
            self.common += shares

    def _credit(self, holder: str, shares: int) -> None:
        """Common the ledger issued to a holder (what the ownership cap counts as its own)."""
        if shares > 0:
            self.holder_common[holder] = self.holder_common.get(holder, 0) + shares

    def _rebase(self, on: date, shares: int) -> None:
        self.common = shares
        self.baseline_on = on

    def apply_all(self, events: Iterable[LedgerEvent]) -> LedgerState:
        for event in events:
            self.apply(event)
        return self

    def apply(self, event: LedgerEvent) -> None:
        self._apply(event)
        if self.last_date is None or event.effective_date > self.last_date:
            self.last_date = event.effective_date

    @staticmethod
    def _violation(message: str, event: LedgerEvent | None) -> InvariantViolation:
        return InvariantViolation(message, event.originator_version if event else None)

    def _series_on(self, name: str, event: LedgerEvent) -> SeriesState:
        series = self.get_series(name, event)
        if event.effective_date < series.terms.effective_date:
            raise self._violation(
                f"{event.effective_date} is before series {name!r} was designated "
                f"({series.terms.effective_date}); use a date on or after it",
                event,
            )
        return series

    def _apply(self, event: LedgerEvent) -> None:
        kind = type(event)
        rule = _RULES.get(kind) or next(
            (_RULES[base] for base in kind.__mro__ if base in _RULES), None
        )
        if rule is None:
            raise TypeError(f"no rule for {kind.__name__}")
        rule(self, event)

    def _designated(self, event: SeriesDesignated) -> None:
        if event.series in self.series:
            raise self._violation(
                f"series {event.series!r} is already designated; choose another name or "
                "use `record authorization` to authorize more shares",
                event,
            )
        if event.series.lower() == COMMON:
            raise InvalidEvent("`common` is reserved for common stock; choose another series "
                               "name", event.originator_version)
        self.series[event.series] = SeriesState(terms=event, authorized=event.authorized,
                                                conversion_price=event.conversion_price)

    def _authorization(self, event: SeriesAuthorizationIncreased) -> None:
        series = self._series_on(event.series, event)
        series.authorized += event.shares

    def _closing(self, event: ClosingCompleted) -> None:
        seen: set[str] = set()
        for allocation in event.allocations:
            if allocation.investor in seen:
                raise InvalidEvent(f"investor {allocation.investor!r} appears more than once; "
                                   "give each investor once", event.originator_version)
            seen.add(allocation.investor)
        self._check_ref_free(event.ref, event)
        if event.security != COMMON:
            series = self._series_on(event.security, event)
            if series.issued + event.shares > series.authorized:
                raise self._violation(
                    f"closing {event.ref!r} would issue {event.shares:,} shares of "
                    f"{series.name!r} but only {series.authorized - series.issued:,} of its "
                    f"{series.authorized:,} authorized shares remain unissued on "
                    f"{event.effective_date}; record an authorization increase first",
                    event,
                )
            series.issued += event.shares
            series.changed_at = max(series.changed_at, event.originator_version)
            for allocation in event.allocations:
                if allocation.shares <= 0:
                    continue  # an empty lot holds nothing to convert or accrue on
                series.add_lot(Lot(
                    id=lot_id(event.ref, allocation.investor),
                    holder=allocation.investor,
                    closing=event.ref,
                    issued_on=event.effective_date,
                    shares=allocation.shares,
                    rank=event.originator_version,
                ))
        else:
            self._issue_common(event, event.shares)
            for allocation in event.allocations:
                self._credit(allocation.investor, allocation.shares)
            for adjustment in event.adjustments:
                if adjustment.instrument == "series":
                    self._set_series_price(adjustment.name, adjustment.old_price,
                                           adjustment.new_price, event)
                else:
                    self._set_warrant_terms(adjustment.name, event,
                                            old_price=adjustment.old_price,
                                            new_price=adjustment.new_price,
                                            old_shares=adjustment.old_shares,
                                            new_shares=adjustment.new_shares)
        self.closings[event.ref] = event.effective_date

    def _warrants(self, event: WarrantsIssued) -> None:
        self._check_ref_free(event.ref, event)
        if event.closing is not None:
            closing = self.closings.get(event.closing)
            if closing is None:
                raise self._violation(
                    f"closing {event.closing!r} is not recorded on or before "
                    f"{event.effective_date}; give the reference of an earlier closing",
                    event,
                )
        if event.expires is not None and event.expires < event.effective_date:
            raise self._violation(
                f"warrant expiry {event.expires} is before its issue date "
                f"{event.effective_date}; an expiry must be on or after issue",
                event,
            )
        self.warrants[event.ref] = WarrantState(
            shares=event.shares,
            exercise_price=event.exercise_price,
            expires=event.expires,
            issued_on=event.effective_date,
            anti_dilution=event.anti_dilution,
            price_floor=event.price_floor,
            holder=event.holder,
            label=event.label,
            closing=event.closing,
            exercisable_from=event.exercisable_from,
            ownership_cap=event.ownership_cap,
        )
        if event.anti_dilution != "none":
            self.protected.append(event.ref)

    def _exercise(self, event: WarrantsExercised) -> None:
        warrant = self.issued_warrant(event.warrant, event.effective_date, event)
        if warrant.expired_on(event.effective_date):
            raise self._violation(
                f"warrant {event.warrant!r} expired on {warrant.expires}; "
                f"it cannot be exercised on {event.effective_date}",
                event,
            )
        self.check_exercisable(event.warrant, warrant, event.effective_date, event)
        if event.shares > warrant.outstanding:
            raise self._violation(
                f"warrant {event.warrant!r} has {warrant.outstanding:,} shares outstanding "
                f"on {event.effective_date}; exercise at most that many, not {event.shares:,}",
                event,
            )
        if event.cashless:
            self.check_cashless(warrant, event.market_price, event)
        self.warrants[event.warrant] = replace(warrant, exercised=warrant.exercised + event.shares)
        self._issue_common(event, event.common_shares)
        self._credit(warrant.holder, event.common_shares)

    def _dividend(self, event: DividendDeclared) -> None:
        series = self._series_on(event.series, event)
        last = series.last_through
        if last is not None and event.through <= last:
            raise self._violation(
                f"series {series.name!r} already has dividends declared through {last}; "
                f"declare through a later date than that, not {event.through}",
                event,
            )
        if event.through > event.effective_date:
            raise self._violation(
                f"dividends cannot be declared through {event.through}, after the declaration "
                f"date {event.effective_date}; declare through a date on or before it",
                event,
            )
        if event.through < series.terms.effective_date:
            raise self._violation(
                f"through date {event.through} is before series {series.name!r} was designated",
                event,
            )
        allowed = series.terms.dividend_form
        if allowed not in ("either", event.form):
            raise self._violation(
                f"series {series.name!r} pays dividends in {allowed} only; use --form {allowed}",
                event,
            )
        if series.changed_at > event.originator_version:
            raise self._violation(
                f"the dividend on {series.name!r} declared {event.effective_date} was computed "
                "without the entry dated on or before it and recorded after it, which changes "
                "what accrues (a closing, conversion or dividend of the series); date that "
                f"entry on or after {event.effective_date}, or reverse the dividend and declare "
                "it again",
                event,
            )
        series.throughs.append(event.through)
        for payment in event.payments:
            self._credit(payment.holder, payment.common_shares)
        series.dividends_paid += event.amount
        self._issue_common(event, event.common_shares)
        series.changed_at = max(series.changed_at, event.originator_version)
        series.dividend_at = max(series.dividend_at, event.originator_version)

    def _conversion(self, event: ConversionRequested) -> None:
        series = self._series_on(event.series, event)
        self.check_holding(series, event.holder, event.shares, "convert",
                           on=event.effective_date, event=event)
        if series.dividend_at > event.originator_version:
            raise self._violation(
                f"the conversion on {event.effective_date} computed its accrued dividends "
                f"without the dividend of {series.name!r} dated on or before it and recorded "
                f"after it; date that dividend on or after {event.effective_date}, or reverse "
                "the conversion and record it again",
                event,
            )
        for part in event.lots:
            lot = series.lots.get(part.lot)
            if lot is None or lot.shares < part.shares or lot.holder != event.holder:
                raise self._violation(
                    f"lot {part.lot!r} no longer holds the {part.shares:,} shares this "
                    "conversion retired",
                    event,
                )
            lot.shares -= part.shares
            if lot.shares == 0:
                series.drop_lot(lot)
        series.converted += event.shares
        series.changed_at = max(series.changed_at, event.originator_version)
        self._issue_common(event, event.common_shares)
        self._credit(event.holder, event.common_shares)

    def _common(self, event: CommonOutstandingReported) -> None:
        """A reported baseline constrains nothing; it is the common outstanding from then."""
        self._rebase(event.effective_date, event.shares)

    # --- terms that change (DOMAIN.md 12-14): the stored old terms must be those in force ---

    def _set_series_price(self, name: str, old: Decimal, new: Decimal,
                          event: LedgerEvent) -> None:
        series = self._series_on(name, event)
        if series.conversion_price != old:
            raise self._violation(
                f"series {name!r} converts at {series.conversion_price} on "
                f"{event.effective_date}, not the {old} this change of terms started from",
                event,
            )
        series.conversion_price = new

    def _set_warrant_terms(self, ref: str, event: LedgerEvent, *, old_price: Decimal,
                           new_price: Decimal, old_shares: int | None,
                           new_shares: int | None) -> None:
        warrant = self.issued_warrant(ref, event.effective_date, event)
        if warrant.exercise_price != old_price or (
                old_shares is not None and warrant.outstanding != old_shares):
            raise self._violation(
                f"warrant {ref!r} has {warrant.outstanding:,} shares outstanding at "
                f"{warrant.exercise_price} on {event.effective_date}, not the "
                f"{old_shares or 0:,} at {old_price} this change of terms started from",
                event,
            )
        delta = 0 if old_shares is None or new_shares is None else new_shares - old_shares
        self.warrants[ref] = replace(warrant, exercise_price=new_price,
                                     adjusted=warrant.adjusted + delta)

    def _split(self, event: StockSplit) -> None:
        for change in event.series:
            self._set_series_price(change.series, change.old_price, change.new_price, event)
        for w in event.warrants:
            self._set_warrant_terms(w.warrant, event, old_price=w.old_price,
                                    new_price=w.new_price, old_shares=w.old_shares,
                                    new_shares=w.new_shares)
        self._rebase(event.effective_date, event.common_after)

    def _adjusted(self, event: TermsAdjusted) -> None:
        on = event.effective_date
        if event.series is not None:
            series = self._series_on(event.series, event)
            if event.old_price == series.conversion_price == event.new_price:
                raise self._violation(
                    f"series {series.name!r} already converts at {series.conversion_price} "
                    f"on {on}; give a different --conversion-price", event)
            self._set_series_price(event.series, event.old_price, event.new_price, event)
        elif event.warrant is not None:
            warrant = self.issued_warrant(event.warrant, on, event)
            if warrant.expired_on(on):
                raise self._violation(
                    f"warrant {event.warrant!r} expired on {warrant.expires}; an expired "
                    f"warrant's terms cannot change on {on}", event)
            if (event.old_price == warrant.exercise_price == event.new_price
                    and event.old_shares == warrant.outstanding == event.new_shares):
                raise self._violation(
                    f"warrant {event.warrant!r} already has {warrant.outstanding:,} shares "
                    f"outstanding at {warrant.exercise_price} on {on}; give a different "
                    "--exercise-price or --shares", event)
            self._set_warrant_terms(event.warrant, event, old_price=event.old_price,
                                    new_price=event.new_price, old_shares=event.old_shares,
                                    new_shares=event.new_shares)

    def _holder_lots_on(self, series: SeriesState, holder: str, shares: int, what: str,
                        event: LedgerEvent) -> None:
        self.check_holding(series, holder, shares, what, on=event.effective_date, event=event)
        if series.dividend_at > event.originator_version:
            raise self._violation(
                f"the {type(event).__name__} on {event.effective_date} was computed without "
                f"the dividend of {series.name!r} dated on or before it and recorded after it; "
                f"date that dividend on or after {event.effective_date}, or reverse the "
                f"{type(event).__name__} and record it again",
                event,
            )

    def _take(self, series: SeriesState, holder: str, parts: Iterable[tuple[str, int]],
              event: LedgerEvent) -> list[Lot]:
        taken: list[Lot] = []
        for taken_id, shares in parts:
            lot = series.lots.get(taken_id)
            if lot is None or lot.shares < shares or lot.holder != holder:
                raise self._violation(
                    f"lot {taken_id!r} no longer holds the {shares:,} shares this "
                    f"{type(event).__name__} took",
                    event,
                )
            lot.shares -= shares
            taken.append(lot)
            if lot.shares == 0:
                series.drop_lot(lot)
        return taken

    def _transfer(self, event: SharesTransferred) -> None:
        series = self._series_on(event.series, event)
        if event.from_holder == event.to_holder:
            raise self._violation(
                f"--from and --to are both {event.from_holder!r}; a transfer moves shares to "
                "another holder", event)
        self._holder_lots_on(series, event.from_holder, event.shares, "transfer", event)
        self._claim_ref(event, event.ref)
        parts = [(part.lot, part.shares) for part in event.lots]
        for part, lot in zip(event.lots, self._take(series, event.from_holder, parts, event),
                             strict=True):
            if part.new_lot in series.lots:
                raise self._violation(f"lot {part.new_lot!r} already exists", event)
            series.add_lot(Lot(id=part.new_lot, holder=event.to_holder, closing=lot.closing,
                               issued_on=lot.issued_on, shares=part.shares, origin=lot.id,
                               rank=lot.rank))
        series.changed_at = max(series.changed_at, event.originator_version)

    def _redemption(self, event: SharesRedeemed) -> None:
        series = self._series_on(event.series, event)
        self._holder_lots_on(series, event.holder, event.shares, "redeem", event)
        self._claim_ref(event, event.ref)
        self._take(series, event.holder, [(p.lot, p.shares) for p in event.lots], event)
        series.redeemed += event.shares
        series.changed_at = max(series.changed_at, event.originator_version)

    def _warrant_transfer(self, event: WarrantsTransferred) -> None:
        warrant = self.issued_warrant(event.warrant, event.effective_date, event)
        if warrant.expired_on(event.effective_date):
            raise self._violation(
                f"warrant {event.warrant!r} expired on {warrant.expires}; it cannot be "
                f"transferred on {event.effective_date}", event)
        if event.holder == warrant.holder:
            raise self._violation(
                f"{event.holder!r} already holds warrant {event.warrant!r}; --to names the new "
                "holder", event)
        if event.shares > warrant.outstanding:
            raise self._violation(
                f"warrant {event.warrant!r} has {warrant.outstanding:,} shares outstanding on "
                f"{event.effective_date}; transfer at most that many, not {event.shares:,}",
                event)
        self._check_ref_free(event.ref, event)
        self.warrants[event.warrant] = replace(
            warrant, transferred=warrant.transferred + event.shares)
        self.warrants[event.ref] = replace(
            warrant, shares=event.shares, exercised=0, transferred=0, adjusted=0,
            holder=event.holder)
        if warrant.anti_dilution != "none":  # the new warrant keeps the old one's protection
            self.protected.append(event.ref)

    def _reversal(self, event: EventReversed) -> None:
        raise self._violation("a reversal is not part of the timeline", event)


def _shallow(mapping: MutableMapping[str, V]) -> MutableMapping[str, V]:
    if isinstance(mapping, Packed):
        return mapping.copy()
    return dict(mapping)


def _copy(value: Any) -> Any:
    """Copy what the fold mutates (dicts, lists, the state dataclasses); share the rest
    (events, dates, numbers and strings never change)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, Packed):
        return value.copy()
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if type(value) in _MUTABLE:
        return type(value)(**{name: _copy(getattr(value, name)) for name in _MUTABLE[type(value)]})
    return value


_MUTABLE: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls))
    for cls in (LedgerState, SeriesState, Lot)
}


# One rule per event type (a dict lookup: cheaper than dispatching through functools).
_RULES: dict[type, Any] = {
    SeriesDesignated: LedgerState._designated,
    SeriesAuthorizationIncreased: LedgerState._authorization,
    ClosingCompleted: LedgerState._closing,
    WarrantsIssued: LedgerState._warrants,
    WarrantsExercised: LedgerState._exercise,
    DividendDeclared: LedgerState._dividend,
    ConversionRequested: LedgerState._conversion,
    CommonOutstandingReported: LedgerState._common,
    EventReversed: LedgerState._reversal,
    StockSplit: LedgerState._split,
    TermsAdjusted: LedgerState._adjusted,
    SharesTransferred: LedgerState._transfer,
    WarrantsTransferred: LedgerState._warrant_transfer,
    SharesRedeemed: LedgerState._redemption,
}

# Events whose rule neither reads nor changes the state, and whose command decides them
# without it: folding one in at the end of the timeline, whatever its date, leaves the same
# state as folding it in at its place (bar `last_date`, which a back-dated event never moves).
# (A reported baseline is no longer one: the state counts the common outstanding from it,
# which a weighted-average adjustment and a split read.)
ORDER_FREE: frozenset[type] = frozenset()


def fold(events: Sequence[LedgerEvent]) -> LedgerState:
    """The state after the whole timeline of `events` (raises on the first violation)."""
    return LedgerState().apply_all(timeline(events))
