"""A finledger export written as the plain-text accounting tools' journals (issue 18, peers).

    PYTHONPATH=. .venv/bin/python bench/journal.py HISTORY --hledger OUT.journal --beancount OUT.beancount

The holdings a history records, and nothing else, in double entry:

- each series' preferred shares are a commodity (`Series A` -> `SERIES_A`) held by each investor
  in `Assets:Preferred:<Investor>`, against `Equity:Issuer:Preferred` (shares outstanding,
  negated): closings add them, conversions and redemptions take them back, transfers move them;
- each warrant is an account `Assets:Warrants:<Holder>:<Ref>` holding the commodity `WARRANT`
  (the common shares it is for), against `Equity:Issuer:Warrants`: issued, exercised,
  transferred (a new ref), changed by splits, anti-dilution and adjustments by hand, and what is
  left of it removed the day after it expires (finledger: expired on any date after `expires`);
- common shares the ledger's own events gave a holder (conversions, stock dividends, exercises,
  closings of common) in `Assets:Common:<Holder>` as `COMMON`, against `Equity:Issuer:Common`;
- cash in USD on the issuer's side: gross raised (closings, cash exercises, less what
  redemptions returned) in `Equity:Issuer:Capital`, fees in `Expenses:Issuer:Fees`, dividends,
  cash in lieu and accrued dividends paid in cash in `Expenses:Issuer:Paid`, the balance in
  `Assets:Issuer:Cash`.

Not modelled: series terms (stated value, conversion price, dividend rate, authorization), the
accrual of dividends, the as-converted figures, the common-outstanding baselines, the hash chain.
A reversed event and its reversal are both left out (as of a date, finledger shows the ledger
"as it knows it now", the reversed event taken out).

Every posting that takes shares from a holder (preferred or warrants) carries a balance
assertion of what the holder has left (hledger/ledger-cli: `= N "SERIES_A"` on the posting, in
date order, ties in recording order; beancount: a `balance` directive the next day, as of the
end of the day), so `hledger check` and `bean-check` recompute every holder's position and
compare it with what the export says, the nearest they come to `audit verify`'s replay.
Transactions are written in effective-date order, ties in recording order.
"""

from __future__ import annotations

import argparse
import heapq
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

USD = "USD"
COMMON = "COMMON"
WARRANT = "WARRANT"
PREFERRED = "Assets:Preferred"
WARRANTS = "Assets:Warrants"
HOLDER_COMMON = "Assets:Common"
ISSUED_PREFERRED = "Equity:Issuer:Preferred"
ISSUED_WARRANTS = "Equity:Issuer:Warrants"
ISSUED_COMMON = "Equity:Issuer:Common"
CAPITAL = "Equity:Issuer:Capital"
CASH = "Assets:Issuer:Cash"
FEES = "Expenses:Issuer:Fees"
PAID = "Expenses:Issuer:Paid"
ISSUER_ACCOUNTS = (ISSUED_PREFERRED, ISSUED_WARRANTS, ISSUED_COMMON, CAPITAL, CASH, FEES, PAID)
Amount = int | Decimal


@dataclass
class Posting:
    account: str
    amount: Amount
    commodity: str
    balance_after: Amount | None = None  # an assertion of the account's balance after it


@dataclass
class Txn:
    day: date
    position: int
    title: str
    postings: list[Posting] = field(default_factory=list)
    order: int = 0  # 0: the event itself; -1: an expiry, before the day's events

    def add(self, account: str, amount: Amount, commodity: str) -> None:
        if amount:
            self.postings.append(Posting(account, amount, commodity))


class Names:
    """The journals' names for holders, series and warrant refs: words the three tools accept
    (beancount is the strictest: account parts `[A-Z0-9][A-Za-z0-9-]*`, commodities
    `[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]`), one name for one thing."""

    def __init__(self) -> None:
        self.holders: dict[str, str] = {}
        self.series: dict[str, str] = {}
        self.refs: dict[str, str] = {}
        self._parts: set[str] = set()
        self._commodities: set[str] = {USD, COMMON, WARRANT}

    @staticmethod
    def _part(name: str) -> str:
        words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
        text = "-".join(w[:1].upper() + w[1:] for w in words) or "X"
        return text if text[0].isalnum() else "X" + text

    def _unique_part(self, name: str, table: dict[str, str]) -> str:
        if name not in table:
            base = self._part(name)
            candidate, k = base, 1
            while candidate in self._parts:
                k += 1
                candidate = f"{base}-{k}"
            self._parts.add(candidate)
            table[name] = candidate
        return table[name]

    def holder(self, name: str) -> str:
        return self._unique_part(name, self.holders)

    def ref(self, ref: str) -> str:
        return self._unique_part(ref, self.refs)

    def commodity(self, series: str) -> str:
        if series not in self.series:
            base = re.sub(r"[^A-Z0-9]+", "_", series.upper()).strip("_") or "S"
            if not base[0].isalpha():
                base = "S" + base
            base = base[:20].rstrip("_")
            candidate, k = base, 1
            while candidate in self._commodities:
                k += 1
                candidate = f"{base}{k}"
            self._commodities.add(candidate)
            self.series[series] = candidate
        return self.series[series]

    def commodities(self) -> list[str]:
        return sorted(self._commodities)


@dataclass
class Journal:
    """The transactions of a history, in effective-date order, with their assertions."""

    txns: list[Txn]
    names: Names
    accounts: dict[str, date]  # each account and the first date it is used

    def balances(self, on: date, prefix: str = "") -> dict[tuple[str, str], Amount]:
        """Each (account, commodity) under `prefix` with its balance at the end of `on`."""
        totals: dict[tuple[str, str], Amount] = {}
        for txn in self.txns:
            if txn.day > on:
                break
            for p in txn.postings:
                if p.account.startswith(prefix):
                    key = (p.account, p.commodity)
                    totals[key] = totals.get(key, 0) + p.amount
        return {k: v for k, v in totals.items() if v}


def read_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                entry = json.loads(line)
                entry.setdefault("position", number)
                yield entry


class _Builder:
    def __init__(self) -> None:
        self.names = Names()
        self.txns: list[Txn] = []
        self.warrant_holder: dict[str, str] = {}
        self.expiries: list[tuple[date, int, str]] = []  # (first day expired, position, ref)

    def warrant_account(self, ref: str) -> str:
        return f"{WARRANTS}:{self.names.holder(self.warrant_holder[ref])}:{self.names.ref(ref)}"

    def preferred(self, holder: str) -> str:
        return f"{PREFERRED}:{self.names.holder(holder)}"

    def common(self, holder: str) -> str:
        return f"{HOLDER_COMMON}:{self.names.holder(holder)}"

    def new_warrant(self, txn: Txn, ref: str, holder: str, shares: int, expires: str | None) -> None:
        self.warrant_holder[ref] = holder
        account = self.warrant_account(ref)
        txn.add(account, shares, WARRANT)
        txn.add(ISSUED_WARRANTS, -shares, WARRANT)
        if expires is not None:
            self.expiries.append((date.fromisoformat(expires) + timedelta(days=1), txn.position, ref))

    def warrant_change(self, txn: Txn, ref: str, old: int | None, new: int | None) -> None:
        if old is not None and new is not None and new != old and ref in self.warrant_holder:
            txn.add(self.warrant_account(ref), new - old, WARRANT)
            txn.add(ISSUED_WARRANTS, old - new, WARRANT)

    def cash_out(self, txn: Txn, amount: Decimal) -> None:
        txn.add(PAID, amount, USD)
        txn.add(CASH, -amount, USD)

    def event(self, kind: str, day: date, position: int, data: dict[str, Any]) -> None:
        txn = Txn(day, position, "")
        if kind == "ClosingCompleted":
            security = data["security"]
            txn.title = f"{data['ref']} closing of {security}"
            preferred = security != "common"
            for a in data["allocations"]:
                if preferred:
                    txn.add(self.preferred(a["investor"]), int(a["shares"]),
                            self.names.commodity(security))
                else:
                    txn.add(self.common(a["investor"]), int(a["shares"]), COMMON)
            if preferred:
                txn.add(ISSUED_PREFERRED, -int(data["shares"]), self.names.commodity(security))
            else:
                txn.add(ISSUED_COMMON, -int(data["shares"]), COMMON)
            txn.add(CASH, Decimal(data["net"]), USD)
            txn.add(FEES, Decimal(data["fees"]), USD)
            txn.add(CAPITAL, -Decimal(data["gross"]), USD)
            for adj in data.get("adjustments", ()):
                if adj["instrument"] == "warrant":
                    self.warrant_change(txn, adj["name"], adj["old_shares"], adj["new_shares"])
        elif kind == "WarrantsIssued":
            txn.title = f"{data['ref']} warrants issued to {data['holder']}"
            self.new_warrant(txn, data["ref"], data["holder"], int(data["shares"]), data["expires"])
        elif kind == "WarrantsExercised":
            ref = data["warrant"]
            holder = self.warrant_holder[ref]
            txn.title = f"exercise of {ref}"
            txn.add(self.warrant_account(ref), -int(data["shares"]), WARRANT)
            txn.add(ISSUED_WARRANTS, int(data["shares"]), WARRANT)
            txn.add(self.common(holder), int(data["common_shares"]), COMMON)
            txn.add(ISSUED_COMMON, -int(data["common_shares"]), COMMON)
            txn.add(CASH, Decimal(data["proceeds"]), USD)
            txn.add(CAPITAL, -Decimal(data["proceeds"]), USD)
        elif kind == "WarrantsTransferred":
            ref, old = data["ref"], data["warrant"]
            txn.title = f"{ref} part of {old} assigned to {data['holder']}"
            txn.add(self.warrant_account(old), -int(data["shares"]), WARRANT)
            txn.add(ISSUED_WARRANTS, int(data["shares"]), WARRANT)
            self.new_warrant(txn, ref, data["holder"], int(data["shares"]), data["expires"])
        elif kind == "ConversionRequested":
            holder, series = data["holder"], data["series"]
            txn.title = f"conversion of {series} by {holder}"
            txn.add(self.preferred(holder), -int(data["shares"]), self.names.commodity(series))
            txn.add(ISSUED_PREFERRED, int(data["shares"]), self.names.commodity(series))
            txn.add(self.common(holder), int(data["common_shares"]), COMMON)
            txn.add(ISSUED_COMMON, -int(data["common_shares"]), COMMON)
            self.cash_out(txn, Decimal(data["cash_in_lieu"]) + Decimal(data["accrued_paid_in_cash"]))
        elif kind == "DividendDeclared":
            txn.title = f"dividend on {data['series']} through {data['through']} in {data['form']}"
            issued = 0
            for p in data["payments"]:
                txn.add(self.common(p["holder"]), int(p["common_shares"]), COMMON)
                issued += int(p["common_shares"])
            txn.add(ISSUED_COMMON, -issued, COMMON)
            self.cash_out(txn, sum((Decimal(p["cash"]) for p in data["payments"]), Decimal(0)))
        elif kind == "SharesTransferred":
            series = self.names.commodity(data["series"])
            txn.title = f"{data['ref']} transfer of {data['series']}"
            txn.add(self.preferred(data["from_holder"]), -int(data["shares"]), series)
            txn.add(self.preferred(data["to_holder"]), int(data["shares"]), series)
        elif kind == "SharesRedeemed":
            series = self.names.commodity(data["series"])
            txn.title = f"{data['ref']} redemption of {data['series']} from {data['holder']}"
            txn.add(self.preferred(data["holder"]), -int(data["shares"]), series)
            txn.add(ISSUED_PREFERRED, int(data["shares"]), series)
            amount, total = Decimal(data["amount"]), Decimal(data["total"])
            txn.add(CAPITAL, amount, USD)
            txn.add(PAID, total - amount, USD)
            txn.add(CASH, -total, USD)
        elif kind == "StockSplit":
            txn.title = f"{data['new']}-for-{data['old']} split"
            for w in data["warrants"]:
                self.warrant_change(txn, w["warrant"], w["old_shares"], w["new_shares"])
        elif kind == "TermsAdjusted":
            if data.get("warrant"):
                txn.title = f"adjustment of {data['warrant']}"
                self.warrant_change(txn, data["warrant"], data["old_shares"], data["new_shares"])
        elif kind == "SeriesDesignated":
            self.names.commodity(data["series"])
        # SeriesAuthorizationIncreased, CommonOutstandingReported: no holding changes
        if txn.postings:
            self.txns.append(txn)


def build(lines: Iterable[dict[str, Any]]) -> Journal:
    """The journal of an export's lines (in recording order, as `finledger export` writes them)."""
    entries = list(lines)
    reversed_positions = {int(e["data"]["reversed_position"]) for e in entries
                          if e["type"] == "EventReversed"}
    builder = _Builder()
    for entry in entries:
        position = int(entry["position"])
        if entry["type"] == "EventReversed" or position in reversed_positions:
            continue
        builder.event(entry["type"], date.fromisoformat(entry["effective_date"]), position,
                      entry["data"])
    return _settle(builder)


def _settle(builder: _Builder) -> Journal:
    """Date order, the expiries where they fall, and every holder's balance after a posting
    that takes shares from it."""
    txns = sorted(builder.txns, key=lambda t: (t.day, t.position))
    heapq.heapify(builder.expiries)
    balance: dict[tuple[str, str], Amount] = {}
    accounts: dict[str, date] = {}
    out: list[Txn] = []

    def apply(txn: Txn) -> None:
        for p in txn.postings:
            key = (p.account, p.commodity)
            balance[key] = balance.get(key, 0) + p.amount
            accounts.setdefault(p.account, txn.day)
            if p.amount < 0 and p.account.startswith(("Assets:Preferred:", "Assets:Warrants:")):
                p.balance_after = balance[key]
        out.append(txn)

    def expire_until(day: date | None) -> None:
        while builder.expiries and (day is None or builder.expiries[0][0] <= day):
            first_day, position, ref = heapq.heappop(builder.expiries)
            account = builder.warrant_account(ref)
            left = balance.get((account, WARRANT), 0)
            if left:
                expiry = Txn(first_day, position, f"{ref} expired", order=-1)
                expiry.add(account, -left, WARRANT)
                expiry.add(ISSUED_WARRANTS, left, WARRANT)
                apply(expiry)

    for txn in txns:
        expire_until(txn.day)
        apply(txn)
    expire_until(None)
    return Journal(out, builder.names, accounts)


# --- writing ---------------------------------------------------------------------------------


def _fmt(amount: Amount) -> str:
    return str(amount) if isinstance(amount, int) else f"{amount:f}"


def _title(text: str) -> str:
    return text.replace('"', "'").replace(";", ",")


def write_hledger(journal: Journal, out: IO[str]) -> None:
    """An hledger journal that ledger-cli reads too: every account and commodity declared (so
    `hledger check --strict` has them to check), quoted commodities, posting assertions."""
    out.write("; a finledger history as an hledger/ledger-cli journal (bench/journal.py)\n\n")
    for commodity in journal.names.commodities():
        out.write(f'commodity "{commodity}"\n')
    for account in sorted(journal.accounts):
        out.write(f"account {account}\n")
    for txn in journal.txns:
        out.write(f"\n{txn.day.isoformat()} * {_title(txn.title)}\n")
        for p in txn.postings:
            line = f'    {p.account}  {_fmt(p.amount)} "{p.commodity}"'
            if p.balance_after is not None:
                line += f' = {_fmt(p.balance_after)} "{p.commodity}"'
            out.write(line + "\n")


def write_beancount(journal: Journal, out: IO[str]) -> None:
    """A beancount file: each account opened on the first day it is used, and the balance of
    each holder account a posting took shares from that day as a `balance` directive the day
    after (beancount checks a balance at the start of its date: the day's end, after whatever
    else the day brought it)."""
    out.write("; a finledger history as a beancount file (bench/journal.py)\n")
    out.write('option "operating_currency" "USD"\n\n')
    first = min(journal.accounts.values(), default=date(1970, 1, 1))
    for commodity in journal.names.commodities():
        out.write(f"{first.isoformat()} commodity {commodity}\n")
    for account, opened in sorted(journal.accounts.items(), key=lambda kv: (kv[1], kv[0])):
        out.write(f"{opened.isoformat()} open {account}\n")
    running: dict[tuple[str, str], Amount] = {}
    pending: dict[tuple[str, str], None] = {}  # asserted today: written as of the day's end
    day: date | None = None

    def flush() -> None:
        if day is not None:
            after = (day + timedelta(days=1)).isoformat()
            for account, commodity in pending:
                out.write(f"{after} balance {account}  {_fmt(running[(account, commodity)])} "
                          f"{commodity}\n")
        pending.clear()

    for txn in journal.txns:
        if txn.day != day:
            flush()
            day = txn.day
        out.write(f'\n{txn.day.isoformat()} * "{_title(txn.title)}"\n')
        for p in txn.postings:
            out.write(f"  {p.account}  {_fmt(p.amount)} {p.commodity}\n")
            key = (p.account, p.commodity)
            running[key] = running.get(key, 0) + p.amount
            if p.balance_after is not None:
                pending[key] = None
    flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("history", type=Path, help="a finledger export (JSON lines)")
    parser.add_argument("--hledger", type=Path, help="the hledger/ledger-cli journal to write")
    parser.add_argument("--beancount", type=Path, help="the beancount file to write")
    args = parser.parse_args(argv)
    journal = build(read_lines(args.history))
    for path, writer in ((args.hledger, write_hledger), (args.beancount, write_beancount)):
        if path is not None:
            with path.open("w", encoding="utf-8") as out:
                writer(journal, out)
    print(json.dumps({"transactions": len(journal.txns), "accounts": len(journal.accounts),
                      "commodities": len(journal.names.commodities())}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
