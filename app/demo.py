"""The demo: the May 2003 Series D financing of Spectrum Pharmaceuticals, recorded.

Everything goes through the ledger service, exactly as `finledger record ...` would: the
series, the first closing of 444 shares on 8 May 2003 with its warrants, the common shares
outstanding reported on 9 May, the authorization increase the second closing needed, and the
second closing of 156 shares on 14 May with its warrants. The facts come from the press
release and the filings (DOMAIN.md); what is not public is assumed (ASSUMPTIONS). The command
line prints each step as `said` is told it (`cli/demo.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.commands import (
    Command,
    DesignateSeries,
    IncreaseAuthorization,
    IssueWarrants,
    RecordClosing,
    ReportCommonOutstanding,
)
from ledger.errors import InvalidInput, InvariantViolation

if TYPE_CHECKING:
    from app.service import Service
    from events import LedgerEvent
    from ledger.service import Ledger
    from projections import reports

SERIES = "Series D"
FIRST, SECOND = date(2003, 5, 8), date(2003, 5, 14)
INVESTORS = ("SCO Capital Partners", "SDS Merchant Fund", "Xmark Funds", "ProMed Partners, L.P.")
WARRANT_HOLDER = "Series D investors"
AS_OF = SECOND

ASSUMPTIONS = (
    "Investor split: not public; the 444 and 156 shares are split equally among the four "
    "investors the press release names (111 and 39 each).",
    f"Warrants: recorded as one warrant per exercise price per closing, held by "
    f"{WARRANT_HOLDER!r} as a group (the split between investors is not public).",
    "Warrant expiry: not public; recorded without an expiry date, so no warrant lapses in "
    "these reports.",
    "Day count actual/365 and accrued dividends converting with the stated value: not public; "
    "the ledger's defaults are used.",
    "Fees: not public; none recorded, so net proceeds equal gross.",
)


def series_d() -> DesignateSeries:
    return DesignateSeries(
        effective_date=FIRST, series=SERIES, stated_value=Decimal("10000.00"),
        par_value=Decimal("0.001"), conversion_price=Decimal("2.35"),
        dividend_rate=Decimal("8"), authorized=444, cumulative=True, frequency="quarterly",
        day_count="actual/365", dividend_form="either", convert_accrued=True,
    )


def closing(ref: str, on: date, each: int) -> RecordClosing:
    return RecordClosing(
        effective_date=on, security=SERIES, investors=tuple((name, each) for name in INVESTORS),
        ref=ref,
    )


def warrants(closing_ref: str, on: date, shares: int) -> list[IssueWarrants]:
    tag = closing_ref.replace("-", "")
    return [
        IssueWarrants(
            effective_date=on, holder=WARRANT_HOLDER, shares=shares, exercise_price=price,
            label=f"Series {closing_ref}", closing=closing_ref,
            ref=f"W-{tag}-{str(price).replace('.', '')}",
        )
        for price in (Decimal("3.00"), Decimal("3.50"))
    ]


def record_financing(book: Ledger, said: Callable[[LedgerEvent | InvariantViolation], None]
                     ) -> None:
    """Record the financing, telling `said` each event (and the refusal it must meet)."""

    def record(command: Command) -> None:
        said(book.record(command))

    record(series_d())
    record(closing("D-1", FIRST, 111))
    for command in warrants("D-1", FIRST, 944_681):
        record(command)
    record(ReportCommonOutstanding(effective_date=date(2003, 5, 9), shares=3_108_100))
    try:
        book.record(closing("D-2", SECOND, 39))
    except InvariantViolation as refusal:
        said(refusal)
    else:  # pragma: no cover - the ledger's own rules make this unreachable
        raise AssertionError("the second closing went through without more authorized shares")
    record(IncreaseAuthorization(effective_date=SECOND, series=SERIES, shares=156))
    record(closing("D-2", SECOND, 39))
    for command in warrants("D-2", SECOND, 331_914):
        record(command)


@dataclass(frozen=True)
class Shown:
    """The reports the demo ends with, as of AS_OF."""

    capital: reports.CapitalReport
    warrants: reports.WarrantsReport
    summary: reports.SummaryReport


def run(service: Service, started: Callable[[], None],
        said: Callable[[LedgerEvent | InvariantViolation], None]) -> Shown:
    """Record the financing into an empty ledger (`started` once it is known to be empty),
    bring the read models up to it, and the reports as of AS_OF."""
    from projections import reports
    from projections.books import replay
    from projections.readmodel import catch_up

    with service.open(create=True) as book:
        if book.exists:
            held = len(book.events())
            if held:
                raise InvalidInput(
                    f"the ledger at {book.target.display()} already holds {held} events; the "
                    "demo records only into an empty ledger: point --db (or FINLEDGER_DB) at a "
                    "new file, e.g. --db demo-2.db, or remove this one first"
                )
        started()
        record_financing(book, said)
        catch_up(book)
        books = replay(book.events(), AS_OF)
    return Shown(reports.capital(books, AS_OF, by="month"), reports.warrants(books, AS_OF),
                 reports.summary(books, AS_OF))
