"""`finledger demo`: the May 2003 Series D financing of Spectrum Pharmaceuticals, recorded.

Everything goes through the ledger service, exactly as `finledger record ...` would: the
series, the first closing of 444 shares on 8 May 2003 with its warrants, the common shares
outstanding reported on 9 May, the authorization increase the second closing needed, and the
second closing of 156 shares on 14 May with its warrants. The facts come from the press
release and the filings (DOMAIN.md); what is not public is assumed and printed as such.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import typer
from rich.padding import Padding
from rich.text import Text

from cli.console import out
from cli.context import ledger
from cli.record import success_line
from cli.render import capital_tables, summary_table, warrants_tables
from cli.tables import emit
from ledger.commands import (
    Command,
    DesignateSeries,
    IncreaseAuthorization,
    IssueWarrants,
    RecordClosing,
    ReportCommonOutstanding,
)
from ledger.errors import InvalidInput, InvariantViolation
from ledger.service import Ledger
from projections import reports
from projections.books import replay
from projections.readmodel import catch_up

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


def record_financing(book: Ledger) -> None:
    """Record the financing, printing one line per event (and the refusal it must meet)."""
    console = out()

    def record(command: Command) -> None:
        event = book.record(command)
        console.print(success_line(event), markup=False, soft_wrap=True)

    record(series_d())
    record(closing("D-1", FIRST, 111))
    for command in warrants("D-1", FIRST, 944_681):
        record(command)
    record(ReportCommonOutstanding(effective_date=date(2003, 5, 9), shares=3_108_100))
    try:
        book.record(closing("D-2", SECOND, 39))
    except InvariantViolation as refusal:
        console.print(Text(f"Refused, as it must be: {refusal}", style="yellow"),
                      soft_wrap=True)
    else:  # pragma: no cover - the ledger's own rules make this unreachable
        raise AssertionError("the second closing went through without more authorized shares")
    record(IncreaseAuthorization(effective_date=SECOND, series=SERIES, shares=156))
    record(closing("D-2", SECOND, 39))
    for command in warrants("D-2", SECOND, 331_914):
        record(command)


def demo(ctx: typer.Context) -> None:
    """Record the May 2003 Series D financing of Spectrum Pharmaceuticals into an empty
    ledger, then print the capital raised, the warrant overhang and the summary as of
    14 May 2003.

    Example: finledger --db demo.db demo
    """
    with ledger(ctx, create=True) as book:
        if book.exists:
            held = len(book.events())
            if held:
                raise InvalidInput(
                    f"the ledger at {book.target.display()} already holds {held} events; the "
                    "demo records only into an empty ledger: point --db (or FINLEDGER_DB) at a "
                    "new file, e.g. --db demo-2.db, or remove this one first"
                )
        console = out()
        console.print(Text("Spectrum Pharmaceuticals, Series D 8% Cumulative Convertible "
                           "Preferred, May 2003", style="bold"))
        record_financing(book)
        catch_up(book)
        emit(console, Text(""), Text("Assumed (not public):", style="bold"),
             *(Padding(Text(f"- {assumption}"), (0, 0, 0, 2)) for assumption in ASSUMPTIONS))
        books = replay(book.events(), AS_OF)
    console.print()
    emit(console, capital_tables(reports.capital(books, AS_OF, by="month")), Text(""),
         warrants_tables(reports.warrants(books, AS_OF)), Text(""),
         summary_table(reports.summary(books, AS_OF)))
