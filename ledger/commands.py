"""Commands: what a user asks the ledger to record, and the event each one decides.

`decide(state)` runs against the state of the timeline on the command's effective date and
returns the event's own fields, with every outcome computed (lots consumed, common shares,
cash in lieu, each holder's dividend). The service then checks the whole timeline with the
new event inserted, so a back-dated command is checked against what came after it too.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from events import (
    COMMON,
    Allocation,
    ClosingCompleted,
    CommonOutstandingReported,
    ConversionRequested,
    DividendDeclared,
    HolderDividend,
    LedgerEvent,
    LotConversion,
    SeriesAuthorizationIncreased,
    SeriesDesignated,
    WarrantsExercised,
    WarrantsIssued,
)
from ledger.calc import (
    DAY_COUNTS,
    MAX_MONEY,
    MAX_PLACES,
    MAX_SHARES,
    accrual_amount,
    cashless_shares,
    cents,
    floor_shares,
    mul,
    stock_payment,
)
from ledger.errors import InvalidInput, InvariantViolation
from ledger.schedule import FREQUENCIES, off_schedule
from ledger.state import LedgerState

DIVIDEND_FORMS = ("cash", "stock", "either")
PAYMENT_FORMS = ("cash", "stock")
MAX_NAME = 200

Decision = tuple[type[LedgerEvent], dict[str, Any]]


# Characters a name may not contain: controls (C0, DEL, C1), lone surrogates (undecodable
# command-line bytes), unassigned and private-use code points, line and paragraph separators,
# and the bidirectional embeddings, overrides and isolates that can make a name display as
# another one. Right-to-left letters and marks themselves are fine.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Cn", "Co", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Bounds that keep every product and quotient exact at calc.PRECISION digits.


def clean_text(value: str, what: str, *, allow_empty: bool = False, noun: str = "name") -> str:
    """Trim a free-text value; refuse control and invisible-only text (`noun` is what the
    refusal asks for: a name, a reason)."""
    text = value.strip()
    if text and text.isascii() and text.isprintable():
        # Plain printable ASCII holds no control, invisible or bidi character and, stripped
        # and not empty, starts with a visible one: only the length is left to check.
        if len(text) > MAX_NAME:
            raise InvalidInput(f"{what} is {len(text)} characters long; keep it to {MAX_NAME}")
        return text
    bad = next(
        (
            ch
            for ch in text
            if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES or ch in _BIDI_CONTROLS
        ),
        None,
    )
    if bad is not None:
        code = f"U+{ord(bad):04X}"
        raise InvalidInput(
            f"{what} contains the control or invisible character {code}; "
            "remove it and give plain text"
        )
    visible = any(unicodedata.category(ch)[0] not in "ZC" for ch in text)
    if not visible and not (allow_empty and not text):
        raise InvalidInput(f"{what} is empty; give a {noun} with at least one visible character")
    if len(text) > MAX_NAME:
        raise InvalidInput(f"{what} is {len(text)} characters long; keep it to {MAX_NAME}")
    return text


def clean_name(value: str, what: str) -> str:
    """Trim a name; refuse empty ones, control characters and invisible-only names."""
    return clean_text(value, what)


def positive_shares(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(f"{what} must be a whole positive number of shares, not {value!r}")
    if value > MAX_SHARES:
        raise InvalidInput(f"{what} {value:,} is too large; give at most {MAX_SHARES:,} shares")
    return value


def positive_money(value: Decimal, what: str, *, allow_zero: bool = False) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidInput(f"{what} must be a finite decimal such as 2.35, not {value!r}")
    if value < 0 or (value == 0 and not allow_zero) or value.is_signed():
        floor = "zero or more" if allow_zero else "more than zero"
        raise InvalidInput(f"{what} must be {floor}, not {value}")
    if value >= MAX_MONEY:
        raise InvalidInput(f"{what} {value} is too large; give less than {MAX_MONEY:,.0f}")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise InvalidInput(
            f"{what} {value} has more than {MAX_PLACES} decimal places; round it to {MAX_PLACES}"
        )
    return value


def _generated_ref(state: LedgerState, prefix: str, position: int) -> str:
    ref = f"{prefix}-{position:04d}"
    suffix = 1
    while state.ref_in_use(ref):
        suffix += 1
        ref = f"{prefix}-{position:04d}-{suffix}"
    return ref


@dataclass(frozen=True, kw_only=True)
class Command:
    effective_date: date

    def decide(self, state: LedgerState, position: int) -> Decision:
        raise NotImplementedError

    def references_position(self) -> int | None:
        return None

    def advice(self, state: LedgerState) -> tuple[str, ...]:
        """Warnings about an accepted command, worth printing but never a refusal."""
        return ()


@dataclass(frozen=True, kw_only=True)
class DesignateSeries(Command):
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

    def decide(self, state: LedgerState, position: int) -> Decision:
        name = clean_name(self.series, "series name")
        if name.lower() == COMMON:
            raise InvalidInput("`common` is reserved for common stock; choose another series name")
        positive_money(self.stated_value, "stated value")
        positive_money(self.conversion_price, "conversion price")
        positive_money(self.dividend_rate, "dividend rate", allow_zero=True)
        positive_money(self.par_value, "par value", allow_zero=True)
        positive_shares(self.authorized, "authorized shares")
        if self.dividend_rate > 100:
            raise InvalidInput(f"dividend rate {self.dividend_rate}% is over 100%; give a percent")
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
        }


@dataclass(frozen=True, kw_only=True)
class IncreaseAuthorization(Command):
    series: str
    shares: int

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "--shares")
        series = state.get_series(clean_name(self.series, "series name"))
        return SeriesAuthorizationIncreased, {
            "series": series.name,
            "shares": self.shares,
            "authorized": series.authorized + self.shares,
        }


@dataclass(frozen=True, kw_only=True)
class RecordClosing(Command):
    security: str
    investors: tuple[tuple[str, int], ...]
    price_per_share: Decimal | None = None
    fees: Decimal = Decimal("0")
    ref: str | None = None

    def decide(self, state: LedgerState, position: int) -> Decision:
        security = clean_name(self.security, "security")
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
        seen: set[str] = set()
        for raw_name, shares in self.investors:
            name = clean_name(raw_name, "investor name")
            positive_shares(shares, f"shares for investor {name!r}")
            if name in seen:
                raise InvalidInput(
                    f"investor {name!r} appears more than once; give each investor once"
                )
            seen.add(name)
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
        if ref is not None and state.ref_in_use(ref):
            raise InvariantViolation(f"reference {ref!r} is already used; give a new --ref")
        return ClosingCompleted, {
            "ref": ref or _generated_ref(state, "CL", position),
            "security": security,
            "price_per_share": price,
            "allocations": tuple(allocations),
            "shares": total,
            "gross": gross,
            "fees": fees,
            "net": gross - fees,
        }


@dataclass(frozen=True, kw_only=True)
class IssueWarrants(Command):
    holder: str
    shares: int
    exercise_price: Decimal
    expires: date | None = None
    label: str = ""
    closing: str | None = None
    ref: str | None = None

    def decide(self, state: LedgerState, position: int) -> Decision:
        holder = clean_name(self.holder, "--holder")
        positive_shares(self.shares, "--shares")
        positive_money(self.exercise_price, "--exercise-price")
        label = clean_text(self.label, "--label", allow_empty=True)
        ref = clean_name(self.ref, "--ref") if self.ref is not None else None
        if ref is not None and state.ref_in_use(ref):
            raise InvariantViolation(f"reference {ref!r} is already used; give a new --ref")
        closing = clean_name(self.closing, "--closing") if self.closing is not None else None
        return WarrantsIssued, {
            "ref": ref or _generated_ref(state, "W", position),
            "holder": holder,
            "shares": self.shares,
            "exercise_price": self.exercise_price,
            "expires": self.expires,
            "label": label,
            "closing": closing,
        }


@dataclass(frozen=True, kw_only=True)
class ExerciseWarrants(Command):
    warrant: str
    shares: int
    cashless: bool = False
    market_price: Decimal | None = None

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "--shares")
        ref = clean_name(self.warrant, "warrant reference")
        warrant = state.warrants.get(ref)
        if warrant is None:
            raise InvariantViolation(
                f"no warrant {ref!r} is issued on or before {self.effective_date}; "
                "`finledger report warrants` lists the references"
            )
        strike = warrant.exercise_price
        if self.cashless:
            if self.market_price is None:
                raise InvalidInput("a cashless exercise needs --market-price")
            positive_money(self.market_price, "--market-price")
            if self.market_price <= strike:
                raise InvariantViolation(
                    f"a cashless exercise needs a market price above the exercise price "
                    f"{strike}, not {self.market_price}"
                )
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
        return WarrantsExercised, {
            "warrant": ref,
            "shares": self.shares,
            "cashless": self.cashless,
            "market_price": self.market_price,
            "common_shares": common,
            "proceeds": proceeds,
        }


@dataclass(frozen=True, kw_only=True)
class DeclareDividend(Command):
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
        return DividendDeclared, {
            "series": series.name,
            "through": self.through,
            "form": self.form,
            "price": self.price if self.form == "stock" else None,
            "payments": tuple(payments),
            "amount": sum((p.amount for p in payments), Decimal("0.00")),
            "common_shares": sum(p.common_shares for p in payments),
            "cash": sum((p.cash for p in payments), Decimal("0.00")),
        }

    def advice(self, state: LedgerState) -> tuple[str, ...]:
        series = state.get_series(clean_name(self.series, "series name"))
        note = off_schedule(series.name, series.terms.frequency, self.through)
        return () if note is None else (note,)


@dataclass(frozen=True, kw_only=True)
class RequestConversion(Command):
    series: str
    holder: str
    shares: int

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "--shares")
        series = state.get_series(clean_name(self.series, "series name"))
        holder = clean_name(self.holder, "--holder")
        lots = series.holder_lots(holder)
        held = sum(lot.shares for lot in lots)
        if self.shares > held:
            raise InvariantViolation(
                f"{holder!r} holds {held:,} shares of {series.name!r} on {self.effective_date}; "
                f"it can convert at most that many, not {self.shares:,}"
            )
        terms = series.terms
        parts: list[LotConversion] = []
        numerator = Decimal(0)
        remaining = self.shares
        for lot in lots:  # oldest first
            if remaining == 0:
                break
            take = min(remaining, lot.shares)
            lot_numerator = (
                series.lot_numerator(lot, take, self.effective_date)
                if terms.cumulative
                else Decimal(0)
            )
            numerator += lot_numerator
            parts.append(
                LotConversion(
                    lot=lot.id,
                    shares=take,
                    accrued=cents(accrual_amount(lot_numerator, terms.day_count)),
                )
            )
            remaining -= take
        accrued = cents(accrual_amount(numerator, terms.day_count))
        stated = cents(mul(self.shares, terms.stated_value))
        value = stated + accrued if terms.convert_accrued else stated
        common = floor_shares(value, terms.conversion_price)
        cash_in_lieu = cents(value - mul(common, terms.conversion_price))
        return ConversionRequested, {
            "series": series.name,
            "holder": holder,
            "shares": self.shares,
            "lots": tuple(parts),
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
    shares: int

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "common shares outstanding")
        return CommonOutstandingReported, {"shares": self.shares}
