"""The ledger as an Open Cap Table Format 1.2.0 package: a pure mapping from events to files.

`package(events, issuer)` returns each file of the package (name -> JSON document): the
manifest, stakeholders, stock classes, transactions and financings. Each event type has one
case in `CASES` (a test checks every type has one), so a new event type is one new case.

OCF records securities, not lots and outcomes, so the mapping is this (README "Open Cap
Table Format" lists it per event type): a closing issues one stock security per investor
(the ledger's lot, `REF/INVESTOR`), a warrant one warrant security (its reference); a
conversion converts each lot it took from (`TX_STOCK_CONVERSION`, the unconverted rest
re-issued as a balance security) into one new common security; an exercise exercises the
warrant into common (the unexercised rest re-issued as a balance warrant); a transfer moves
each lot it took (`TX_STOCK_TRANSFER`) into the transferee's new lot, a warrant transfer the
warrant (`TX_WARRANT_TRANSFER`) into the new warrant, a redemption repurchases each lot it took
(`TX_STOCK_REPURCHASE`), the rest of a lot or warrant re-issued as a balance; a stock dividend
issues common to each holder; a series' authorization increase is a
`TX_STOCK_CLASS_AUTHORIZED_SHARES_ADJUSTMENT` carrying the new total (the 1.2.0 transactions
file has no issuer-level adjustment); a reversed closing or warrant is retracted.

What OCF cannot say is written in `comments` (on the object it concerns, and the list in the
manifest): dividend terms and accruals, cash dividends, cash in lieu of fractions, accrued
dividends paid in cash, closing fees, the reported common outstanding, reversals of anything
but an issuance (neither the event nor its reversal appears as a transaction), and the hash
chain (the manifest names the ledger's head).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

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
from ledger.terms import lot_id

OCF_VERSION = "1.2.0"
CURRENCY = "USD"
COMMON_CLASS = "common"

FILES = {  # file type -> file name, in the manifest's order
    "OCF_STAKEHOLDERS_FILE": "Stakeholders.ocf.json",
    "OCF_STOCK_CLASSES_FILE": "StockClasses.ocf.json",
    "OCF_TRANSACTIONS_FILE": "Transactions.ocf.json",
    "OCF_FINANCINGS_FILE": "Financings.ocf.json",
}
MANIFEST = "Manifest.ocf.json"
MANIFEST_KEYS = {
    "OCF_STAKEHOLDERS_FILE": "stakeholders_files",
    "OCF_STOCK_CLASSES_FILE": "stock_classes_files",
    "OCF_TRANSACTIONS_FILE": "transactions_files",
    "OCF_FINANCINGS_FILE": "financings_files",
}
EMPTY_LISTS = ("stock_plans_files", "stock_legend_templates_files", "vesting_terms_files",
               "valuations_files")

Obj = dict[str, Any]


@dataclass(frozen=True)
class Issuer:
    legal_name: str
    formation_date: date
    country: str = "US"


def numeric(value: Decimal | int) -> str:
    """OCF's Numeric: a fixed-point string (never an exponent)."""
    if isinstance(value, int):
        return str(value)
    return format(value, "f")


def money(value: Decimal) -> Obj:
    return {"amount": numeric(value), "currency": CURRENCY}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@dataclass
class _Lot:
    security_id: str
    holder: str
    stock_class_id: str
    share_price: Decimal
    shares: int
    balances: int = 0
    issuance_tx: str = ""


@dataclass
class _Warrant:
    security_id: str
    holder: str
    outstanding: int
    exercise_price: Decimal
    expires: date | None
    issued_on: date
    label: str
    closing: str | None
    balances: int = 0


@dataclass
class _Builder:
    """The package as it is built, event by event (in effective-date order)."""

    stakeholders: dict[str, Obj] = field(default_factory=dict)  # name -> object
    classes: dict[str, Obj] = field(default_factory=dict)  # series name (or common) -> object
    conversion_prices: dict[str, Decimal] = field(default_factory=dict)  # series -> in force
    transactions: list[Obj] = field(default_factory=list)
    financings: dict[str, Obj] = field(default_factory=dict)  # closing ref -> object
    comments: list[str] = field(default_factory=list)
    lots: dict[str, _Lot] = field(default_factory=dict)
    warrants: dict[str, _Warrant] = field(default_factory=dict)
    slugs: set[str] = field(default_factory=set)
    skipped: set[int] = field(default_factory=set)  # reversed non-issuances and their reversals

    # --- objects -----------------------------------------------------------------------

    def stakeholder(self, name: str) -> str:
        found = self.stakeholders.get(name)
        if found is None:
            base = f"stakeholder-{_slug(name)}"
            ident, n = base, 2
            while ident in self.slugs:
                ident, n = f"{base}-{n}", n + 1
            self.slugs.add(ident)
            found = self.stakeholders[name] = {
                "id": ident, "object_type": "STAKEHOLDER", "name": {"legal_name": name},
                "stakeholder_type": "INSTITUTION",
                "comments": ["finledger records holders by name only; the stakeholder type is "
                             "assumed (INSTITUTION)"],
            }
        return str(found["id"])

    def stock_class(self, series: str) -> str:
        if series == COMMON:
            return COMMON_CLASS
        return str(self.classes[series]["id"])

    def tx(self, event: LedgerEvent, kind: str, n: int | None = None, **body: Any) -> Obj:
        suffix = f"-{n}" if n is not None else ""
        obj: Obj = {"id": f"tx-{event.originator_version}-{kind.removeprefix('TX_').lower()}{suffix}",
                    "object_type": kind, "date": event.effective_date.isoformat(), **body}
        notes = [f"finledger position {event.originator_version} ({type(event).__name__})",
                 *body.get("comments", [])]
        obj["comments"] = notes
        self.transactions.append(obj)
        return obj

    def issue_stock(self, event: LedgerEvent, n: int | None, *, security_id: str, holder: str,
                    stock_class_id: str, price: Decimal, shares: int,
                    comments: Sequence[str] = ()) -> Obj:
        return self.tx(
            event, "TX_STOCK_ISSUANCE", n, security_id=security_id, custom_id=security_id,
            stakeholder_id=self.stakeholder(holder), stock_class_id=stock_class_id,
            share_price=money(price), quantity=numeric(shares), security_law_exemptions=[],
            stock_legend_ids=[], comments=list(comments),
        )

    def issue_warrant(self, event: LedgerEvent, n: int | None, warrant: _Warrant,
                      comments: Sequence[str] = ()) -> Obj:
        right = {"type": "WARRANT_CONVERSION_RIGHT", "converts_to_stock_class_id": COMMON_CLASS,
                 "conversion_mechanism": {"type": "FIXED_AMOUNT_CONVERSION",
                                          "converts_to_quantity": numeric(warrant.outstanding)}}
        trigger: Obj = {"trigger_id": _trigger(warrant.security_id), "conversion_right": right}
        if warrant.expires is not None:
            trigger.update(type="ELECTIVE_IN_RANGE", start_date=warrant.issued_on.isoformat(),
                           end_date=warrant.expires.isoformat())
        else:
            trigger["type"] = "ELECTIVE_AT_WILL"
        body: Obj = {
            "security_id": warrant.security_id, "custom_id": warrant.security_id,
            "stakeholder_id": self.stakeholder(warrant.holder),
            "quantity": numeric(warrant.outstanding),
            "exercise_price": money(warrant.exercise_price), "purchase_price": money(Decimal(0)),
            "exercise_triggers": [trigger], "security_law_exemptions": [],
            "quantity_source": "INSTRUMENT_FIXED",
            "comments": [*([f"label: {warrant.label}"] if warrant.label else []),
                         *([f"issued with closing {warrant.closing}"] if warrant.closing else []),
                         "purchase price not recorded by finledger (0 stated)", *comments],
        }
        if warrant.expires is not None:
            body["warrant_expiration_date"] = warrant.expires.isoformat()
        return self.tx(event, "TX_WARRANT_ISSUANCE", n, **body)

    def note(self, event: LedgerEvent, text: str) -> None:
        self.comments.append(f"position {event.originator_version} "
                             f"({type(event).__name__}, {event.effective_date}): {text}")


def _trigger(security_id: str) -> str:
    return f"exercise-{security_id}"


# --- one case per event type ---------------------------------------------------------------

Case = Callable[[_Builder, Any], None]


def _ratio(stated_value: Decimal, price: Decimal) -> Obj:
    return {"type": "RATIO_CONVERSION", "conversion_price": money(price),
            "ratio": {"numerator": numeric(stated_value), "denominator": numeric(price)},
            "rounding_type": "FLOOR"}


def _reprice_series(b: _Builder, e: LedgerEvent, n: int, *, series: str, old: Decimal,
                    new: Decimal, why: str) -> None:
    """A series' new conversion price: `TX_STOCK_CLASS_CONVERSION_RATIO_ADJUSTMENT`."""
    b.conversion_prices[series] = new
    stated = Decimal(b.classes[series]["price_per_share"]["amount"])
    b.tx(e, "TX_STOCK_CLASS_CONVERSION_RATIO_ADJUSTMENT", n,
         stock_class_id=b.stock_class(series), new_ratio_conversion_mechanism=_ratio(stated, new),
         comments=[f"{why}: conversion price {old} -> {new} (computed by finledger)"])


def _reprice_warrant(b: _Builder, e: LedgerEvent, n: int, *, ref: str, price: Decimal,
                     shares: int, why: str) -> None:
    """A warrant's new exercise price and shares. OCF 1.2.0 has no warrant adjustment: the
    warrant is cancelled whole and re-issued with the new terms as its balance security."""
    warrant = b.warrants[ref]
    old_id, old_price, old_shares = warrant.security_id, warrant.exercise_price, warrant.outstanding
    warrant.balances += 1
    warrant.security_id = f"{ref}#terms-{warrant.balances}"
    text = (f"{why}: {old_shares} shares at {old_price} -> {shares} at {price} (OCF has no "
            "warrant adjustment: cancelled and re-issued with the new terms)")
    b.tx(e, "TX_WARRANT_CANCELLATION", n, security_id=old_id, quantity=numeric(old_shares),
         balance_security_id=warrant.security_id, reason_text=text)
    warrant.exercise_price, warrant.outstanding = price, shares
    b.issue_warrant(e, 100 + n, warrant, [text])


def _split(b: _Builder, e: StockSplit) -> None:
    b.tx(e, "TX_STOCK_CLASS_SPLIT", 0, stock_class_id=COMMON_CLASS,
         split_ratio={"numerator": numeric(e.new), "denominator": numeric(e.old)},
         comments=[f"{e.new}-for-{e.old} split: common outstanding {e.common_before} -> "
                   f"{e.common_after} (finledger's new baseline)"])
    why = f"{e.new}-for-{e.old} split"
    for n, change in enumerate(e.series, start=1):
        _reprice_series(b, e, n, series=change.series, old=change.old_price,
                        new=change.new_price, why=why)
    for n, w in enumerate(e.warrants, start=len(e.series) + 1):
        _reprice_warrant(b, e, n, ref=w.warrant, price=w.new_price, shares=w.new_shares,
                         why=why)


def _terms_adjusted(b: _Builder, e: TermsAdjusted) -> None:
    why = f"adjustment by hand ({e.reason})"
    if e.series is not None:
        _reprice_series(b, e, 1, series=e.series, old=e.old_price, new=e.new_price, why=why)
    elif e.warrant is not None:
        shares = e.new_shares if e.new_shares is not None else b.warrants[e.warrant].outstanding
        _reprice_warrant(b, e, 1, ref=e.warrant, price=e.new_price, shares=shares, why=why)


def _designated(b: _Builder, e: SeriesDesignated) -> None:
    kind = "cumulative" if e.cumulative else "non-cumulative"
    b.conversion_prices[e.series] = e.conversion_price
    b.classes[e.series] = {
        "id": f"class-{_slug(e.series)}", "object_type": "STOCK_CLASS", "name": e.series,
        "class_type": "PREFERRED", "default_id_prefix": f"{_slug(e.series)}-",
        "initial_shares_authorized": numeric(e.authorized),
        "board_approval_date": e.effective_date.isoformat(),
        "votes_per_share": "0", "seniority": "2", "par_value": money(e.par_value),
        "price_per_share": money(e.stated_value),
        "conversion_rights": [{
            "type": "STOCK_CLASS_CONVERSION_RIGHT", "converts_to_stock_class_id": COMMON_CLASS,
            "conversion_mechanism": _ratio(e.stated_value, e.conversion_price),
        }],
        "comments": [
            f"finledger position {e.originator_version} (SeriesDesignated)",
            f"stated value {e.stated_value} per share; converts at {e.conversion_price} "
            "(common = floor(shares x stated value / conversion price) per notice, the "
            "fraction paid in cash)",
            f"dividends (not representable in OCF): {e.dividend_rate}% a year on stated "
            f"value, {kind}, {e.frequency}, day count {e.day_count}, payable in "
            f"{e.dividend_form}; accrued dividends "
            + ("convert with the stated value" if e.convert_accrued else "are paid in cash "
               "at conversion"),
            "votes per share not recorded by finledger (0 stated)",
        ],
    }


def _authorized(b: _Builder, e: SeriesAuthorizationIncreased) -> None:
    b.tx(e, "TX_STOCK_CLASS_AUTHORIZED_SHARES_ADJUSTMENT", stock_class_id=b.stock_class(e.series),
         new_shares_authorized=numeric(e.authorized),
         comments=[f"{e.shares} more shares authorized; the new total is stated"])


def _closing(b: _Builder, e: ClosingCompleted) -> None:
    class_id = b.stock_class(e.security)
    ids = []
    for n, allocation in enumerate(e.allocations, start=1):
        if allocation.shares <= 0:
            continue
        lot = _Lot(lot_id(e.ref, allocation.investor), allocation.investor, class_id,
                   e.price_per_share, allocation.shares)
        obj = b.issue_stock(e, n, security_id=lot.security_id, holder=lot.holder,
                            stock_class_id=class_id, price=lot.share_price, shares=lot.shares,
                            comments=[f"closing {e.ref}: gross {allocation.gross}"])
        lot.issuance_tx = str(obj["id"])
        b.lots[lot.security_id] = lot
        ids.append(str(obj["id"]))
    b.financings[e.ref] = {
        "id": f"financing-{_slug(e.ref)}", "object_type": "FINANCING", "name": f"Closing {e.ref}",
        "issuance_ids": ids, "date": e.effective_date.isoformat(),
        "comments": [f"finledger position {e.originator_version} (ClosingCompleted)",
                     f"{e.shares} shares of {e.security} at {e.price_per_share}: gross "
                     f"{e.gross}, fees {e.fees}, net {e.net} (fees are not representable in "
                     "OCF)", *(["exempt from anti-dilution"] if e.exempt else [])],
    }
    for n, a in enumerate(e.adjustments, start=1000):
        inputs = f", A = {a.a}, B = {a.b}, C = {a.c}" if a.a is not None else ""
        why = f"anti-dilution ({a.method}{inputs}) by closing {e.ref} at {e.price_per_share}"
        if a.instrument == "series":
            _reprice_series(b, e, n, series=a.name, old=a.old_price, new=a.new_price, why=why)
        else:
            _reprice_warrant(b, e, n, ref=a.name, price=a.new_price, shares=a.new_shares or 0,
                             why=why)


def _warrants(b: _Builder, e: WarrantsIssued) -> None:
    warrant = _Warrant(e.ref, e.holder, e.shares, e.exercise_price, e.expires,
                       e.effective_date, e.label, e.closing)
    obj = b.issue_warrant(e, None, warrant)
    b.warrants[e.ref] = warrant
    if e.closing is not None and e.closing in b.financings:
        b.financings[e.closing]["issuance_ids"].append(obj["id"])


def _exercised(b: _Builder, e: WarrantsExercised) -> None:
    warrant = b.warrants[e.warrant]
    resulting = []
    if e.common_shares:
        common = f"{e.warrant}/exercise-{e.originator_version}"
        b.issue_stock(e, 1, security_id=common, holder=warrant.holder,
                      stock_class_id=COMMON_CLASS, price=warrant.exercise_price,
                      shares=e.common_shares)
        resulting.append(common)
    how = (f"cashless at market price {e.market_price}: {e.common_shares} common for "
           f"{e.shares} warrant shares" if e.cashless else
           f"cash exercise of {e.shares} shares at {warrant.exercise_price}: proceeds {e.proceeds}")
    b.tx(e, "TX_WARRANT_EXERCISE", security_id=warrant.security_id,
         trigger_id=_trigger(warrant.security_id), resulting_security_ids=resulting,
         consideration_text=how, comments=[how])
    warrant.outstanding -= e.shares
    if warrant.outstanding > 0:
        warrant.balances += 1
        previous = warrant.security_id
        warrant.security_id = f"{e.warrant}#balance-{warrant.balances}"
        b.issue_warrant(e, 2, warrant, [f"the {warrant.outstanding} shares of {previous} "
                                        "left unexercised"])


def _dividend(b: _Builder, e: DividendDeclared) -> None:
    if e.form == "cash":
        paid = "; ".join(f"{p.holder} {p.amount}" for p in e.payments)
        b.note(e, f"cash dividend on {e.series} through {e.through}: {e.amount} ({paid}); "
                  "cash dividends are not representable in OCF")
        return
    for n, payment in enumerate(e.payments, start=1):
        notes = [f"stock dividend on {e.series} through {e.through}: {payment.amount} at "
                 f"{e.price} per common share"]
        if payment.cash:
            notes.append(f"cash in lieu of a fraction: {payment.cash} (not representable in OCF)")
        if payment.common_shares:
            b.issue_stock(e, n, security_id=f"dividend-{e.originator_version}/{payment.holder}",
                          holder=payment.holder, stock_class_id=COMMON_CLASS,
                          price=e.price or Decimal(0), shares=payment.common_shares,
                          comments=notes)
    b.note(e, f"stock dividend on {e.series} through {e.through}: {e.amount}, "
              f"{e.common_shares} common shares, cash in lieu {e.cash}")


def _conversion(b: _Builder, e: ConversionRequested) -> None:
    resulting = []
    if e.common_shares:
        common = f"conversion-{e.originator_version}/{e.holder}"
        b.issue_stock(e, 0, security_id=common, holder=e.holder, stock_class_id=COMMON_CLASS,
                      price=b.conversion_prices[e.series], shares=e.common_shares)
        resulting.append(common)
    lost = (f"conversion value {e.value} (stated {e.stated_value}, accrued {e.accrued}"
            f"{' converted' if e.accrued_converted else ''}); cash in lieu {e.cash_in_lieu}"
            f", accrued dividends paid in cash {e.accrued_paid_in_cash} (cash is not "
            "representable in OCF)")
    for n, part in enumerate(e.lots, start=1):
        lot = b.lots[part.lot]
        lot.shares -= part.shares
        body: Obj = {"security_id": lot.security_id, "resulting_security_ids": resulting,
                     "quantity_converted": numeric(part.shares),
                     "comments": [f"lot {part.lot}: accrued {part.accrued}", lost]}
        balance = None
        if lot.shares > 0:
            lot.balances += 1
            balance = f"{part.lot}#balance-{lot.balances}"
            body["balance_security_id"] = balance
        b.tx(e, "TX_STOCK_CONVERSION", n, **body)
        if balance is not None:
            b.issue_stock(e, 100 + n, security_id=balance, holder=lot.holder,
                          stock_class_id=lot.stock_class_id, price=lot.share_price,
                          shares=lot.shares, comments=[f"the {lot.shares} shares of "
                                                       f"{lot.security_id} left unconverted"])
            lot.security_id = balance


def _balance(lot: _Lot, part_lot: str, body: Obj) -> None:
    """After `lot` gave some shares away: the rest is re-issued as a balance security, named
    in `body` (the transaction about to be written) and issued after it."""
    if lot.shares > 0:
        lot.balances += 1
        body["balance_security_id"] = f"{part_lot}#balance-{lot.balances}"


def _issue_balance(b: _Builder, e: LedgerEvent, n: int, lot: _Lot, body: Obj) -> None:
    balance = body.get("balance_security_id")
    if balance is not None:
        b.issue_stock(e, 100 + n, security_id=balance, holder=lot.holder,
                      stock_class_id=lot.stock_class_id, price=lot.share_price,
                      shares=lot.shares, comments=[f"the {lot.shares} shares of "
                                                   f"{lot.security_id} left"])
        lot.security_id = balance


def _transfer(b: _Builder, e: SharesTransferred) -> None:
    for n, part in enumerate(e.lots, start=1):
        lot = b.lots[part.lot]
        new = _Lot(part.new_lot, e.to_holder, lot.stock_class_id, lot.share_price, part.shares)
        obj = b.issue_stock(e, n, security_id=new.security_id, holder=new.holder,
                            stock_class_id=new.stock_class_id, price=new.share_price,
                            shares=new.shares,
                            comments=[f"transfer {e.ref}: {part.shares} shares of {part.lot} "
                                      f"(issued {part.issued_on}, accruing from "
                                      f"{part.accrual_start}; dividends are not representable "
                                      "in OCF)"])
        new.issuance_tx = str(obj["id"])
        b.lots[new.security_id] = new
        lot.shares -= part.shares
        body: Obj = {"security_id": lot.security_id, "quantity": numeric(part.shares),
                     "resulting_security_ids": [new.security_id],
                     "comments": [f"transfer {e.ref} from {e.from_holder} to {e.to_holder}"]}
        _balance(lot, part.lot, body)
        b.tx(e, "TX_STOCK_TRANSFER", n, **body)
        _issue_balance(b, e, n, lot, body)


def _warrant_transfer(b: _Builder, e: WarrantsTransferred) -> None:
    source = b.warrants[e.warrant]
    new = _Warrant(e.ref, e.holder, e.shares, e.exercise_price, e.expires, e.issued_on,
                   e.label, e.closing)
    b.issue_warrant(e, 1, new, [f"assigned from {e.warrant} ({e.from_holder})"])
    b.warrants[e.ref] = new
    source.outstanding -= e.shares
    body: Obj = {"security_id": source.security_id, "quantity": numeric(e.shares),
                 "resulting_security_ids": [new.security_id],
                 "comments": [f"{e.shares} warrant shares from {e.from_holder} to {e.holder}"]}
    previous = source.security_id
    if source.outstanding > 0:
        source.balances += 1
        source.security_id = f"{e.warrant}#balance-{source.balances}"
        body["balance_security_id"] = source.security_id
    b.tx(e, "TX_WARRANT_TRANSFER", **body)
    if source.outstanding > 0:
        b.issue_warrant(e, 2, source, [f"the {source.outstanding} shares of {previous} "
                                       "not transferred"])


def _redemption(b: _Builder, e: SharesRedeemed) -> None:
    for n, part in enumerate(e.lots, start=1):
        lot = b.lots[part.lot]
        lot.shares -= part.shares
        body: Obj = {"security_id": lot.security_id, "quantity": numeric(part.shares),
                     "price": money(e.price_per_share),
                     "consideration_text": f"{e.price_per_share} per share plus accrued "
                                           f"dividends {part.accrued}",
                     "comments": [f"redemption {e.ref}: {e.amount} for {e.shares} shares plus "
                                  f"accrued dividends {e.accrued}, paid {e.total} (accrued "
                                  "dividends are not representable in OCF)"]}
        _balance(lot, part.lot, body)
        b.tx(e, "TX_STOCK_REPURCHASE", n, **body)
        _issue_balance(b, e, n, lot, body)


def _baseline(b: _Builder, e: CommonOutstandingReported) -> None:
    text = (f"{e.shares} common shares outstanding reported on {e.effective_date} (a baseline "
            "from filings; OCF has no transaction for it)")
    b.note(e, text)
    b.classes[COMMON]["comments"].append(f"position {e.originator_version}: {text}")


def _reversal(b: _Builder, e: EventReversed) -> None:
    target = e.reversed
    if isinstance(target, ClosingCompleted):
        for n, allocation in enumerate(target.allocations, start=1):
            lot = b.lots.get(f"{target.ref}/{allocation.investor}")
            if lot is not None:
                b.tx(e, "TX_STOCK_RETRACTION", n, security_id=lot.security_id,
                     reason_text=e.reason)
        return
    if isinstance(target, WarrantsIssued):
        warrant = b.warrants.get(target.ref)
        if warrant is not None:
            b.tx(e, "TX_WARRANT_RETRACTION", security_id=warrant.security_id,
                 reason_text=e.reason)
        return
    raise AssertionError("a reversal of a non-issuance is left out before mapping")


CASES: dict[type[LedgerEvent], Case] = {
    SeriesDesignated: _designated,
    SeriesAuthorizationIncreased: _authorized,
    ClosingCompleted: _closing,
    WarrantsIssued: _warrants,
    WarrantsExercised: _exercised,
    DividendDeclared: _dividend,
    ConversionRequested: _conversion,
    CommonOutstandingReported: _baseline,
    EventReversed: _reversal,
    StockSplit: _split,
    TermsAdjusted: _terms_adjusted,
    SharesTransferred: _transfer,
    WarrantsTransferred: _warrant_transfer,
    SharesRedeemed: _redemption,
}
"""Event type -> how it enters the package. A new event type adds one case."""

RETRACTABLE = (ClosingCompleted, WarrantsIssued)
"""Reversals OCF can say (a retraction voids an issuance); any other reversal is a comment."""


# --- the package -----------------------------------------------------------------------------


def _common_class() -> Obj:
    return {
        "id": COMMON_CLASS, "object_type": "STOCK_CLASS", "name": "Common Stock",
        "class_type": "COMMON", "default_id_prefix": "CS-",
        "initial_shares_authorized": "NOT APPLICABLE", "votes_per_share": "1",
        "seniority": "1",
        "comments": ["the common stock the preferred converts into and the warrants are "
                     "exercised for; finledger does not record its authorized shares, its "
                     "holders other than those it issued to, or its par value"],
    }


def dumps(document: Obj) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def package(
    events: Sequence[LedgerEvent], issuer: Issuer, *, as_of: date, generated_at: datetime,
    head: tuple[int, str],
) -> dict[str, bytes]:
    """Every file of the package, by file name, as the bytes to write."""
    b = _Builder()
    b.classes[COMMON] = _common_class()
    for e in events:
        if isinstance(e, EventReversed) and not isinstance(e.reversed, RETRACTABLE):
            b.skipped.update((e.originator_version, e.reversed_position))
            b.note(e, f"reverses {type(e.reversed).__name__} at position {e.reversed_position} "
                      f"({e.reason}); OCF cannot reverse it, so neither appears as a "
                      "transaction")
    for e in sorted(events, key=lambda e: (e.effective_date, e.originator_version)):
        if e.originator_version not in b.skipped:
            CASES[type(e)](b, e)
    documents: dict[str, Obj] = {
        FILES["OCF_STAKEHOLDERS_FILE"]: {"file_type": "OCF_STAKEHOLDERS_FILE",
                                         "items": list(b.stakeholders.values())},
        FILES["OCF_STOCK_CLASSES_FILE"]: {"file_type": "OCF_STOCK_CLASSES_FILE",
                                          "items": list(b.classes.values())},
        FILES["OCF_TRANSACTIONS_FILE"]: {"file_type": "OCF_TRANSACTIONS_FILE",
                                         "items": b.transactions},
        FILES["OCF_FINANCINGS_FILE"]: {"file_type": "OCF_FINANCINGS_FILE",
                                       "items": list(b.financings.values())},
    }
    files = {name: dumps(doc) for name, doc in documents.items()}
    manifest: Obj = {
        "ocf_version": OCF_VERSION, "file_type": "OCF_MANIFEST_FILE",
        "issuer": {
            "id": "issuer", "object_type": "ISSUER", "legal_name": issuer.legal_name,
            "formation_date": issuer.formation_date.isoformat(),
            "country_of_formation": issuer.country,
        },
        "as_of": as_of.isoformat(),
        "generated_at": generated_at.isoformat(),
        "comments": [
            f"exported by finledger from a ledger of {len(events)} events whose hash chain "
            f"ends at position {head[0]} with {head[1]} (the SHA-256 chain itself is not "
            "representable in OCF; `finledger audit verify --expect-head` checks it)",
            "money is in USD; amounts and prices are exact decimals as recorded",
            *b.comments,
        ],
        **{key: [] for key in EMPTY_LISTS},
    }
    for file_type, name in FILES.items():
        manifest[MANIFEST_KEYS[file_type]] = [
            {"filepath": name, "md5": hashlib.md5(files[name], usedforsecurity=False).hexdigest()}
        ]
    return {MANIFEST: dumps(manifest), **files}
