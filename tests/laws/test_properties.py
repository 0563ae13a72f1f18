"""Laws checked on random command sequences (hypothesis).

- Whatever is accepted leaves a timeline that re-folds without a violation, and satisfies the
  invariants of DOMAIN.md as checked here independently of `LedgerState`, including that no
  day of dividends is paid twice on a share.
- A refused command appends nothing; the event count equals the accepted commands.
- The service (store, snapshots, retries) decides exactly what the pure decide+fold decides.
- Events round-trip through the store unchanged.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import (
    COMMON,
    ClosingCompleted,
    CommonOutstandingReported,
    ConversionRequested,
    DividendDeclared,
    LedgerEvent,
    SeriesAuthorizationIncreased,
    SeriesDesignated,
    WarrantsExercised,
    WarrantsIssued,
)
from events.codec import event_data
from ledger.calc import BASIS, cashless_shares, cents, days_between, floor_shares
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
from ledger.decision import decide_in_timeline
from ledger.errors import LedgerError
from ledger.service import Ledger
from ledger.state import LedgerState, fold, timeline

D = Decimal
START = date(2003, 1, 1)
SERIES = ("A", "B")
HOLDERS = ("H1", "H2", "H3")
REFS = ("R1", "R2", "R3")

# --- command strategies ----------------------------------------------------------------------

dates = st.integers(min_value=0, max_value=600).map(lambda n: START + timedelta(days=n))
refs = st.one_of(st.none(), st.sampled_from(REFS))
prices = st.sampled_from([D("0.70"), D("2.35"), D("3"), D("4.10"), D("12.5")])

designations = st.builds(
    DesignateSeries,
    effective_date=dates,
    series=st.sampled_from(SERIES),
    stated_value=st.sampled_from([D("1000"), D("10000"), D("0.5")]),
    conversion_price=prices,
    dividend_rate=st.sampled_from([D("0"), D("8"), D("12.5")]),
    authorized=st.integers(min_value=1, max_value=600),
    cumulative=st.booleans(),
    day_count=st.sampled_from(["actual/365", "30/360"]),
    dividend_form=st.sampled_from(["cash", "stock", "either"]),
    convert_accrued=st.booleans(),
)
authorizations = st.builds(
    IncreaseAuthorization, effective_date=dates, series=st.sampled_from(SERIES),
    shares=st.integers(min_value=1, max_value=200),
)
closings = st.builds(
    RecordClosing,
    effective_date=dates,
    security=st.sampled_from((*SERIES, *SERIES, COMMON)),
    investors=st.lists(
        st.tuples(st.sampled_from(HOLDERS), st.integers(min_value=1, max_value=150)),
        min_size=1, max_size=3,
    ).map(tuple),
    price_per_share=st.one_of(st.none(), st.none(), prices),
    fees=st.sampled_from([D("0"), D("100")]),
    ref=refs,
)
warrants = st.builds(
    IssueWarrants,
    effective_date=dates,
    holder=st.sampled_from(HOLDERS),
    shares=st.integers(min_value=1, max_value=1000),
    exercise_price=prices,
    expires=st.one_of(st.none(), dates),
    closing=st.one_of(st.none(), st.sampled_from(REFS)),
    ref=st.sampled_from(REFS),
)
exercises = st.builds(
    ExerciseWarrants,
    effective_date=dates,
    warrant=st.sampled_from(REFS),
    shares=st.integers(min_value=1, max_value=300),
    cashless=st.sampled_from([False, False, True]),
    market_price=st.one_of(st.none(), prices),
)
dividends = st.builds(
    lambda on, back, **kw: DeclareDividend(
        effective_date=on, through=on - timedelta(days=back), **kw
    ),
    on=dates,
    back=st.integers(min_value=0, max_value=120),
    series=st.sampled_from(SERIES),
    form=st.sampled_from(["cash", "stock"]),
    price=st.one_of(st.none(), prices, prices),
)
conversions = st.builds(
    RequestConversion, effective_date=dates, series=st.sampled_from(SERIES),
    holder=st.sampled_from(HOLDERS), shares=st.integers(min_value=1, max_value=60),
)
baselines = st.builds(
    ReportCommonOutstanding, effective_date=dates,
    shares=st.integers(min_value=1, max_value=10**7),
)
commands = st.one_of(
    designations, authorizations, closings, closings, closings, warrants, warrants,
    exercises, exercises, exercises, dividends, dividends, conversions, conversions,
    conversions, conversions, baselines,
)


def dated(steps: list[tuple[Command, int, int]]) -> list[Command]:
    """Give the commands dates that mostly move forward (gaps of days), some back-dated."""
    on, out = START, list[Command]()
    for command, gap, back in steps:
        on += timedelta(days=gap)
        when = max(START, on - timedelta(days=back))
        if isinstance(command, DeclareDividend):
            through = when - (command.effective_date - command.through)
            out.append(replace(command, effective_date=when, through=through))
        else:
            out.append(replace(command, effective_date=when))
    return out


back_dating = st.one_of(st.just(0), st.just(0), st.just(0), st.integers(min_value=1, max_value=200))
# Both series designated first (on the first day), so that most of what follows has a
# series to refer to; back-dated entries come from the random dates that follow.
sequences = st.tuples(
    designations,
    designations,
    st.lists(
        st.tuples(commands, st.integers(min_value=0, max_value=45), back_dating),
        min_size=8, max_size=30,
    ),
).map(
    lambda t: [
        replace(t[0], series="A", effective_date=START),
        replace(t[1], series="B", effective_date=START),
        *dated(t[2]),
    ]
)


# --- the pure decide + fold ------------------------------------------------------------------


def record_pure(events: Sequence[LedgerEvent], command: Command) -> LedgerEvent:
    """What the service does, without a store: decide on the state as of the command's date,
    then check the whole timeline with the new event inserted."""
    ordered = timeline(events)
    before = [e for e in ordered if e.effective_date <= command.effective_date]

    def decide(state: LedgerState) -> LedgerEvent:
        cls, payload = command.decide(state, len(events) + 1)
        return cls(
            originator_id=UUID(int=0), originator_version=len(events) + 1,
            effective_date=command.effective_date, recorded_at=datetime(2020, 1, 1, tzinfo=UTC),
            actor="prop", prev_hash="", hash="", **payload,
        )

    event, _ = decide_in_timeline(LedgerState().apply_all(before), decide, ordered[len(before):])
    return event


# --- invariants, checked without LedgerState -------------------------------------------------


def accrual(shares: int, terms: SeriesDesignated, start: date, end: date) -> Fraction:
    days = max(days_between(start, end, terms.day_count), 0)
    return (Fraction(shares) * Fraction(terms.stated_value) * Fraction(terms.dividend_rate)
            * days / (100 * BASIS[terms.day_count]))


def check_invariants(events: Sequence[LedgerEvent]) -> None:
    designated: dict[str, SeriesDesignated] = {}
    authorized: dict[str, int] = {}
    issued: dict[str, int] = defaultdict(int)
    holdings: dict[tuple[str, str], int] = defaultdict(int)
    lots: dict[str, list[Any]] = {}  # lot id -> [terms, issue date, shares left]
    refs: set[str] = set()
    closing_refs: set[str] = set()
    issued_warrants: dict[str, WarrantsIssued] = {}
    exercised: dict[str, int] = defaultdict(int)
    last_through: dict[str, date] = {}
    paid: dict[str, Fraction] = defaultdict(Fraction)  # dividends paid per series
    bound: dict[str, Fraction] = defaultdict(Fraction)  # most that could have accrued
    payments: dict[str, int] = defaultdict(int)

    def series_of(name: str, event: LedgerEvent) -> SeriesDesignated:
        terms = designated[name]
        assert event.effective_date >= terms.effective_date
        return terms

    for e in timeline(events):
        if isinstance(e, SeriesDesignated):
            assert e.series not in designated and e.series.lower() != COMMON
            designated[e.series] = e
            authorized[e.series] = e.authorized
        elif isinstance(e, SeriesAuthorizationIncreased):
            series_of(e.series, e)
            assert e.shares > 0
            authorized[e.series] += e.shares
        elif isinstance(e, ClosingCompleted):
            assert e.ref not in refs
            refs.add(e.ref)
            closing_refs.add(e.ref)
            names = [a.investor for a in e.allocations]
            assert len(names) == len(set(names))
            assert all(a.shares > 0 for a in e.allocations)
            assert e.shares == sum(a.shares for a in e.allocations)
            assert e.gross == cents(e.shares * e.price_per_share)
            assert D(0) <= e.fees <= e.gross and e.net == e.gross - e.fees
            if e.security != COMMON:
                terms = series_of(e.security, e)
                issued[e.security] += e.shares
                assert issued[e.security] <= authorized[e.security]
                for a in e.allocations:
                    holdings[(e.security, a.investor)] += a.shares
                    lots[f"{e.ref}/{a.investor}"] = [terms, e.effective_date, a.shares]
        elif isinstance(e, WarrantsIssued):
            assert e.ref not in refs and e.shares > 0
            refs.add(e.ref)
            assert e.expires is None or e.expires >= e.effective_date
            assert e.closing is None or e.closing in closing_refs
            issued_warrants[e.ref] = e
        elif isinstance(e, WarrantsExercised):
            w = issued_warrants[e.warrant]
            assert e.effective_date >= w.effective_date
            assert w.expires is None or e.effective_date <= w.expires
            exercised[e.warrant] += e.shares
            assert exercised[e.warrant] <= w.shares
            if e.cashless:
                assert e.market_price is not None and e.market_price > w.exercise_price
                assert e.common_shares == cashless_shares(
                    e.shares, w.exercise_price, e.market_price
                )
                assert e.proceeds == 0
            else:
                assert e.common_shares == e.shares
                assert e.proceeds == cents(e.shares * w.exercise_price)
        elif isinstance(e, DividendDeclared):
            terms = series_of(e.series, e)
            assert terms.dividend_form in ("either", e.form)
            assert terms.effective_date <= e.through <= e.effective_date
            assert e.series not in last_through or e.through > last_through[e.series]
            last_through[e.series] = e.through
            for p in e.payments:
                if e.form == "stock":
                    assert e.price is not None
                    assert p.common_shares == floor_shares(p.amount, e.price)
                    assert p.common_shares * e.price + p.cash == p.amount
                    assert D(0) <= p.cash < e.price
                else:
                    assert (p.common_shares, p.cash) == (0, p.amount)
                paid[e.series] += Fraction(p.amount)
                payments[e.series] += 1
            assert e.amount == sum((p.amount for p in e.payments), D(0))
        elif isinstance(e, ConversionRequested):
            terms = series_of(e.series, e)
            assert 0 < e.shares <= holdings[(e.series, e.holder)]
            holdings[(e.series, e.holder)] -= e.shares
            assert sum(part.shares for part in e.lots) == e.shares
            for part in e.lots:
                lot = lots[part.lot]
                assert part.lot.endswith(f"/{e.holder}") and part.shares <= lot[2]
                lot[2] -= part.shares
                # the converted shares could have earned at most issue -> conversion date
                bound[e.series] += accrual(part.shares, terms, lot[1], e.effective_date)
            assert e.stated_value == cents(e.shares * terms.stated_value)
            if not terms.cumulative:
                assert e.accrued == 0
            extra = e.accrued if terms.convert_accrued else D(0)
            assert e.value == e.stated_value + extra
            assert e.accrued_paid_in_cash == (D(0) if terms.convert_accrued else e.accrued)
            price = terms.conversion_price
            assert e.common_shares * price + e.cash_in_lieu == e.value
            assert D(0) <= e.cash_in_lieu < price
            paid[e.series] += Fraction(e.accrued)
            payments[e.series] += 1
        else:
            assert isinstance(e, CommonOutstandingReported) and e.shares > 0

    # No day of dividends is paid twice: what was paid (declared, or carried by conversions)
    # never exceeds what the shares could have earned up to the last through-date, give or
    # take half a cent per rounded payment.
    for name, terms in designated.items():
        horizon = last_through.get(name)
        if horizon is not None:
            for lot in lots.values():
                if lot[0] is terms:
                    bound[name] += accrual(lot[2], terms, lot[1], horizon)
        if terms.day_count == "30/360":
            # 30/360 is not additive across a 31st: (Apr 17, Jul 31] + (Jul 31, Aug 1] is
            # 104 + 1 days where (Apr 17, Aug 1] is 104, so each period may add a day a share
            bound[name] += (Fraction(issued[name]) * Fraction(terms.stated_value)
                            * Fraction(terms.dividend_rate) * payments[name] / (100 * 360))
        assert paid[name] <= bound[name] + Fraction(payments[name], 200), name


def targeted(data: st.DataObject, events: Sequence[LedgerEvent], on: date) -> Command | None:
    """A conversion or exercise aimed at what exists on `on` (random ones rarely are)."""
    state = LedgerState().apply_all(e for e in timeline(events) if e.effective_date <= on)
    options: list[Command] = []
    for series in state.series.values():
        for holder, held in series.holdings().items():
            shares = data.draw(st.integers(min_value=1, max_value=held + 2))
            options.append(RequestConversion(
                effective_date=on, series=series.name, holder=holder, shares=shares,
            ))
    for ref, warrant in state.warrants.items():
        if warrant.outstanding > 0:
            shares = data.draw(st.integers(min_value=1, max_value=warrant.outstanding + 2))
            cashless = data.draw(st.booleans())
            strike = warrant.exercise_price
            options.append(ExerciseWarrants(
                effective_date=on, warrant=ref, shares=shares, cashless=cashless,
                market_price=strike + data.draw(st.sampled_from([D("0.01"), D("1.37")]))
                if cashless else None,
            ))
    if not options:
        return None
    return data.draw(st.sampled_from(options))


def run_pure(
    data: st.DataObject, base: Sequence[Command]
) -> tuple[list[Command], list[LedgerEvent], list[bool]]:
    """Record `base` (with targeted commands mixed in) by decide + fold."""
    cmds: list[Command] = []
    events: list[LedgerEvent] = []
    accepted: list[bool] = []
    for command in base:
        extra = targeted(data, events, command.effective_date) if data.draw(
            st.booleans()) else None
        for cmd in (command, extra):
            if cmd is None:
                continue
            cmds.append(cmd)
            try:
                event = record_pure(events, cmd)
            except LedgerError:
                accepted.append(False)
                continue
            events.append(event)
            accepted.append(True)
            fold(events)  # the whole timeline re-folds without violation after each one
    return cmds, events, accepted


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_invariant_ever_breaks(data: st.DataObject) -> None:
    _, events, accepted = run_pure(data, data.draw(sequences))
    assert len(events) == sum(accepted)
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    check_invariants(events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), cmds=st.lists(commands, min_size=1, max_size=12), start=designations)
def test_back_dated_entries_never_break_what_came_after(
    data: st.DataObject, cmds: list[Command], start: DesignateSeries
) -> None:
    # the same commands recorded in reverse date order: nearly everything is back-dated
    ordered = [replace(start, effective_date=START), *sorted(
        cmds, key=lambda c: c.effective_date, reverse=True
    )]
    _, events, accepted = run_pure(data, ordered)
    assert len(events) == sum(accepted)
    check_invariants(events)


def comparable(event: LedgerEvent) -> tuple[Any, ...]:
    return (type(event).__name__, event.originator_version, event.effective_date,
            event_data(event))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_service_decides_what_the_pure_fold_decides(data: st.DataObject) -> None:
    cmds, expected, accepted = run_pure(data, data.draw(sequences))
    with tempfile.TemporaryDirectory() as tmp, Ledger(
        str(Path(tmp) / "prop.db"), actor="prop", create=True
    ) as book:
        recorded: list[LedgerEvent] = []
        outcome: list[bool] = []
        for command in cmds:
            count = len(book.events())
            try:
                recorded.append(book.record(command))
            except LedgerError:
                outcome.append(False)
                assert len(book.events()) == count  # a refusal appends nothing
            else:
                outcome.append(True)
        assert outcome == accepted
        assert [comparable(e) for e in recorded] == [comparable(e) for e in expected]
        # stored == loaded: every field, envelope included, comes back as recorded
        loaded = book.events()
        assert loaded == recorded
        assert [type(e) for e in loaded] == [type(e) for e in recorded]
        with Ledger(str(Path(tmp) / "prop.db")) as again:
            assert again.events() == recorded


def test_30_360_periods_that_cross_a_31st_stay_within_the_bound() -> None:
    """The case CI's hypothesis found: on 30/360, (Apr 17, Jul 31] then (Jul 31, Aug 1] count
    104 + 1 days where (Apr 17, Aug 1] counts 104; the two dividends are right, and the
    whole-span bound allows the day each period may add."""
    terms = DesignateSeries(
        effective_date=date(2003, 1, 1), series="A", stated_value=Decimal("1000"),
        conversion_price=Decimal("0.70"), dividend_rate=Decimal("8"), authorized=1,
        par_value=Decimal("0"), cumulative=False, frequency="quarterly", day_count="30/360",
        dividend_form="cash", convert_accrued=False)
    commands: list[Command] = [
        terms, IncreaseAuthorization(effective_date=date(2003, 2, 8), series="A", shares=1),
        *(RecordClosing(effective_date=on, security="A", investors=(("H1", 1),))
          for on in (date(2003, 4, 17), date(2003, 5, 13))),
        *(DeclareDividend(effective_date=date(2003, 8, 1), series="A", through=through,
                          form="cash") for through in (date(2003, 7, 31), date(2003, 8, 1))),
    ]
    events: list[LedgerEvent] = []
    for command in commands:
        events.append(record_pure(events, command))
    paid = [e.amount for e in events if isinstance(e, DividendDeclared)]
    assert paid == [Decimal("40.44"), Decimal("0.44")]  # 182 and 2 lot-days x 1000 x 8% / 360
    check_invariants(events)
