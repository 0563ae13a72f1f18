"""The reports of CLI.md, computed from the books as of a date (DOMAIN.md computations 3-8).

Each builder returns typed rows: frozen dataclasses whose money is `Decimal` rounded to cents,
prices `Decimal` as recorded, shares `int`, dates `date`, a field per JSON key in the JSON's
order. `to_json` turns them into the JSON of CLI.md (decimals and dates as strings); the
renderers in `cli/render.py` read the same rows, so a table and its JSON never disagree.

Totals are sums of the rows shown, never recomputed from a different rounding: a series'
accrued dividends are the sum of its holders' (each rounded to cents), as-converted common is
the sum of the holders' whole shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.calc import (
    accrual_amount,
    accrual_numerator,
    cashless_shares,
    cents,
    floor_shares,
    mul,
    total,
)
from ledger.terms import accrual_start, expired_on
from projections.books import (
    TOTALS,
    BaselineRow,
    Books,
    CapitalRow,
    InForce,
    LotRow,
    SeriesRow,
    WarrantRow,
)

ZERO = Decimal("0.00")
PERIODS = ("month", "quarter", "year")


# --- typed rows and their JSON ---------------------------------------------------------------

OMITTED: Any = {"omit": True}
"""A field's metadata: left out of the JSON when None (a figure shown only when asked for)."""
MERGED: Any = {"merge": True}
"""A field's metadata: its own fields are the row's (in its place), none when it is None."""


def json_name(name: str) -> Any:
    """A field's metadata: its JSON key when that is not a Python name (`from`)."""
    return {"json": name}


_PLANS: dict[type, tuple[tuple[str, str, str], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, str, str], ...]:
    """Each field of a row class: (attribute, JSON key, "merge", "omit" or "")."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = tuple(
            (f.name, f.metadata.get("json", f.name),
             "merge" if f.metadata.get("merge") else "omit" if f.metadata.get("omit") else "")
            for f in fields(cls))
    return plan


def fields_of(row: Any, convert: Callable[[Any], Any] | None = None,
              out: dict[str, Any] | None = None) -> dict[str, Any]:
    """A row as its JSON object holds it, the values still typed (or each `convert`ed): each
    field under its key, in order, merged rows in their place, omitted ones left out."""
    out = {} if out is None else out
    for name, key, how in _plan(type(row)):
        value = getattr(row, name)
        if how == "merge":
            if value is not None:
                fields_of(value, convert, out)
        elif value is not None or how != "omit":
            out[key] = value if convert is None else convert(value)
    return out


def money_sum(values: Iterable[Decimal]) -> Decimal:
    return total(values, ZERO)


# --- preferred -----------------------------------------------------------------------------


def holder_dividend(
    series: SeriesRow, lots: Iterable[LotRow], last_through: date | None, through: date
) -> Decimal:
    """What a dividend through `through` would pay a holder on these lots (DOMAIN.md 3-4):
    lot numerators summed, divided once, rounded to cents (as `SeriesState.accrued` then
    `cents`, which `record dividend` pays)."""
    numerator = total(
        accrual_numerator(
            lot.outstanding, series.stated_value, series.dividend_rate,
            accrual_start(lot.issued_on, last_through), through, series.day_count,
        )
        for lot in lots
    )
    return cents(accrual_amount(numerator, series.day_count))


def holder_accrued(
    series: SeriesRow, lots: Iterable[LotRow], last_through: date | None, on: date
) -> Decimal:
    """A holder's accrued unpaid dividends on `on`; none for a non-cumulative series."""
    if not series.cumulative:
        return ZERO
    return holder_dividend(series, lots, last_through, on)


def holder_as_converted(series: SeriesRow, outstanding: int, price: Decimal | None = None) -> int:
    """The common a holder's preferred converts into at the conversion price in force
    (`price`; the designated one when none changed it): stated value only, whole shares."""
    return floor_shares(mul(outstanding, series.stated_value),
                        series.conversion_price if price is None else price)


@dataclass(frozen=True)
class HolderTotals:
    """One holder's sums over every lot of a series it ever held (open or not): shares
    acquired (in closings or by transfers) net of those it transferred away, converted and
    redeemed. What the preferred report shows of closed lots, kept by the read model so that
    a current report reads them instead of every lot."""

    holder: str
    issued: int
    converted: int
    redeemed: int

    @property
    def outstanding(self) -> int:
        return self.issued - self.converted - self.redeemed


@dataclass(frozen=True)
class PreferredInputs:
    """What the preferred report reads: the series in order, each one's holders in order
    (`holders`, by series), each holder's open lots in lot order (`open_lots`, by series then
    holder), each series' last through date and the prices in force."""

    series: Sequence[SeriesRow]
    holders: Mapping[str, Sequence[HolderTotals]]
    open_lots: Mapping[str, Mapping[str, Sequence[LotRow]]]
    last_through: Mapping[str, date | None]
    force: InForce


def series_order(rows: Iterable[SeriesRow]) -> list[SeriesRow]:
    return sorted(rows, key=lambda s: (s.designated_on, s.position))


def holder_totals(lots: Iterable[LotRow]) -> dict[str, dict[str, HolderTotals]]:
    """Each series' holders (in the order of their first lot) with their sums over `lots`."""
    sums: dict[str, dict[str, list[int]]] = {}
    for lot in sorted(lots, key=lambda lot: lot.order):
        row = sums.setdefault(lot.series, {}).setdefault(lot.holder, [0, 0, 0])
        row[0] += lot.issued - lot.transferred
        row[1] += lot.converted
        row[2] += lot.redeemed
    return {series: {holder: HolderTotals(holder, *row) for holder, row in holders.items()}
            for series, holders in sums.items()}


def open_lots(lots: Iterable[LotRow]) -> dict[str, dict[str, list[LotRow]]]:
    """The lots with shares outstanding, by series and holder, in lot order."""
    found: dict[str, dict[str, list[LotRow]]] = {}
    for lot in sorted(lots, key=lambda lot: lot.order):
        if lot.outstanding > 0:
            found.setdefault(lot.series, {}).setdefault(lot.holder, []).append(lot)
    return found


def preferred_inputs(books: Books) -> PreferredInputs:
    """The preferred report's inputs from the whole books."""
    series = series_order(books.series.values())
    totals = holder_totals(books.lots.values())
    return PreferredInputs(
        series=series,
        holders={s.series: list(totals.get(s.series, {}).values()) for s in series},
        open_lots=open_lots(books.lots.values()),
        last_through={s.series: books.last_through(s.series) for s in series},
        force=books.in_force(),
    )


@dataclass(frozen=True, slots=True)
class PreferredHolder:
    holder: str
    issued: int  # acquired (in closings or by transfers) net of what it transferred away
    converted: int
    redeemed: int
    outstanding: int
    stated_value_outstanding: Decimal
    accrued_dividends: Decimal
    as_converted_common: int


@dataclass(frozen=True, slots=True)
class PreferredSeries:
    series: str
    stated_value: Decimal
    conversion_price: Decimal
    dividend_rate: Decimal
    cumulative: bool
    dividends_through: date | None
    authorized: int
    issued: int
    converted: int
    redeemed: int
    outstanding: int
    stated_value_outstanding: Decimal
    accrued_dividends: Decimal
    as_converted_common: int
    holders: tuple[PreferredHolder, ...]


@dataclass(frozen=True, slots=True)
class PreferredTotals:
    outstanding: int
    stated_value_outstanding: Decimal
    accrued_dividends: Decimal
    as_converted_common: int


@dataclass(frozen=True, slots=True)
class PreferredReport:
    as_of: date
    series: tuple[PreferredSeries, ...]
    totals: PreferredTotals


def preferred(books: Books, on: date) -> PreferredReport:
    return preferred_of(preferred_inputs(books), on)


def preferred_of(inputs: PreferredInputs, on: date) -> PreferredReport:
    """The preferred report from what it reads (`preferred_inputs`, or the read model's
    narrow read of the same)."""
    series_rows: list[PreferredSeries] = []
    for series in inputs.series:
        last_through = inputs.last_through.get(series.series)
        price = inputs.force.conversion_price(series)
        lots_of = inputs.open_lots.get(series.series, {})
        holders = tuple(PreferredHolder(
            holder=sums.holder,
            issued=sums.issued,
            converted=sums.converted,
            redeemed=sums.redeemed,
            outstanding=sums.outstanding,
            stated_value_outstanding=cents(mul(sums.outstanding, series.stated_value)),
            accrued_dividends=holder_accrued(series, lots_of.get(sums.holder, ()), last_through, on),
            as_converted_common=holder_as_converted(series, sums.outstanding, price),
        ) for sums in inputs.holders.get(series.series, ()))
        series_rows.append(PreferredSeries(
            series=series.series,
            stated_value=series.stated_value,
            conversion_price=price,
            dividend_rate=series.dividend_rate,
            cumulative=series.cumulative,
            dividends_through=last_through,
            authorized=series.authorized,
            issued=series.issued,
            converted=series.converted,
            redeemed=series.redeemed,
            outstanding=series.outstanding,
            stated_value_outstanding=money_sum(h.stated_value_outstanding for h in holders),
            accrued_dividends=money_sum(h.accrued_dividends for h in holders),
            as_converted_common=sum(h.as_converted_common for h in holders),
            holders=holders,
        ))
    return PreferredReport(
        as_of=on,
        series=tuple(series_rows),
        totals=PreferredTotals(
            outstanding=sum(s.outstanding for s in series_rows),
            stated_value_outstanding=money_sum(s.stated_value_outstanding for s in series_rows),
            accrued_dividends=money_sum(s.accrued_dividends for s in series_rows),
            as_converted_common=sum(s.as_converted_common for s in series_rows),
        ),
    )


# --- warrants ------------------------------------------------------------------------------


def warrant_outstanding(warrant: WarrantRow, on: date, force: InForce | None = None) -> int:
    """The warrant's shares outstanding on `on`: those unexercised, with the shares received
    or assigned by transfers and those splits and adjustments added (from `force`), none once
    it expired."""
    if expired_on(warrant.expires, on):
        return 0
    adjusted = force.adjusted_shares(warrant) if force is not None else 0
    return warrant.issued + warrant.transferred - warrant.exercised + adjusted


@dataclass(frozen=True, slots=True)
class InTheMoney:
    """What a market price adds to an overhang row (`report warrants --market-price`)."""

    in_the_money: int
    treasury_shares: int


@dataclass(frozen=True, slots=True)
class WarrantOverhang:
    ref: str
    label: str | None
    holder: str
    closing: str | None
    issued_on: date
    expires: date | None
    exercisable_from: date
    exercise_price: Decimal
    issued: int
    exercised: int
    transferred: int
    expired: int
    adjusted: int
    outstanding: int
    potential_proceeds: Decimal
    market: InTheMoney | None = field(metadata=MERGED)


@dataclass(frozen=True, slots=True)
class Overhang:
    """The sums of overhang rows (a closing's, the totals)."""

    issued: int
    exercised: int
    adjusted: int
    transferred: int
    expired: int
    outstanding: int
    potential_proceeds: Decimal
    market: InTheMoney | None = field(metadata=MERGED)


@dataclass(frozen=True, slots=True)
class PriceOverhang:
    exercise_price: Decimal
    outstanding: int
    potential_proceeds: Decimal
    market: InTheMoney | None = field(metadata=MERGED)


@dataclass(frozen=True, slots=True)
class ClosingOverhang:
    closing: str | None
    sums: Overhang = field(metadata=MERGED)


@dataclass(frozen=True, slots=True)
class WarrantsReport:
    as_of: date
    warrants: tuple[WarrantOverhang, ...]
    by_price: tuple[PriceOverhang, ...]
    by_closing: tuple[ClosingOverhang, ...]
    totals: Overhang
    market_price: Decimal | None = field(metadata=OMITTED)


def _market_sums(rows: Sequence[WarrantOverhang], market_price: Decimal | None
                 ) -> InTheMoney | None:
    if market_price is None:
        return None
    return InTheMoney(sum(r.market.in_the_money for r in rows if r.market is not None),
                      sum(r.market.treasury_shares for r in rows if r.market is not None))


def _overhang_sums(rows: Sequence[WarrantOverhang], market_price: Decimal | None) -> Overhang:
    return Overhang(
        issued=sum(r.issued for r in rows),
        exercised=sum(r.exercised for r in rows),
        adjusted=sum(r.adjusted for r in rows),
        transferred=sum(r.transferred for r in rows),
        expired=sum(r.expired for r in rows),
        outstanding=sum(r.outstanding for r in rows),
        potential_proceeds=money_sum(r.potential_proceeds for r in rows),
        market=_market_sums(rows, market_price),
    )


def warrants(books: Books, on: date, market_price: Decimal | None = None) -> WarrantsReport:
    """The overhang on `on`. With a market price P, `in_the_money` is the outstanding shares
    whose exercise price is below P (0 otherwise) and `treasury_shares` the treasury-stock
    method's floor(N x (P - K) / P)."""
    force = books.in_force()
    rows: list[WarrantOverhang] = []
    for w in sorted(books.warrants.values(), key=lambda w: (w.issued_on, w.position)):
        outstanding = warrant_outstanding(w, on, force)
        adjusted = force.adjusted_shares(w)
        price = force.exercise_price(w)
        rows.append(WarrantOverhang(
            ref=w.ref,
            label=w.label,
            holder=w.holder,
            closing=w.closing,
            issued_on=w.issued_on,
            expires=w.expires,
            exercisable_from=w.exercisable_from or w.issued_on,
            exercise_price=price,
            issued=w.issued,
            exercised=w.exercised,
            transferred=w.transferred,
            expired=w.issued + w.transferred - w.exercised + adjusted - outstanding,
            adjusted=adjusted,
            outstanding=outstanding,
            potential_proceeds=cents(mul(outstanding, price)),
            market=None if market_price is None else InTheMoney(
                outstanding if market_price > price else 0,
                cashless_shares(outstanding, price, market_price)),
        ))

    by_price: dict[Decimal, list[WarrantOverhang]] = {}
    for row in rows:
        by_price.setdefault(row.exercise_price, []).append(row)
    by_closing: dict[str | None, list[WarrantOverhang]] = {}
    for row in rows:
        by_closing.setdefault(row.closing, []).append(row)

    def price_row(price: Decimal, group: list[WarrantOverhang]) -> PriceOverhang:
        sums = _overhang_sums(group, market_price)
        return PriceOverhang(price, sums.outstanding, sums.potential_proceeds, sums.market)

    return WarrantsReport(
        as_of=on,
        warrants=tuple(rows),
        by_price=tuple(price_row(p, by_price[p]) for p in sorted(by_price)),
        by_closing=tuple(ClosingOverhang(closing, _overhang_sums(group, market_price))
                         for closing, group in by_closing.items()),
        totals=_overhang_sums(rows, market_price),
        market_price=market_price,
    )


# --- capital raised --------------------------------------------------------------------------


def period_of(day: date, by: str) -> str:
    """`2003-05`, `2003-Q2` or `2003`."""
    if by == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if by == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if by == "year":
        return f"{day.year:04d}"
    raise ValueError(f"unknown period {by!r}; use one of {', '.join(PERIODS)}")


@dataclass(frozen=True, slots=True)
class CapitalEntry:
    date: date
    source: str
    ref: str
    security: str
    position: int
    gross: Decimal
    fees: Decimal
    net: Decimal
    cumulative_gross: Decimal


@dataclass(frozen=True, slots=True)
class CapitalTotals:
    gross: Decimal
    fees: Decimal
    net: Decimal


@dataclass(frozen=True, slots=True)
class CapitalPeriod:
    period: str
    sums: CapitalTotals = field(metadata=MERGED)


@dataclass(frozen=True, slots=True)
class CapitalReport:
    as_of: date
    since: date | None
    by: str
    entries: tuple[CapitalEntry, ...]
    periods: tuple[CapitalPeriod, ...]
    totals: CapitalTotals


def _capital_sums(entries: Sequence[CapitalEntry]) -> CapitalTotals:
    return CapitalTotals(gross=money_sum(e.gross for e in entries),
                         fees=money_sum(e.fees for e in entries),
                         net=money_sum(e.net for e in entries))


def capital(books: Books, on: date, since: date | None = None, by: str = "month"
            ) -> CapitalReport:
    """Cash raised by effective date. `since` leaves out earlier entries, but each entry's
    `cumulative_gross` still counts everything raised from the first closing on; periods and
    totals add up the entries shown."""
    period_of(on, by)  # refuse an unknown period before anything else
    rows = sorted((row for row in books.capital.values() if row.date <= on),
                  key=lambda r: (r.date, r.position))
    before = [row.gross for row in rows if since is not None and row.date < since]
    shown = [row for row in rows if since is None or row.date >= since]
    return capital_of(shown, on, since, by, gross_before(before))


def gross_before(values: Iterable[Decimal]) -> Decimal:
    """The cumulative gross of entries in date order, added as the report adds them."""
    cumulative = ZERO
    for value in values:
        cumulative += value
    return cumulative


def capital_of(rows: Iterable[CapitalRow], on: date, since: date | None, by: str,
               before: Decimal) -> CapitalReport:
    """The capital report from the entries it shows (`rows`: effective from `since` through
    `on`, in any order) and `before`, the gross of every entry before `since` (unrounded)."""
    period_of(on, by)
    cumulative = before
    entries: list[CapitalEntry] = []
    for row in sorted(rows, key=lambda r: (r.date, r.position)):
        cumulative += row.gross
        entries.append(CapitalEntry(
            date=row.date,
            source=row.source,
            ref=row.ref,
            security=row.security,
            position=row.position,
            gross=cents(row.gross),
            fees=cents(row.fees),
            net=cents(row.net),
            cumulative_gross=cents(cumulative),
        ))
    grouped: dict[str, list[CapitalEntry]] = {}
    for entry in entries:
        grouped.setdefault(period_of(entry.date, by), []).append(entry)
    return CapitalReport(
        as_of=on,
        since=since,
        by=by,
        entries=tuple(entries),
        periods=tuple(CapitalPeriod(period, _capital_sums(group))
                      for period, group in grouped.items()),
        totals=_capital_sums(entries),
    )


# --- fully diluted and the summary -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FullyDiluted:
    baseline: int | None
    baseline_date: date | None
    issued_since_baseline: int
    common_outstanding: int
    as_converted_preferred: int
    warrants: int
    total: int


@dataclass(frozen=True, slots=True)
class SummaryWarrants:
    """The overhang's totals (transfers move shares between warrants: their total is always
    0, not shown here)."""

    issued: int
    exercised: int
    adjusted: int
    expired: int
    outstanding: int
    potential_proceeds: Decimal


@dataclass(frozen=True, slots=True)
class SummaryReport:
    as_of: date
    capital: CapitalTotals
    preferred: PreferredTotals
    warrants: SummaryWarrants
    fully_diluted: FullyDiluted


def fully_diluted(
    books: Books, on: date, preferred_report: PreferredReport, warrant_report: WarrantsReport
) -> FullyDiluted:
    """Latest baseline on or before `on`, plus common the ledger issued after the baseline's
    date, plus as-converted preferred, plus the outstanding overhang."""
    baseline, issued_since = common_outstanding(books, on)
    return _fully_diluted(baseline, issued_since, preferred_report.totals.as_converted_common,
                          warrant_report.totals.outstanding)


def common_outstanding(books: Books, on: date) -> tuple[BaselineRow | None, int]:
    """The common outstanding on `on` as fully diluted counts it: the latest baseline on or
    before `on`, and the common the ledger issued after the baseline's date through `on`."""
    baselines = [b for b in books.baselines.values() if b.date <= on]
    baseline = max(baselines, key=lambda b: (b.date, b.position)) if baselines else None
    after = baseline.date if baseline is not None else date.min
    issued_since = sum(
        i.shares for i in books.common_issues.values() if after < i.date <= on
    )
    return baseline, issued_since


def _fully_diluted(
    baseline: BaselineRow | None, issued_since: int, as_converted: int, overhang: int
) -> FullyDiluted:
    common = (baseline.shares if baseline is not None else 0) + issued_since
    return FullyDiluted(
        baseline=baseline.shares if baseline is not None else None,
        baseline_date=baseline.date if baseline is not None else None,
        issued_since_baseline=issued_since,
        common_outstanding=common,
        as_converted_preferred=as_converted,
        warrants=overhang,
        total=common + as_converted + overhang,
    )


def summary(books: Books, on: date) -> SummaryReport:
    pref = preferred(books, on)
    warr = warrants(books, on)
    t = warr.totals
    return SummaryReport(
        as_of=on,
        capital=capital(books, on).totals,
        preferred=pref.totals,
        warrants=SummaryWarrants(t.issued, t.exercised, t.adjusted, t.expired, t.outstanding,
                                 t.potential_proceeds),
        fully_diluted=fully_diluted(books, on, pref, warr),
    )


@dataclass(frozen=True)
class Live:
    """What the current summary reads instead of the whole books: `books` holds the running
    totals, every series, the open lots and each series' latest dividend; `overhang` the
    outstanding warrant shares not expired on the summary's date as (shares, exercise price)
    pairs whose potential proceeds `cents(shares x price)` add up to the warrants' (one pair
    per warrant, or per price when that is exact); then the latest baseline and the common
    the ledger issued after its date."""

    books: Books
    overhang: list[tuple[int, Decimal]]
    baseline: BaselineRow | None
    issued_since_baseline: int
    adjusted: int = 0  # warrant shares splits and adjustments added, over every warrant


def current_summary(live: Live, on: date) -> SummaryReport:
    """`summary(books, on)` for a date on or after every effective date, from `live`.

    Exact: closed lots add nothing to a preferred total, expired and exhausted warrants
    nothing to the outstanding overhang or its proceeds; the sums that do count every past
    row are the running totals."""
    totals = live.books.totals[TOTALS]
    pref = preferred(live.books, on)
    outstanding = sum(shares for shares, _ in live.overhang)
    return SummaryReport(
        as_of=on,
        capital=CapitalTotals(totals.capital_gross, totals.capital_fees, totals.capital_net),
        preferred=pref.totals,
        warrants=SummaryWarrants(
            issued=totals.warrants_issued,
            exercised=totals.warrants_exercised,
            adjusted=live.adjusted,
            expired=totals.warrants_issued - totals.warrants_exercised + live.adjusted
            - outstanding,
            outstanding=outstanding,
            potential_proceeds=money_sum(cents(mul(n, price)) for n, price in live.overhang),
        ),
        fully_diluted=_fully_diluted(live.baseline, live.issued_since_baseline,
                                     pref.totals.as_converted_common, outstanding),
    )


# --- JSON ------------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """CLI.md's JSON: rows as objects (`fields_of`), decimals and dates as strings,
    everything else as it is."""
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return fields_of(value, to_json)
    return value
