"""`finledger report ...`: what is outstanding, what hangs over the common, what was raised.

Each command parses its options, asks the service (`app.service.Service`) for its report and
renders it: without `--as-of` the service reads the materialized read model (caught up
first), so its cost does not grow with history; `--as-of` and `--as-recorded` replay the
event stream.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer

from cli.console import out, plain_console
from cli.context import service, today
from cli.output import Csv, Format, Output, Workbook, choose, emit
from cli.params import parse_date, parse_decimal, parse_shares, parse_signed_decimal

app = typer.Typer(
    help="Replay the ledger into reports: preferred, warrants, capital, summary, dividends, eps.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain click help: no markdown parser at start-up
)


class Period(StrEnum):
    month = "month"
    quarter = "quarter"
    year = "year"


AsOf = Annotated[date | None, typer.Option(
    "--as-of", parser=parse_date, metavar="YYYY-MM-DD",
    help="Every event effective on or before this date, as the ledger knows it now.")]
AsRecorded = Annotated[int | None, typer.Option(
    "--as-recorded", parser=parse_shares, metavar="POSITION",
    help="The ledger as it stood when this position was recorded (later reversals unapplied).")]
def price_option(help_text: str) -> Any:
    """A price per common share: a plain positive decimal (checked by `_positive`)."""
    return typer.Option(parser=parse_decimal, metavar="DECIMAL", help=help_text)


Json = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def basis(report: Any, as_of: date | None, as_recorded: int | None) -> str:
    """What the title adds to "as of D": the recorded position a report stands at, and
    whether D is the latest effective date rather than today (a future-dated event)."""
    on = getattr(report, "as_of", None)
    said = f", as recorded at position {as_recorded}" if as_recorded is not None else ""
    if as_of is None and isinstance(on, date) and on > today():
        said += f" (the latest effective date; today is {today().isoformat()})"
    return said


Drawer = Callable[[Any, str], Any]
"""A report's table: drawn from the report and what its title adds to "as of D" (`basis`)."""


def drawn(module: str, name: str, *, titled: bool = True) -> Drawer:
    """The table drawer `name` of `module`, imported when a table is drawn (an answer in
    JSON or CSV loads no rich); `titled`: whether its title shows the basis."""

    def draw(report: Any, basis: str) -> Any:
        drawer = getattr(__import__(module, fromlist=[name]), name)
        return drawer(report, basis) if titled else drawer(report)

    return draw


def present(
    ctx: typer.Context,
    name: str,
    report: Any,
    draw: Drawer | None,
    output: Output,
    *,
    as_of: date | None = None,
    as_recorded: int | None = None,
) -> None:
    """The report `name` (described in `projections.tables.DESCRIBE`) in the output asked
    for (`choose(...)`, called before the report is computed): its table (`draw`, or each of
    its tables when None), JSON, CSV or an xlsx workbook."""
    from app.reports import describe

    def head() -> tuple[int, str]:
        return service(ctx).head(as_recorded, refuse=output.workbook)

    titled = None if draw is None else (
        lambda document: draw(document, basis(document, as_of, as_recorded)))
    emit(describe(name, report), output, draw=titled, head=head)


@app.command("preferred")
def preferred(
    ctx: typer.Context, *, as_of: AsOf = None, as_recorded: AsRecorded = None, as_json: Json = False,
    as_csv: Csv = False, workbook: Workbook = None,
) -> None:
    """Outstanding preferred by series and holder: issued, converted, outstanding, stated
    value, accrued unpaid dividends and as-converted common.

    Example: finledger report preferred --as-of 2003-06-30
    """
    output = choose(as_json, as_csv, workbook)
    report = service(ctx).preferred(as_of, as_recorded)
    present(ctx, "preferred", report, drawn("cli.render", "preferred_table"), output,
            as_of=as_of, as_recorded=as_recorded)


def _market_price(value: Decimal | None) -> Decimal | None:
    return _positive(value, "--market-price", "4.10")


def _positive(value: Decimal | None, option: str, example: str) -> Decimal | None:
    if value is not None and value <= 0:
        raise typer.BadParameter(f"must be more than zero, like {example}", param_hint=f"'{option}'")
    return value


@app.command("warrants")
def warrants(
    ctx: typer.Context,
    *,
    as_of: AsOf = None,
    as_recorded: AsRecorded = None,
    market_price: Annotated[Decimal | None, price_option(
        "Market price per common share: shows the in-the-money shares and the "
        "treasury-stock method's incremental shares.")] = None,
    as_json: Json = False,
    as_csv: Csv = False,
    workbook: Workbook = None,
) -> None:
    """Warrant overhang by warrant, closing and exercise price: issued, exercised, expired,
    outstanding and potential proceeds.

    Example: finledger report warrants --as-of 2003-05-14 --market-price 4.10
    """
    output = choose(as_json, as_csv, workbook)
    price = _market_price(market_price)
    report = service(ctx).warrants(as_of, as_recorded, price)
    present(ctx, "warrants", report, drawn("cli.render", "warrants_tables"), output,
            as_of=as_of, as_recorded=as_recorded)


@app.command("capital")
def capital(
    ctx: typer.Context,
    *,
    as_of: AsOf = None,
    as_recorded: AsRecorded = None,
    since: Annotated[date | None, typer.Option(
        parser=parse_date, metavar="YYYY-MM-DD",
        help="Only entries effective on or after this date (cumulative gross still counts "
        "from the first closing).")] = None,
    by: Annotated[Period, typer.Option(help="Group the periods by month, quarter or year.")]
        = Period.month,
    chart: Annotated[bool, typer.Option(
        "--chart", help="Draw the cumulative gross and the gross per period instead of the "
        "tables.")] = False,
    as_json: Json = False,
    as_csv: Csv = False,
    workbook: Workbook = None,
) -> None:
    """Capital raised: every closing and cash exercise with gross, fees, net and the
    cumulative gross, then totals per month, quarter or year (or, with --chart, a picture).

    Example: finledger report capital --by quarter --since 2003-01-01
    """
    output = choose(as_json, as_csv, workbook)
    report = service(ctx).capital(as_of, as_recorded, since, by.value)
    if chart and output.format is Format.TABLE:
        from cli.quarter import capital_chart

        console = out()
        console.print(capital_chart(report, plain=plain_console(console)))
        return
    present(ctx, "capital", report, drawn("cli.render", "capital_tables"), output, as_of=as_of, as_recorded=as_recorded)


@app.command("summary")
def summary(
    ctx: typer.Context, *, as_of: AsOf = None, as_recorded: AsRecorded = None, as_json: Json = False,
    as_csv: Csv = False, workbook: Workbook = None,
) -> None:
    """Capital raised, preferred outstanding, warrant overhang and fully diluted common.

    Example: finledger report summary --as-of 2003-05-14 --json
    """
    output = choose(as_json, as_csv, workbook)
    if output.format is Format.TABLE and (console := out()).is_terminal:
        from cli.quarter import wide_terminal

        if wide_terminal(console):
            # a person at a wide terminal: the chart beside it needs every entry
            from cli.quarter import summary_with_chart
            from cli.render import summary_table

            report, capital = service(ctx).summary_and_capital(as_of, as_recorded)
            console.print(summary_with_chart(summary_table(report), capital, console))
            return
    present(ctx, "summary", service(ctx).summary(as_of, as_recorded),
            drawn("cli.render", "summary_table"), output, as_of=as_of, as_recorded=as_recorded)


@app.command("dividends")
def dividends(
    ctx: typer.Context,
    *,
    as_of: AsOf = None,
    as_recorded: AsRecorded = None,
    price: Annotated[Decimal | None, price_option(
        "Price per common share: the common a stock dividend at it would issue, and "
        "the cash in lieu.")] = None,
    as_json: Json = False,
    as_csv: Csv = False,
    workbook: Workbook = None,
) -> None:
    """Dividends by series and holder: the frequency, the last and next through dates, what
    the next dividend would pay (from the holdings of the date), arrears of scheduled
    periods not declared, and what was paid to date in cash, common and cash in lieu.

    Example: finledger report dividends --as-of 2003-09-15 --price 3.10
    """
    output = choose(as_json, as_csv, workbook)
    stock_price = _positive(price, "--price", "3.10")
    report = service(ctx).dividends(as_of, as_recorded, stock_price)
    present(ctx, "dividends", report, drawn("cli.quarter", "dividends_table", titled=False),
            output, as_of=as_of, as_recorded=as_recorded)


@app.command("eps")
def eps(
    ctx: typer.Context,
    *,
    start: Annotated[date, typer.Option(
        "--from", parser=parse_date, metavar="YYYY-MM-DD", help="First day of the period.")],
    end: Annotated[date, typer.Option(
        "--to", parser=parse_date, metavar="YYYY-MM-DD", help="Last day of the period.")],
    net_income: Annotated[Decimal, typer.Option(
        parser=parse_signed_decimal, metavar="DECIMAL",
        help="Net income of the period (a loss is negative, like -250000).")],
    average_price: Annotated[Decimal, price_option(
        "Average market price per common share over the period (treasury-stock method).")],
    as_recorded: AsRecorded = None,
    as_json: Json = False,
    as_csv: Csv = False,
    workbook: Workbook = None,
) -> None:
    """Basic and diluted earnings per share for a period (ASC 260): weighted average common,
    preferred dividends of the period, each if-converted series and treasury-stock warrant
    taken in order, and the anti-dilutive securities left out.

    Example: finledger report eps --from 2003-07-01 --to 2003-09-30 --net-income 1500000
    --average-price 4.10
    """
    output = choose(as_json, as_csv, workbook)
    _positive(average_price, "--average-price", "4.10")
    if end < start:
        raise typer.BadParameter(f"{end} is before --from {start}; give the period's last day",
                                 param_hint="'--to'")
    report = service(ctx).eps(start, end, net_income, average_price, as_recorded)
    present(ctx, "eps", report, drawn("cli.quarter", "eps_table", titled=False), output,
            as_recorded=as_recorded)


@app.command("holder")
def holder(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The holder, as recorded.")],
    as_of: AsOf = None,
    as_recorded: AsRecorded = None,
    as_json: Json = False,
    as_csv: Csv = False,
    workbook: Workbook = None,
) -> None:
    """One holder's register: its preferred lots (with the lot each came from), warrants,
    the common and cash the ledger gave it, and every event that involved it.

    Example: finledger report holder "Xmark Funds" --as-of 2004-06-30
    """
    output = choose(as_json, as_csv, workbook)
    report = service(ctx).holder(name, as_of, as_recorded)
    present(ctx, "holder", report, None, output, as_of=as_of, as_recorded=as_recorded)


@app.command("rebuild")
def rebuild_read_model(ctx: typer.Context) -> None:
    """Rebuild the materialized report tables from position zero (never needed in normal
    use: they are caught up after every write and before every report).

    Example: finledger report rebuild
    """
    applied = service(ctx).rebuild()
    out().print(f"Read model rebuilt: {applied} events applied", markup=False)
