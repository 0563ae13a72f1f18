"""Terms that change (DOMAIN.md 12-14): `record split`, `record adjustment`, `report terms`
and the terms table (the lines a recording prints for the terms it changed are
`cli.outcomes`).

The commands are listed in the `record` and `report` groups by `cli.main.EXTRA`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from cli import complete
from cli.output import Csv, Workbook
from cli.params import parse_date, parse_decimal, parse_shares
from cli.report import AsOf, AsRecorded, Json

if TYPE_CHECKING:  # loaded when a command runs, not for --help
    from rich.console import Group

    from app.reports import TermsReport


# --- the commands --------------------------------------------------------------------------


def split(
    ctx: typer.Context,
    *,
    new: Annotated[int, typer.Option("--new", parser=parse_shares, metavar="N",
                                     help="New shares for every --old shares.")],
    old: Annotated[int, typer.Option("--old", parser=parse_shares, metavar="M",
                                     help="Old shares that become --new shares.")],
    effective: Annotated[date, typer.Option("--date", parser=parse_date, metavar="YYYY-MM-DD",
                                            help="Effective date, YYYY-MM-DD.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the recorded event as JSON.")]
    = False,
) -> None:
    """Split (or reverse split) the common stock N new for every M old: every conversion
    price becomes CP x M / N, every outstanding warrant floor(shares x N / M) at K x M / N,
    and the common outstanding just before it floor(common x N / M), a new baseline. A
    1-for-25 reverse split is --new 1 --old 25.

    Example: finledger record split --new 1 --old 25 --date 2002-09-27
    """
    from app.commands import SplitStock
    from cli.record import _record

    _record(ctx, SplitStock(effective_date=effective, new=new, old=old), as_json)


def adjustment(
    ctx: typer.Context,
    *,
    effective: Annotated[date, typer.Option("--date", parser=parse_date, metavar="YYYY-MM-DD",
                                            help="Effective date, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="The board decision behind it.")],
    series: Annotated[str | None, typer.Option(
        "--series", metavar="NAME", help="The series whose conversion price changes.",
        autocompletion=complete.series_names)] = None,
    conversion_price: Annotated[Decimal | None, typer.Option(
        "--conversion-price", parser=parse_decimal, metavar="DECIMAL",
        help="The series' new conversion price.")] = None,
    warrant: Annotated[str | None, typer.Option(
        "--warrant", metavar="REF", help="The warrant whose terms change.",
        autocompletion=complete.warrant_refs)] = None,
    exercise_price: Annotated[Decimal | None, typer.Option(
        "--exercise-price", parser=parse_decimal, metavar="DECIMAL",
        help="The warrant's new exercise price.")] = None,
    new_shares: Annotated[int | None, typer.Option(
        "--shares", parser=parse_shares, metavar="N",
        help="The warrant's new outstanding shares (default: as they are).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the recorded event as JSON.")]
    = False,
) -> None:
    """Change terms by hand (a board decision): a series' conversion price, or a warrant's
    exercise price and outstanding shares. Old and new are stored.

    Example: finledger record adjustment --warrant W-0003 --exercise-price 2.50
    --shares 1133617 --date 2004-03-01 --reason "board resolution 2004-02-27"
    """
    from app.commands import AdjustTerms
    from cli.record import _record

    _record(ctx, AdjustTerms(
        effective_date=effective, reason=reason, series=series,
        conversion_price=conversion_price, warrant=warrant, exercise_price=exercise_price,
        shares=new_shares,
    ), as_json)


def report_terms(
    ctx: typer.Context, *, as_of: AsOf = None, as_recorded: AsRecorded = None,
    as_json: Json = False, as_csv: Csv = False, workbook: Workbook = None,
) -> None:
    """The conversion and exercise prices in force, and each one's history with its cause
    (designated, issued, split, anti-dilution, adjustment).

    Example: finledger report terms --as-of 2003-05-14 --json
    """
    from cli.context import service
    from cli.output import choose
    from cli.report import present

    output = choose(as_json, as_csv, workbook)
    present(ctx, "terms", service(ctx).terms(as_of, as_recorded), terms_tables, output,
            as_of=as_of, as_recorded=as_recorded)


# --- the table -------------------------------------------------------------------------------


def terms_tables(report: TermsReport, basis: str = "") -> Group:
    from rich.console import Group
    from rich.text import Text

    from cli.render import TOTAL, _as_of, _figures, _fit, _statement, shares

    table = _statement(f"Terms in force {_as_of(report.as_of, basis)}")
    table.add_column("Security", no_wrap=True)
    table.add_column("Effective", no_wrap=True)
    table.add_column("Pos", justify="right", no_wrap=True)
    table.add_column("Cause", no_wrap=True)
    _figures(table, "Price $", "Shares\nadded", "Outstanding")
    for s in report.series:
        for h in s.history:
            table.add_row(s.series, h.effective_date.isoformat(), str(h.position),
                          h.cause, str(h.price), "", "")
        table.add_row(Text("in force", style="italic"), "", "", "",
                      str(s.conversion_price), "", "", style=TOTAL, end_section=True)
    for w in report.warrants:
        for h in w.history:
            table.add_row(w.ref, h.effective_date.isoformat(), str(h.position),
                          h.cause, str(h.price),
                          shares(h.adjusted or 0), "")
        table.add_row(Text("in force", style="italic"), "", "", "", str(w.exercise_price),
                      shares(w.adjusted), shares(w.outstanding), style=TOTAL,
                      end_section=True)
    return Group(_fit(table))
