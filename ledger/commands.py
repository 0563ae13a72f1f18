"""Commands: what a user asks the ledger to record, and the event each one decides.

`decide(state)` runs against the state of the timeline on the command's effective date and
returns the event's own fields, with every outcome computed (lots consumed, common shares,
cash in lieu, each holder's dividend). The service then checks the whole timeline with the
new event inserted, so a back-dated command is checked against what came after it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from events import (
    COMMON,
    Allocation,
    AntiDilutionAdjustment,
    ClosingCompleted,
    CommonOutstandingReported,
    ConversionRequested,
    DividendDeclared,
    HolderDividend,
    LedgerEvent,
    LotConversion,
    SeriesAuthorizationIncreased,
    SeriesDesignated,
    SeriesPriceChange,
    StockSplit,
    TermsAdjusted,
    WarrantChange,
    WarrantsExercised,
    WarrantsIssued,
)
from ledger.calc import (
    DAY_COUNTS,
    EXACT,
    MAX_AS_CONVERTED,
    MAX_SHARES,
    accrual_amount,
    cashless_shares,
    cents,
    floor_shares,
    mul,
    stock_payment,
    total,
)
from ledger.caps import check_cap
from ledger.errors import InvalidInput
from ledger.inputs import (
    clean_name,
    clean_text,
    plain,
    positive_money,
    positive_shares,
    rate_percent,
)
from ledger.schedule import FREQUENCIES, off_schedule
from ledger.state import LedgerState, Lot, SeriesState
from ledger.terms import (
    ANTI_DILUTION,
    WEIGHTED_AVERAGE,
    reset_price,
    reset_shares,
    split_price,
    split_shares,
    weighted_average_b,
)

DIVIDEND_FORMS = ("cash", "stock", "either")
PAYMENT_FORMS = ("cash", "stock")

Decision = tuple[type[LedgerEvent], dict[str, Any]]
Value = Callable[[str], Any]  # an event's field, by name (required)
Get = Callable[[str, Any], Any]  # an event's field, or the default given


def as_converted_at(shares: int, stated_value: Decimal, conversion_price: Decimal) -> int:
    """The common shares `shares` of preferred convert into (stated value only)."""
    return floor_shares(mul(shares, stated_value), conversion_price)


def within_limits(derived: int, source: str, *, what: str = "common shares it would issue",
                  limit: int = MAX_SHARES) -> None:
    """A share count the ledger derives must stay within its limit (README.md, "Limits"), so
    that no report or table ever meets a figure it cannot hold."""
    if derived > limit:
        raise InvalidInput(
            f"{source} gives {derived:,} {what}, more than the ledger's limit of "
            f"{limit:,} (README.md, Limits); check the figures"
        )


def _as_converted_within_limits(state: LedgerState, series: str, authorized: int,
                                stated_value: Decimal, conversion_price: Decimal, *,
                                source: str) -> None:
    """Every series' common at its full authorization, together, within MAX_AS_CONVERTED:
    the fully diluted count sums them."""
    total = as_converted_at(authorized, stated_value, conversion_price) + sum(
        as_converted_at(other.authorized, other.terms.stated_value, other.conversion_price)
        for name, other in state.series.items() if name != series
    )
    within_limits(total, source, limit=MAX_AS_CONVERTED,
                  what="as-converted common shares (with every other series, at full "
                       "authorization)")


def ownership_cap(value: Decimal | None) -> Decimal | None:
    """An ownership cap is a percent above 0, at most 100 (DOMAIN.md 16)."""
    if value is not None:
        rate_percent(value, "--ownership-cap")
        if value <= 0:
            raise InvalidInput("--ownership-cap must be a percent above 0, like 9.99 or 4.99")
    return value


def lot_accruals(series: SeriesState, taken: list[tuple[Lot, int]], on: date
                 ) -> tuple[tuple[LotConversion, ...], Decimal]:
    """The lots a conversion or redemption takes, each with the dividends accrued on its
    shares up to `on` (none on a non-cumulative series), and their sum: lot numerators
    added, divided once, rounded to cents (DOMAIN.md 3, 5, 15)."""
    terms = series.terms
    parts: list[LotConversion] = []
    numerator = Decimal(0)
    for lot, take in taken:
        lot_numerator = (
            series.lot_numerator(lot, take, on) if terms.cumulative else Decimal(0)
        )
        numerator = EXACT.add(numerator, lot_numerator)
        parts.append(LotConversion(
            lot=lot.id, shares=take, accrued=cents(accrual_amount(lot_numerator, terms.day_count)),
        ))
    return tuple(parts), cents(accrual_amount(numerator, terms.day_count))


def holder_owns_input(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise InvalidInput("--holder-owns is the holder's common shares, 0 or more")
    return value


def _generated_ref(state: LedgerState, prefix: str, position: int) -> str:
    ref = f"{prefix}-{position:04d}"
    suffix = 1
    while state.ref_in_use(ref):
        suffix += 1
        ref = f"{prefix}-{position:04d}-{suffix}"
    return ref


def _protection(anti_dilution: str, price_floor: Decimal | None) -> dict[str, Any]:
    """The anti-dilution terms of a series or warrant, checked (DOMAIN.md 13)."""
    if anti_dilution not in ANTI_DILUTION:
        raise InvalidInput(f"--anti-dilution must be one of {', '.join(ANTI_DILUTION)}, "
                           f"not {anti_dilution!r}")
    if price_floor is not None:
        positive_money(price_floor, "--price-floor")
        if anti_dilution == "none":
            raise InvalidInput("--price-floor bounds an anti-dilution reset; give it with "
                               "--anti-dilution full-ratchet or weighted-average")
    return {"anti_dilution": anti_dilution, "price_floor": price_floor}


@dataclass(frozen=True, kw_only=True)
class Command:
    """What a user asks; `decide` computes the event's outcome (the fold checks it).

    Each command names the event it decides (`decides`) and is registered for it in
    `DECIDES`: `of` gives the command that decides an event with the given fields, which is
    how `import` decides a line and how a stored outcome is decided again."""

    effective_date: date

    decides: ClassVar[type[LedgerEvent]]
    # Whether the event's stored outcome is computed from the state in front of it (and so
    # must come out the same when decided again after a change before it).
    reads_state: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "decides" in cls.__dict__:
            DECIDES[cls.decides] = cls

    def decide(self, state: LedgerState, position: int) -> Decision:
        raise NotImplementedError

    @classmethod
    def of(cls, on: date, value: Value, get: Get) -> Command:
        """The command that, recorded on `on`, decides an event whose fields `value` and
        `get` read: by default each of the command's fields from the event's field of the
        same name (required if the command has no default for it)."""
        args: dict[str, Any] = {}
        for name, default in _fields_of(cls):
            args[name] = value(name) if default is MISSING else get(name, default)
        return cls(effective_date=on, **args)

    @classmethod
    def redecides(cls, event: LedgerEvent) -> bool:
        """Whether `event`'s stored outcome is decided again from the state in front of it."""
        return cls.reads_state

    def references_position(self) -> int | None:
        return None

    def advice(self, state: LedgerState) -> tuple[str, ...]:
        """Warnings about an accepted command, worth printing but never a refusal."""
        return ()


DECIDES: dict[type[LedgerEvent], type[Command]] = {}
_FIELDS: dict[type[Command], tuple[tuple[str, Any], ...]] = {}


def _fields_of(cls: type[Command]) -> tuple[tuple[str, Any], ...]:
    """(name, default or MISSING) of the command's fields but its date (worked out once)."""
    if cls not in _FIELDS:
        _FIELDS[cls] = tuple((f.name, f.default) for f in fields(cls)
                             if f.name != "effective_date")
    return _FIELDS[cls]


def decided_by(event: LedgerEvent) -> Command:
    """The command that decides `event` (from its own fields)."""
    command = DECIDES[type(event)]
    return command.of(event.effective_date, lambda name: getattr(event, name),
                      lambda name, _default: getattr(event, name))


@dataclass(frozen=True, kw_only=True)
class DesignateSeries(Command):
    decides = SeriesDesignated
    reads_state = False

    series: str
    stated_value: Decimal
    conversion_price: Decimal
    dividend_rate: Decimal
    authorized: int
    par_value: Decimal = Decimal("0")
    cumulative: bool = True
    frequency: str = "quarterly"
    day_count: str = "actual/365"
    dividend_form: str = "either"
    convert_accrued: bool = True
    anti_dilution: str = "none"
    price_floor: Decimal | None = None
    ownership_cap: Decimal | None = None

    def decide(self, state: LedgerState, position: int) -> Decision:
        name = clean_name(self.series, "series name")
        protection = _protection(self.anti_dilution, self.price_floor)
        positive_money(self.stated_value, "stated value")
        positive_money(self.conversion_price, "conversion price")
        rate_percent(self.dividend_rate, "dividend rate")
        positive_money(self.par_value, "par value", allow_zero=True)
        positive_shares(self.authorized, "authorized shares")
        _as_converted_within_limits(
            state, name, self.authorized, self.stated_value, self.conversion_price,
            source=f"{self.authorized:,} authorized shares at stated value {plain(self.stated_value)} "
            f"converting at {plain(self.conversion_price)}")
        if self.frequency not in FREQUENCIES:
            raise InvalidInput(f"frequency must be one of {', '.join(FREQUENCIES)}")
        if self.day_count not in DAY_COUNTS:
            raise InvalidInput(f"day count must be one of {', '.join(DAY_COUNTS)}")
        if self.dividend_form not in DIVIDEND_FORMS:
            raise InvalidInput(f"dividend form must be one of {', '.join(DIVIDEND_FORMS)}")
        return SeriesDesignated, {
            "series": name,
            "stated_value": self.stated_value,
            "par_value": self.par_value,
            "conversion_price": self.conversion_price,
            "dividend_rate": self.dividend_rate,
            "authorized": self.authorized,
            "cumulative": self.cumulative,
            "frequency": self.frequency,
            "day_count": self.day_count,
            "dividend_form": self.dividend_form,
            "convert_accrued": self.convert_accrued,
            **protection,
            "ownership_cap": ownership_cap(self.ownership_cap),
        }


@dataclass(frozen=True, kw_only=True)
class IncreaseAuthorization(Command):
    decides = SeriesAuthorizationIncreased
    reads_state = False

    series: str
    shares: int

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "--shares")
        series = state.get_series(clean_name(self.series, "series name"))
        authorized = series.authorized + self.shares
        positive_shares(authorized, "the authorized shares after the increase")
        terms = series.terms
        _as_converted_within_limits(state, series.name, authorized, terms.stated_value,
                                    terms.conversion_price,
                                    source=f"{authorized:,} authorized shares of {series.name!r}")
        return SeriesAuthorizationIncreased, {
            "series": series.name,
            "shares": self.shares,
            "authorized": authorized,
        }


@dataclass(frozen=True, kw_only=True)
class RecordClosing(Command):
    decides = ClosingCompleted

    security: str
    investors: tuple[tuple[str, int], ...]
    price_per_share: Decimal | None = None
    fees: Decimal = Decimal("0")
    ref: str | None = None
    exempt: bool = False

    @classmethod
    def of(cls, on: date, value: Value, get: Get) -> Command:
        return cls(effective_date=on, security=value("security"),
                   investors=tuple((a.investor, a.shares) for a in value("allocations")),
                   price_per_share=get("price_per_share", None), fees=get("fees", Decimal("0")),
                   ref=get("ref", None), exempt=get("exempt", False))

    @classmethod
    def redecides(cls, event: LedgerEvent) -> bool:
        # The prices in force, warrants outstanding and fully diluted common a common
        # closing's anti-dilution adjustments were computed from (DOMAIN.md 13).
        return isinstance(event, ClosingCompleted) and event.security == COMMON

    def decide(self, state: LedgerState, position: int) -> Decision:
        security = clean_name(self.security, "security")
        if self.exempt and security.lower() != COMMON:
            raise InvalidInput("--exempt is for a closing of common stock (it records that "
                               "the closing adjusts no anti-dilution terms); leave it out")
        if not self.investors:
            raise InvalidInput('a closing needs at least one --investor "NAME=SHARES"')
        positive_money(self.fees, "--fees", allow_zero=True)
        if security.lower() == COMMON:
            security = COMMON
            if self.price_per_share is None:
                raise InvalidInput("a closing of common stock needs --price-per-share")
            price = self.price_per_share
        else:
            series = state.get_series(security)
            price = (
                series.terms.stated_value if self.price_per_share is None else self.price_per_share
            )
        positive_money(price, "--price-per-share")
        allocations = []
        for raw_name, shares in self.investors:
            name = clean_name(raw_name, "investor name")
            positive_shares(shares, f"shares for investor {name!r}")
            allocations.append(
                Allocation(investor=name, shares=shares, gross=cents(mul(shares, price)))
            )
        total = sum(a.shares for a in allocations)
        gross = cents(mul(total, price))
        fees = cents(self.fees)
        if fees != self.fees:
            raise InvalidInput(
                f"--fees {self.fees} has fractions of a cent; fees are paid money, give cents "
                f"such as {fees}"
            )
        if fees > gross:
            raise InvalidInput(f"fees {fees} exceed the gross proceeds {gross}")
        ref = clean_name(self.ref, "--ref") if self.ref is not None else None
        adjustments = (
            anti_dilution(state, self.effective_date, price, gross, total)
            if security == COMMON and not self.exempt else ()
        )
        return ClosingCompleted, {
            "ref": ref or _generated_ref(state, "CL", position),
            "security": security,
            "price_per_share": price,
            "allocations": tuple(allocations),
            "shares": total,
            "gross": gross,
            "fees": fees,
            "net": gross - fees,
            "exempt": self.exempt,
            "adjustments": adjustments,
        }


def anti_dilution(state: LedgerState, on: date, price: Decimal, gross: Decimal,
                  common: int) -> tuple[AntiDilutionAdjustment, ...]:
    """The adjustments a closing of `common` shares of common at `price` (gross proceeds
    `gross`) on `on` causes (DOMAIN.md 13): every protected series, then every protected
    warrant with shares outstanding on `on`, whose price in force is above `price`. A is
    fully diluted common just before the closing, worked out once if a weighted average
    needs it."""
    a: int | None = None

    def fully_diluted() -> int:
        nonlocal a
        if a is None:
            a = state.fully_diluted(on)
        return a

    found: list[AntiDilutionAdjustment] = []

    def adjust(instrument: str, name: str, *, method: str, old: Decimal,
               floor: Decimal | None, outstanding: int | None) -> None:
        if method == "none" or price >= old:
            return
        weighted = method == WEIGHTED_AVERAGE
        base = fully_diluted() if weighted else 0
        new = reset_price(method, old, price, a=base, gross=gross, c=common, floor=floor)
        if new is None:
            return
        shares = None if outstanding is None else reset_shares(outstanding, old, new)
        if shares is not None:
            within_limits(shares, f"the anti-dilution reset of warrant {name!r}",
                          what="shares outstanding")
        found.append(AntiDilutionAdjustment(
            instrument=instrument, name=name, method=method, old_price=old, new_price=new,
            old_shares=outstanding, new_shares=shares,
            a=base if weighted else None,
            b=weighted_average_b(gross, old) if weighted else None,
            c=common if weighted else None,
        ))

    for series in state.series_in_order():
        adjust("series", series.name, method=series.terms.anti_dilution,
               old=series.conversion_price, floor=series.terms.price_floor, outstanding=None)
    for ref, warrant in state.warrants_in_order(state.protected):
        if warrant.anti_dilution == "none" or warrant.outstanding <= 0 or \
                warrant.expired_on(on):
            continue
        adjust("warrant", ref, method=warrant.anti_dilution, old=warrant.exercise_price,
               floor=warrant.price_floor, outstanding=warrant.outstanding)
    return tuple(found)


@dataclass(frozen=True, kw_only=True)
class IssueWarrants(Command):
    decides = WarrantsIssued
    reads_state = False

    holder: str
    shares: int
    exercise_price: Decimal
    expires: date | None = None
    label: str = ""
    closing: str | None = None
    ref: str | None = None
    anti_dilution: str = "none"
    price_floor: Decimal | None = None
    ownership_cap: Decimal | None = None
    exercisable_from: date | None = None

    def decide(self, state: LedgerState, position: int) -> Decision:
        holder = clean_name(self.holder, "--holder")
        protection = _protection(self.anti_dilution, self.price_floor)
        if self.exercisable_from is not None and self.exercisable_from < self.effective_date:
            raise InvalidInput(
                f"--exercisable-from {self.exercisable_from} is before the issue date "
                f"{self.effective_date}; give a date on or after it (or leave it out)")
        if (self.exercisable_from is not None and self.expires is not None
                and self.exercisable_from > self.expires):
            raise InvalidInput(
                f"--exercisable-from {self.exercisable_from} is after --expires "
                f"{self.expires}; a warrant must be exercisable before it expires")
        positive_shares(self.shares, "--shares")
        positive_money(self.exercise_price, "--exercise-price")
        label = clean_text(self.label, "--label", allow_empty=True)
        ref = clean_name(self.ref, "--ref") if self.ref is not None else None
        closing = clean_name(self.closing, "--closing") if self.closing is not None else None
        return WarrantsIssued, {
            "ref": ref or _generated_ref(state, "W", position),
            "holder": holder,
            "shares": self.shares,
            "exercise_price": self.exercise_price,
            "expires": self.expires,
            "label": label,
            "closing": closing,
            **protection,
            "ownership_cap": ownership_cap(self.ownership_cap),
            "exercisable_from": self.exercisable_from,
        }


@dataclass(frozen=True, kw_only=True)
class ExerciseWarrants(Command):
    decides = WarrantsExercised

    warrant: str
    shares: int
    cashless: bool = False
    market_price: Decimal | None = None
    holder_owns: int | None = None

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "--shares")
        holder_owns_input(self.holder_owns)
        ref = clean_name(self.warrant, "warrant reference")
        warrant = state.issued_warrant(ref, self.effective_date)
        # (the fold's checks, called here too so that the cap below judges an exercise the
        # fold would accept, and a refusal reads as it always has)
        state.check_exercisable(ref, warrant, self.effective_date)
        strike = warrant.exercise_price
        if self.cashless:
            if self.market_price is None:
                raise InvalidInput("a cashless exercise needs --market-price")
            positive_money(self.market_price, "--market-price")
            state.check_cashless(warrant, self.market_price)
            common = cashless_shares(self.shares, strike, self.market_price)
            proceeds = Decimal("0.00")
        else:
            if self.market_price is not None:
                raise InvalidInput(
                    "--market-price is only for a cashless exercise (add --cashless); a cash "
                    "exercise pays the exercise price, so leave --market-price out"
                )
            common = self.shares
            proceeds = cents(mul(self.shares, strike))
        market = self.market_price
        check_cap(state, cap=warrant.ownership_cap, holder=warrant.holder,
                  holder_owns=self.holder_owns, on=self.effective_date, shares=self.shares,
                  common_for=lambda n: cashless_shares(n, strike, market)
                  if self.cashless and market is not None else n,
                  what=f"exercising {self.shares:,} shares of warrant {ref!r}")
        return WarrantsExercised, {
            "warrant": ref,
            "shares": self.shares,
            "cashless": self.cashless,
            "market_price": self.market_price,
            "common_shares": common,
            "proceeds": proceeds,
            "holder_owns": self.holder_owns,
        }


@dataclass(frozen=True, kw_only=True)
class DeclareDividend(Command):
    decides = DividendDeclared

    series: str
    through: date
    form: str
    price: Decimal | None = None

    def decide(self, state: LedgerState, position: int) -> Decision:
        series = state.get_series(clean_name(self.series, "series name"))
        if self.form not in PAYMENT_FORMS:
            raise InvalidInput("--form must be cash or stock")
        if self.form == "stock":
            if self.price is None:
                raise InvalidInput("a stock dividend needs --price, the price per common share")
            positive_money(self.price, "--price")
        elif self.price is not None:
            raise InvalidInput(
                "--price is the price per common share of a stock dividend; a cash dividend "
                "takes none, so leave --price out (or use --form stock)"
            )
        payments = []
        for holder in series.holdings():
            amount = cents(series.accrued(series.holder_lots(holder), self.through))
            if self.form == "stock" and self.price is not None:
                shares, cash = stock_payment(amount, self.price)
            else:
                shares, cash = 0, amount
            payments.append(
                HolderDividend(holder=holder, amount=amount, common_shares=shares, cash=cash)
            )
        common_shares = sum(p.common_shares for p in payments)
        within_limits(common_shares,
                      f"a stock dividend on {series.name!r} at {plain(self.price or Decimal(0))}")
        return DividendDeclared, {
            "series": series.name,
            "through": self.through,
            "form": self.form,
            "price": self.price if self.form == "stock" else None,
            "payments": tuple(payments),
            "amount": total((p.amount for p in payments), Decimal("0.00")),
            "common_shares": common_shares,
            "cash": total((p.cash for p in payments), Decimal("0.00")),
        }

    def advice(self, state: LedgerState) -> tuple[str, ...]:
        series = state.get_series(clean_name(self.series, "series name"))
        note = off_schedule(series.name, series.terms.frequency, self.through)
        return () if note is None else (note,)


@dataclass(frozen=True, kw_only=True)
class RequestConversion(Command):
    decides = ConversionRequested

    series: str
    holder: str
    shares: int
    holder_owns: int | None = None

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "--shares")
        holder_owns_input(self.holder_owns)
        series = state.get_series(clean_name(self.series, "series name"))
        holder = clean_name(self.holder, "--holder")
        state.check_holding(series, holder, self.shares, "convert", on=self.effective_date)
        outcome = self._outcome(series, holder, self.shares)
        within_limits(outcome["common_shares"], f"converting {self.shares:,} shares of "
                      f"{series.name!r} at once (convert in parts)")
        check_cap(state, cap=series.terms.ownership_cap, holder=holder,
                  holder_owns=self.holder_owns, on=self.effective_date, shares=self.shares,
                  common_for=lambda n: int(self._outcome(series, holder, n)["common_shares"]),
                  what=f"converting {self.shares:,} shares of {series.name!r}")
        return ConversionRequested, {**outcome, "holder_owns": self.holder_owns}

    def _outcome(self, series: SeriesState, holder: str, shares: int) -> dict[str, Any]:
        """What converting `shares` (oldest lots first) gives (DOMAIN.md 5)."""
        terms = series.terms
        parts, accrued = lot_accruals(
            series, series.take_lots(holder, shares), self.effective_date)
        stated = cents(mul(shares, terms.stated_value))
        value = EXACT.add(stated, accrued) if terms.convert_accrued else stated
        price = series.conversion_price  # the price in force on the conversion's date
        common = floor_shares(value, price)
        cash_in_lieu = cents(value - mul(common, price))
        return {
            "series": series.name,
            "holder": holder,
            "shares": shares,
            "lots": parts,
            "stated_value": stated,
            "accrued": accrued,
            "accrued_converted": terms.convert_accrued,
            "value": value,
            "common_shares": common,
            "cash_in_lieu": cash_in_lieu,
            "accrued_paid_in_cash": Decimal("0.00") if terms.convert_accrued else accrued,
        }


@dataclass(frozen=True, kw_only=True)
class ReportCommonOutstanding(Command):
    decides = CommonOutstandingReported
    reads_state = False

    shares: int

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "common shares outstanding")
        return CommonOutstandingReported, {"shares": self.shares}


@dataclass(frozen=True, kw_only=True)
class SplitStock(Command):
    """The common split `new` for every `old` (DOMAIN.md 12)."""

    decides = StockSplit

    new: int
    old: int

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.new, "--new")
        positive_shares(self.old, "--old")
        if self.new == self.old:
            raise InvalidInput(f"a {self.new}-for-{self.old} split changes nothing; give "
                               "different --new and --old (a 1-for-25 reverse split: "
                               "--new 1 --old 25)")
        on = self.effective_date
        series = tuple(
            SeriesPriceChange(series=s.name, old_price=s.conversion_price,
                              new_price=split_price(s.conversion_price, self.new, self.old))
            for s in state.series_in_order()
        )
        warrants: list[WarrantChange] = []
        for ref, w in state.warrants_in_order():
            if w.outstanding <= 0 or w.expired_on(on):
                continue
            shares = split_shares(w.outstanding, self.new, self.old)
            within_limits(shares, f"the split of warrant {ref!r}", what="shares outstanding")
            warrants.append(WarrantChange(
                warrant=ref, old_price=w.exercise_price,
                new_price=split_price(w.exercise_price, self.new, self.old),
                old_shares=w.outstanding, new_shares=shares))
        for change in series:
            if change.new_price <= 0:
                raise InvalidInput(f"the split would make series {change.series!r} convert at "
                                   f"{change.new_price}; no price may round to zero")
        for wc in warrants:
            if wc.new_price <= 0:
                raise InvalidInput(f"the split would make warrant {wc.warrant!r} exercisable "
                                   f"at {wc.new_price}; no price may round to zero")
        after = split_shares(state.common, self.new, self.old)
        within_limits(after, f"a {self.new}-for-{self.old} split",
                      what="common shares outstanding")
        for s in state.series.values():
            _as_converted_within_limits(
                state, s.name, s.authorized, s.terms.stated_value,
                split_price(s.conversion_price, self.new, self.old),
                source=f"a {self.new}-for-{self.old} split")
        return StockSplit, {
            "new": self.new,
            "old": self.old,
            "common_before": state.common,
            "common_after": after,
            "series": series,
            "warrants": tuple(warrants),
        }


@dataclass(frozen=True, kw_only=True)
class AdjustTerms(Command):
    """A board-decided change of terms (DOMAIN.md 14): a series' conversion price, or a
    warrant's exercise price and (optionally) its outstanding shares."""

    decides = TermsAdjusted

    reason: str
    series: str | None = None
    conversion_price: Decimal | None = None
    warrant: str | None = None
    exercise_price: Decimal | None = None
    shares: int | None = None

    @classmethod
    def of(cls, on: date, value: Value, get: Get) -> Command:
        """From the new terms an adjustment stores (the old ones are its outcome)."""
        series = get("series", None)
        if series is not None:
            return cls(effective_date=on, reason=value("reason"), series=series,
                       conversion_price=value("new_price"))
        return cls(effective_date=on, reason=value("reason"), warrant=get("warrant", None),
                   exercise_price=value("new_price"), shares=get("new_shares", None))

    def decide(self, state: LedgerState, position: int) -> Decision:
        reason = clean_text(self.reason, "--reason", noun="reason")
        series_form = self.series is not None or self.conversion_price is not None
        warrant_form = (self.warrant is not None or self.exercise_price is not None
                        or self.shares is not None)
        if series_form == warrant_form:
            raise InvalidInput("an adjustment is --series NAME --conversion-price P, or "
                               "--warrant REF --exercise-price K [--shares N]; give one of them")
        if series_form:
            if self.series is None or self.conversion_price is None:
                raise InvalidInput("a series adjustment needs both --series and "
                                   "--conversion-price")
            positive_money(self.conversion_price, "--conversion-price")
            series = state.get_series(clean_name(self.series, "--series"))
            _as_converted_within_limits(
                state, series.name, series.authorized, series.terms.stated_value,
                self.conversion_price, source=f"conversion price {plain(self.conversion_price)}")
            return TermsAdjusted, {
                "series": series.name, "warrant": None,
                "old_price": series.conversion_price, "new_price": self.conversion_price,
                "old_shares": None, "new_shares": None, "reason": reason,
            }
        if self.warrant is None or self.exercise_price is None:
            raise InvalidInput("a warrant adjustment needs both --warrant and --exercise-price")
        positive_money(self.exercise_price, "--exercise-price")
        ref = clean_name(self.warrant, "--warrant")
        warrant = state.issued_warrant(ref, self.effective_date)
        shares = warrant.outstanding if self.shares is None else self.shares
        if self.shares is not None:
            positive_shares(self.shares, "--shares")
        return TermsAdjusted, {
            "series": None, "warrant": ref,
            "old_price": warrant.exercise_price, "new_price": self.exercise_price,
            "old_shares": warrant.outstanding, "new_shares": shares, "reason": reason,
        }
