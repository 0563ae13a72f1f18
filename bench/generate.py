"""A deterministic, realistic financing history of N events, as an export (JSON lines).

Every line is decided by the ledger's own rules: the generator chooses a command (designate a
series, raise its authorization, close with 2-6 investors, issue warrants tied to the
closing, exercise them for cash or cashless, declare quarterly dividends in cash or stock,
convert FIFO, report a common baseline), lets `ledger.commands.*.decide` compute the event,
chains its hash like the service does and folds it into `ledger.state.LedgerState`, which
refuses anything that breaks an invariant. So a generated file is a history a user could
have recorded by hand, and `finledger import` must accept all of it.

The history spans decades: dates advance with the position, so a 1,000-event ledger covers
about ten years and larger ones about forty, with the events of a quarter getting denser as
N grows. Series are opened every few years and closed to new money later; their holders
convert over time, so the lots alive at any moment stay bounded (the generator prunes
emptied lots and dead warrants from its own state; the ledger keeps them, as it must).

    .venv/bin/python bench/generate.py 100000 -o /tmp/h100k.jsonl [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from events import EVENTS_BY_NAME, LedgerEvent
from events.codec import event_from_data, log_entry
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
)
from ledger.state import LedgerState, SeriesState, fold
from ledger.store import LEDGER_ID

# Bump when the history it generates changes, so cached files are rebuilt.
GENERATOR_VERSION = 1
START = date(1990, 1, 2)
ACTOR = "bench"
LIVE_LOTS_PER_SERIES = 60
OPEN_SERIES = 3
FIRMS = (
    "Atlas", "Birchwood", "Cedar Point", "Dunmore", "Eastgate", "Fairhaven", "Granite Bay",
    "Harbor Light", "Ironwood", "Juniper", "Kestrel", "Larchmont", "Meridian", "Northfield",
    "Oakline", "Pinecrest", "Quarry Hill", "Redstone", "Silverleaf", "Tidewater",
)
KINDS = ("Capital Partners", "Opportunity Fund LP", "Healthcare Fund", "Ventures")
INVESTORS = tuple(f"{firm} {kind}" for firm in FIRMS for kind in KINDS)


def quarter_end(day: date) -> date:
    """The last day of the quarter before the one `day` falls in."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    return date(day.year, first_month, 1) - timedelta(days=1)


def money(rng: random.Random, low: int, high: int) -> Decimal:
    """A price in cents between low and high (in cents), as an exact decimal."""
    return Decimal(rng.randint(low, high)) / 100


@dataclass
class LiveWarrant:
    ref: str
    shares: int
    exercised: int
    strike: Decimal
    expires: date | None


@dataclass
class History:
    """The generator's own bookkeeping beside the ledger's fold."""

    n: int
    seed: int
    rng: random.Random = field(init=False)
    state: LedgerState = field(default_factory=LedgerState)
    position: int = 0
    prev_hash: str = GENESIS_HASH
    days_per_1000: int = 0
    open_series: list[str] = field(default_factory=list)
    series_made: int = 0
    last_designation: date = START
    live_warrants: list[LiveWarrant] = field(default_factory=list)
    declared_through: dict[str, date] = field(default_factory=dict)
    common_outstanding: int = 20_000_000
    pending: list[Command | TiedWarrants] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        events_per_quarter = max(24, -(-self.n // 160))
        self.days_per_1000 = max(1, 91_250 // events_per_quarter)

    # --- time -------------------------------------------------------------------------------

    def today(self) -> date:
        """The effective date of the next event: it advances with the position."""
        return START + timedelta(days=(self.position + 1) * self.days_per_1000 // 1000)

    # --- emitting ---------------------------------------------------------------------------

    def emit(self, command: Command) -> LedgerEvent:
        """Decide the command against the fold, chain it, and fold it in (which checks it)."""
        position = self.position + 1
        cls, payload = command.decide(self.state, position)
        recorded = datetime.combine(self.today(), datetime.min.time(), UTC) + timedelta(
            hours=18, microseconds=position % 1_000_000
        )
        draft = cls(
            originator_id=LEDGER_ID,
            originator_version=position,
            effective_date=command.effective_date,
            recorded_at=recorded,
            actor=ACTOR,
            prev_hash=self.prev_hash,
            hash="",
            **payload,
        )
        event = replace(draft, hash=event_hash(draft, self.prev_hash))
        self.state.apply(event)
        self.position = position
        self.prev_hash = event.hash
        return event

    def events(self) -> Iterator[LedgerEvent]:
        while self.position < self.n:
            if not self.pending:
                self.plan()
            if self.pending:
                item = self.pending.pop(0)
                if isinstance(item, TiedWarrants):
                    closing = next(reversed(self.state.closings))
                    command: Command = replace(item.command, closing=closing)
                else:
                    command = item
                yield self.emit(command)
                self.after(command)

    # --- choosing what happens next --------------------------------------------------------

    def plan(self) -> None:
        on = self.today()
        if not self.open_series or (
            (on - self.last_designation).days > 4 * 365 and self.rng.random() < 0.02
        ):
            self.pending.append(self.designate(on))
            return
        due = self.dividends_due(on)
        if due:
            self.pending.extend(due)
            return
        crowded = [s for s in self.state.series.values() if self.live_lots(s) > LIVE_LOTS_PER_SERIES]
        if crowded:
            self.pending.append(self.conversion(on, crowded[0]))
            return
        roll = self.rng.random()
        if roll < 0.30:
            self.closing(on)
        elif roll < 0.50 and self.live_warrants:
            self.exercise(on)
        elif roll < 0.85:
            self.convert_some(on)
        elif roll < 0.97:
            self.pending.append(self.baseline(on))
        else:
            name = self.rng.choice(self.open_series)
            self.pending.append(
                IncreaseAuthorization(effective_date=on, series=name, shares=self.rng.randint(50, 500))
            )

    def designate(self, on: date) -> DesignateSeries:
        self.series_made += 1
        letters, k = "", self.series_made
        while k:
            k, r = divmod(k - 1, 26)
            letters = chr(ord("A") + r) + letters
        stated = self.rng.choice((Decimal("1000"), Decimal("10000"), Decimal("100")))
        unit = 10_000 // int(stated)
        return DesignateSeries(
            effective_date=on,
            series=f"Series {letters}",
            stated_value=stated,
            conversion_price=money(self.rng, 100, 1500),
            dividend_rate=self.rng.choice((Decimal("6"), Decimal("8"), Decimal("8"), Decimal("10"))),
            authorized=self.rng.randint(500, 5000) * unit,
            par_value=Decimal("0.001"),
            cumulative=self.rng.random() < 0.85,
            day_count=self.rng.choice(("actual/365", "actual/365", "30/360")),
            dividend_form=self.rng.choice(("either", "either", "cash", "stock")),
            convert_accrued=self.rng.random() < 0.7,
        )

    def dividends_due(self, on: date) -> list[Command | TiedWarrants]:
        through = quarter_end(on)
        due: list[Command | TiedWarrants] = []
        for name, series in self.state.series.items():
            if series.terms.dividend_rate == 0 or series.outstanding == 0:
                continue
            if through <= series.terms.effective_date:
                continue
            if self.declared_through.get(name, date.min) >= through:
                continue
            allowed = series.terms.dividend_form
            form = self.rng.choice(("cash", "stock")) if allowed == "either" else allowed
            price = money(self.rng, 50, 2500) if form == "stock" else None
            due.append(DeclareDividend(effective_date=on, series=name, through=through, form=form,
                                       price=price))
            self.declared_through[name] = through
        return due

    def closing(self, on: date) -> None:
        rng = self.rng
        investors = rng.sample(INVESTORS, rng.randint(2, 6))
        if rng.random() < 0.08:
            allocations = tuple((name, rng.randint(10_000, 500_000)) for name in investors)
            price = money(rng, 50, 2000)
            # Fees of at most 10% of the gross (a small common closing could otherwise owe more
            # in fees than it raised, which the ledger refuses). Clamping draws nothing more
            # from the generator, so every history that was valid before is unchanged.
            gross = sum(shares for _, shares in allocations) * price
            fees = min(Decimal(rng.randint(0, 50_000)), (gross / 10).quantize(Decimal("0.01")))
            self.pending.append(RecordClosing(
                effective_date=on, security="common", investors=allocations,
                price_per_share=price, fees=fees,
            ))
            self.warrants_for(on, None, investors, Decimal("1.00"))
            return
        name = rng.choice(self.open_series)
        series = self.state.series[name]
        unit = 10_000 // int(series.terms.stated_value)
        allocations = tuple((inv, rng.randint(5, 60) * unit) for inv in investors)
        total = sum(shares for _, shares in allocations)
        if series.issued + total > series.authorized:
            extra = series.issued + total - series.authorized + rng.randint(0, 3) * total
            self.pending.append(IncreaseAuthorization(effective_date=on, series=name, shares=extra))
        gross = sum(shares for _, shares in allocations) * series.terms.stated_value
        self.pending.append(RecordClosing(
            effective_date=on, security=name, investors=allocations,
            fees=(gross * rng.randint(0, 8) / 100).quantize(Decimal("0.01")),
        ))
        self.warrants_for(on, name, investors, series.terms.conversion_price)

    def warrants_for(
        self, on: date, series: str | None, investors: list[str], conversion_price: Decimal
    ) -> None:
        """Warrants that come with the closing just planned (its ref is decided at emit)."""
        rng = self.rng
        holders = investors[: rng.randint(1, min(2, len(investors)))] if rng.random() < 0.8 else []
        for k, holder in enumerate(holders):
            strike = (conversion_price * Decimal(rng.choice((110, 125, 150))) / 100).quantize(
                Decimal("0.01")
            )
            years = rng.choice((3, 5, 5, 7))
            expires = None if rng.random() < 0.1 else on + timedelta(days=365 * years)
            self.pending.append(TiedWarrants(IssueWarrants(
                effective_date=on, holder=holder, shares=rng.randint(10, 500) * 1000,
                exercise_price=strike, expires=expires,
                label=f"{series or 'Common'}-{k + 1}",
            )))

    def exercise(self, on: date) -> None:
        alive = [
            w for w in self.live_warrants
            if (w.expires is None or w.expires >= on) and w.shares > w.exercised
        ]
        self.live_warrants = alive
        if not alive:
            self.pending.append(self.baseline(on))
            return
        warrant = self.rng.choice(alive)
        left = warrant.shares - warrant.exercised
        shares = left if self.rng.random() < 0.4 else self.rng.randint(1, left)
        cashless = self.rng.random() < 0.35
        market = (warrant.strike * Decimal(self.rng.randint(105, 300)) / 100).quantize(
            Decimal("0.01")
        )
        self.pending.append(ExerciseWarrants(
            effective_date=on, warrant=warrant.ref, shares=shares, cashless=cashless,
            market_price=market if cashless else None,
        ))

    def convert_some(self, on: date) -> None:
        held = [s for s in self.state.series.values() if s.outstanding > 0]
        if not held:
            self.closing(on)
            return
        closed = [s for s in held if s.name not in self.open_series]
        series = self.rng.choice(closed) if closed and self.rng.random() < 0.6 else self.rng.choice(held)
        self.pending.append(self.conversion(on, series))

    def conversion(self, on: date, series: SeriesState) -> RequestConversion:
        holdings = series.holdings()
        holder = min(holdings) if self.rng.random() < 0.3 else self.rng.choice(sorted(holdings))
        held = holdings[holder]
        shares = held if self.rng.random() < 0.7 else self.rng.randint(1, held)
        return RequestConversion(effective_date=on, series=series.name, holder=holder, shares=shares)

    def baseline(self, on: date) -> ReportCommonOutstanding:
        self.common_outstanding += self.rng.randint(0, 400_000)
        back = self.rng.randint(1, 20) if self.rng.random() < 0.1 else 0
        return ReportCommonOutstanding(
            effective_date=max(START, on - timedelta(days=back)), shares=self.common_outstanding
        )

    @staticmethod
    def live_lots(series: SeriesState) -> int:
        return len(series.lots)

    # --- keeping the generator's own state bounded -------------------------------------------

    def after(self, command: Command) -> None:
        state = self.state
        if isinstance(command, DesignateSeries):
            self.open_series.append(command.series)
            self.last_designation = command.effective_date
            if len(self.open_series) > OPEN_SERIES:
                self.open_series.pop(0)
        elif isinstance(command, RecordClosing):
            for ref in list(state.closings)[:-20]:
                del state.closings[ref]
        elif isinstance(command, IssueWarrants):
            ref = next(reversed(state.warrants))
            issued = state.warrants[ref]
            self.live_warrants.append(
                LiveWarrant(ref, issued.shares, 0, issued.exercise_price, issued.expires)
            )
        elif isinstance(command, ExerciseWarrants):
            for w in self.live_warrants:
                if w.ref == command.warrant:
                    w.exercised += command.shares
            if state.warrants[command.warrant].outstanding == 0:
                del state.warrants[command.warrant]


@dataclass(frozen=True)
class TiedWarrants:
    """Warrants issued with the closing emitted just before them (its ref is known then)."""

    command: IssueWarrants


def generate(n: int, seed: int = 7) -> Iterator[LedgerEvent]:
    """The first `n` events of the seeded history."""
    return History(n=n, seed=seed).events()


def write(n: int, out: IO[str], seed: int = 7) -> dict[str, Any]:
    """Write the export of `n` events; return facts the benchmark needs about it."""
    counts: dict[str, int] = {}
    first = last = middle = None
    for event in generate(n, seed):
        if event.originator_version == max(1, n // 2):
            middle = event.effective_date
        name = type(event).__name__
        counts[name] = counts.get(name, 0) + 1
        first = first or event.effective_date
        last = event.effective_date if last is None else max(last, event.effective_date)
        out.write(json.dumps(log_entry(event), separators=(",", ":")) + "\n")
    return {
        "events": n,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "first_date": first.isoformat() if first else None,
        "last_date": last.isoformat() if last else None,
        "middle_date": middle.isoformat() if middle else None,
        "types": dict(sorted(counts.items())),
    }


def read_events(path: Path) -> Iterator[LedgerEvent]:
    """The events of an export file, rebuilt with their envelopes."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            entry = json.loads(line)
            yield event_from_data(
                EVENTS_BY_NAME[entry["type"]],
                entry["data"],
                envelope={
                    "originator_id": LEDGER_ID,
                    "originator_version": entry["position"],
                    "effective_date": date.fromisoformat(entry["effective_date"]),
                    "recorded_at": datetime.fromisoformat(entry["recorded_at"]),
                    "actor": entry["actor"],
                    "prev_hash": entry["prev_hash"],
                    "hash": entry["hash"],
                },
            )


def check(path: Path) -> int:
    """Fold the whole file from scratch with the ledger's rules and re-check its chain."""
    events = list(read_events(path))
    prev = GENESIS_HASH
    for event in events:
        if event.prev_hash != prev or event_hash(event, prev) != event.hash:
            raise SystemExit(f"chain broken at position {event.originator_version}")
        prev = event.hash
    fold(events)
    return len(events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("n", type=int, help="number of events")
    parser.add_argument("-o", "--output", type=Path, help="file to write (stdout by default)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true",
                        help="then fold the written file from scratch with the ledger's rules")
    args = parser.parse_args(argv)
    if args.output is None:
        facts = write(args.n, sys.stdout, args.seed)
    else:
        with args.output.open("w", encoding="utf-8") as fh:
            facts = write(args.n, fh, args.seed)
    print(json.dumps(facts), file=sys.stderr)
    if args.check and args.output is not None:
        print(f"checked: {check(args.output)} events fold without a violation", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
