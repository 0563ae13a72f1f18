"""Commands for holdings that change hands or come back (DOMAIN.md 11 and 15): a transfer of
preferred between holders, a warrant assigned to another holder, a redemption.

Each decides its event's outcome on the state of its date, like the commands of
`ledger.commands`: the lots taken (oldest first) and what they became or were paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from events import LotTransfer, SharesRedeemed, SharesTransferred, WarrantsTransferred
from ledger.calc import cents, mul
from ledger.commands import Command, Decision, Get, Value, _generated_ref, lot_accruals
from ledger.inputs import clean_name, positive_money, positive_shares
from ledger.state import LedgerState
from ledger.terms import transferred_lot_id


def _ref(state: LedgerState, given: str | None, prefix: str, position: int) -> str:
    """The given reference (the fold refuses one in use), or a new one."""
    return _generated_ref(state, prefix, position) if given is None else clean_name(given, "--ref")


@dataclass(frozen=True, kw_only=True)
class TransferShares(Command):
    """N shares of a series from one holder to another: the transferor's lots are taken
    oldest first, a lot taken in part splits in two, and each new lot keeps its closing,
    issue date and accrual start and names the lot it came from."""

    decides = SharesTransferred

    series: str
    from_holder: str
    to_holder: str
    shares: int
    ref: str | None = None

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "--shares")
        series = state.get_series(clean_name(self.series, "series name"))
        giver = clean_name(self.from_holder, "--from")
        taker = clean_name(self.to_holder, "--to")
        if giver != taker:  # (the fold refuses a transfer to oneself)
            state.check_holding(series, giver, self.shares, "transfer", on=self.effective_date)
        ref = _ref(state, self.ref, "TR", position)
        parts = tuple(
            LotTransfer(lot=lot.id, shares=take, new_lot=transferred_lot_id(ref, taker, number),
                        closing=lot.closing, issued_on=lot.issued_on,
                        accrual_start=series.accrual_start(lot))
            for number, (lot, take) in enumerate(series.take_lots(giver, self.shares), 1)
        )
        return SharesTransferred, {
            "ref": ref,
            "series": series.name,
            "from_holder": giver,
            "to_holder": taker,
            "shares": self.shares,
            "lots": parts,
        }


@dataclass(frozen=True, kw_only=True)
class TransferWarrants(Command):
    """N of a warrant's outstanding shares assigned to another holder: a new warrant with
    the same terms (exercise price, expiry, label, closing, issue date, cap)."""

    decides = WarrantsTransferred

    warrant: str
    to_holder: str
    shares: int
    ref: str | None = None

    @classmethod
    def of(cls, on: date, value: Value, get: Get) -> Command:
        return cls(effective_date=on, warrant=value("warrant"), to_holder=value("holder"),
                   shares=value("shares"), ref=get("ref", None))

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "--shares")
        source = clean_name(self.warrant, "warrant reference")
        taker = clean_name(self.to_holder, "--to")
        warrant = state.issued_warrant(source, self.effective_date)
        return WarrantsTransferred, {
            "ref": _ref(state, self.ref, "W", position),
            "warrant": source,
            "from_holder": warrant.holder,
            "holder": taker,
            "shares": self.shares,
            "exercise_price": warrant.exercise_price,
            "expires": warrant.expires,
            "label": warrant.label,
            "closing": warrant.closing,
            "issued_on": warrant.issued_on,
            "exercisable_from": warrant.exercisable_from,
            "ownership_cap": warrant.ownership_cap,
        }


@dataclass(frozen=True, kw_only=True)
class RedeemShares(Command):
    """The company buys N shares of a series back from a holder at a price per share
    (default the stated value): lots oldest first; it pays N x price plus, on a cumulative
    series, the dividends accrued on those lots up to the date."""

    decides = SharesRedeemed

    series: str
    holder: str
    shares: int
    price_per_share: Decimal | None = None
    ref: str | None = None

    def decide(self, state: LedgerState, position: int) -> Decision:
        positive_shares(self.shares, "--shares")
        series = state.get_series(clean_name(self.series, "series name"))
        holder = clean_name(self.holder, "--holder")
        price = series.terms.stated_value if self.price_per_share is None else self.price_per_share
        positive_money(price, "--price-per-share")
        state.check_holding(series, holder, self.shares, "redeem", on=self.effective_date)
        parts, accrued = lot_accruals(
            series, series.take_lots(holder, self.shares), self.effective_date)
        amount = cents(mul(self.shares, price))
        return SharesRedeemed, {
            "ref": _ref(state, self.ref, "RD", position),
            "series": series.name,
            "holder": holder,
            "shares": self.shares,
            "lots": parts,
            "price_per_share": price,
            "amount": amount,
            "accrued": accrued,
            "total": amount + accrued,
        }
