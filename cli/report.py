"""`finledger report ...`: what is outstanding, what hangs over the common, what was raised.

Without `--as-of` a report reads the materialized read model (caught up first), so its cost
does not grow with history; `--as-of` and `--as-recorded` replay the event stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.console import out, plain_console
from cli.context import ledger, plain_path, today
from cli.output import Csv, Format, Output, Workbook, choose, emit
from cli.params import parse_date, parse_decimal, parse_shares, parse_signed_decimal
from ledger.errors import NotFound

if TYPE_CHECKING:  # the projections load when a report runs, not for --help
    from events import LedgerEvent
    from ledger.service import Ledger
    from projections.books import Books

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


def judge_date(latest: date | None) -> date:
    """Without --as-of: today or the latest effective date, whichever is later."""
    now = today()
    return now if latest is None or latest < now else latest


def books_for(
    ctx: typer.Context, as_of: date | None, as_recorded: int | None
) -> tuple[Books, date]:
    from projections import checkpoints
    from projections.readmodel import current_books

    with ledger(ctx) as book:
        if as_of is None and as_recorded is None:
            books, latest = current_books(book)
            return books, judge_date(latest)
        return checkpoints.books_as_of(book, as_of, as_recorded, judge_date)


def report_for(
    ctx: typer.Context, as_of: date | None, as_recorded: int | None,
    current: Callable[[Ledger, Callable[[date | None], date]], dict[str, Any]],
    whole: Callable[[Books, date], dict[str, Any]],
) -> dict[str, Any]:
    """A report: without --as-of/--as-recorded `current` reads only what it shows from the
    read model (`projections.readmodel.current_*`), else `whole` is built from the books."""
    if as_of is None and as_recorded is None:
        with ledger(ctx) as book:
            return current(book, judge_date)
    books, on = books_for(ctx, as_of, as_recorded)
    return whole(books, on)


def _books_as_of(book: Ledger, as_of: date | None, as_recorded: int | None
                 ) -> tuple[Books, date]:
    """The books of the timeline (as recorded at a position) through a date, replayed from
    the store a page at a time: the events after the date are never read."""
    from projections.books import Books as Fresh
    from projections.books import apply

    events, latest = timeline_of(book, as_recorded)
    on = as_of or judge_date(latest)
    books = Fresh()
    for event in events:
        if event.effective_date > on:
            break
        apply(books, event)
    return books, on


def timeline_of(book: Ledger, as_recorded: int | None) -> tuple[Iterator[LedgerEvent], date | None]:
    """The timeline (as recorded at a position), streamed in order, and its latest
    effective date."""
    from ledger.state import timeline
    from ledger.stream import KeyMismatch

    stream = book.stream()
    try:
        keys = stream.keys()
    except KeyMismatch:  # a stream with gaps: read whole, as it always was
        events = book.events()
        if as_recorded is not None:
            if as_recorded > len(events):
                raise _no_position(as_recorded, len(events)) from None
            events = events[:as_recorded]
        return iter(timeline(events)), max((e.effective_date for e in events), default=None)
    if as_recorded is not None and as_recorded > keys.count:
        raise _no_position(as_recorded, keys.count)
    last = keys.count if as_recorded is None else as_recorded
    latest = max(keys.ordinals[1:last + 1], default=None)
    return (iter(stream.timeline(keys, upto=as_recorded)),
            date.fromordinal(latest) if latest is not None else None)


def _no_position(position: int, count: int) -> NotFound:
    return NotFound(f"there is no position {position}; this ledger has {count} events "
                    "(see `finledger log`)")


def basis(report: dict[str, Any], as_of: date | None, as_recorded: int | None) -> str:
    """What the title adds to "as of D": the recorded position a report stands at, and
    whether D is the latest effective date rather than today (a future-dated event)."""
    on = report.get("as_of")
    said = f", as recorded at position {as_recorded}" if as_recorded is not None else ""
    if as_of is None and isinstance(on, date) and on > today():
        said += f" (the latest effective date; today is {today().isoformat()})"
    return said


def present(
    ctx: typer.Context,
    name: str,
    report: dict[str, Any],
    draw: Callable[[dict[str, Any]], Any] | None,
    output: Output,
    *,
    as_of: date | None = None,
    as_recorded: int | None = None,
) -> None:
    """The report `name` (described in `projections.tables.DESCRIBE`) in the output asked
    for (`choose(...)`, called before the report is computed): its table (`draw`, or each of
    its tables when None), JSON, CSV or an xlsx workbook."""
    from projections.tables import describe

    def head() -> tuple[int, str]:
        from ledger.files import refuse_the_ledger

        with ledger(ctx) as book:
            if output.workbook is not None:
                refuse_the_ledger(book.target, output.workbook, "-o FILE.xlsx")
            if as_recorded is not None:  # the ledger as it stood then: that position's hash
                (event,) = book.events(after=as_recorded - 1, limit=1)
                return as_recorded, event.hash
            return book.head()

    titled = None if draw is None else (
        lambda document: draw({**document, "basis": basis(document, as_of, as_recorded)}))
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
    from cli.render import preferred_table

    output = choose(as_json, as_csv, workbook)
    from projections import readmodel, reports

    report = report_for(ctx, as_of, as_recorded, readmodel.current_preferred, reports.preferred)
    present(ctx, "preferred", report, preferred_table, output,
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
    from cli.render import warrants_tables

    output = choose(as_json, as_csv, workbook)
    price = _market_price(market_price)
    from projections import readmodel, reports

    report = report_for(ctx, as_of, as_recorded,
                        lambda book, judge: readmodel.current_warrants(book, judge, price),
                        lambda books, on: reports.warrants(books, on, price))
    present(ctx, "warrants", report, warrants_tables, output,
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
    from cli.render import capital_tables

    output = choose(as_json, as_csv, workbook)
    from projections import readmodel, reports

    report = report_for(ctx, as_of, as_recorded,
                        lambda book, judge: readmodel.current_capital(book, judge, since, by.value),
                        lambda books, on: reports.capital(books, on, since, by.value))
    if chart and output.format is Format.TABLE:
        from cli.quarter import capital_chart

        console = out()
        console.print(capital_chart(report, plain=plain_console(console)))
        return
    present(ctx, "capital", report, capital_tables, output, as_of=as_of, as_recorded=as_recorded)


@app.command("summary")
def summary(
    ctx: typer.Context, *, as_of: AsOf = None, as_recorded: AsRecorded = None, as_json: Json = False,
    as_csv: Csv = False, workbook: Workbook = None,
) -> None:
    """Capital raised, preferred outstanding, warrant overhang and fully diluted common.

    Example: finledger report summary --as-of 2003-05-14 --json
    """
    from cli.render import summary_table
    from projections import reports

    output = choose(as_json, as_csv, workbook)
    books: Books | None = None
    if as_of is None and as_recorded is None:  # running totals and live state, no history
        from projections.readmodel import current_summary, plain_summary

        plain = plain_path(ctx)
        quick = plain_summary(plain[0], judge_date, plain[1]) if plain is not None else None
        if quick is not None:
            report = quick
        else:
            with ledger(ctx) as book:
                report = current_summary(book, judge_date)
    else:
        books, on = books_for(ctx, as_of, as_recorded)
        report = reports.summary(books, on)
    console = out()
    from cli.quarter import summary_with_chart, wide_terminal

    if output.format is not Format.TABLE or not console.is_terminal or not wide_terminal(console):
        present(ctx, "summary", report, summary_table, output,
                as_of=as_of, as_recorded=as_recorded)
        return
    if books is None:  # a person at a wide terminal: the chart beside it needs every entry
        books, _ = books_for(ctx, as_of, as_recorded)
    capital = reports.capital(books, report["as_of"], by="quarter")
    console.print(summary_with_chart(summary_table(report), capital, console))


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
    from cli.quarter import dividends_table
    from projections import readmodel
    from projections.dividends import dividends as build

    output = choose(as_json, as_csv, workbook)
    stock_price = _positive(price, "--price", "3.10")
    report = report_for(ctx, as_of, as_recorded,
                        lambda book, judge: readmodel.current_dividends(book, judge, stock_price),
                        lambda books, on: build(books, on, stock_price))
    present(ctx, "dividends", report, dividends_table, output,
            as_of=as_of, as_recorded=as_recorded)


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
    from cli.quarter import eps_table
    from projections.eps import eps as build

    output = choose(as_json, as_csv, workbook)
    _positive(average_price, "--average-price", "4.10")
    if end < start:
        raise typer.BadParameter(f"{end} is before --from {start}; give the period's last day",
                                 param_hint="'--to'")
    with ledger(ctx) as book:
        events, _ = timeline_of(book, as_recorded)
        report = build(events, start, end, net_income, average_price)
    present(ctx, "eps", report, eps_table, output, as_recorded=as_recorded)


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
    from ledger.inputs import clean_name
    from projections.holder import holder as build

    output = choose(as_json, as_csv, workbook)
    who = clean_name(name, "holder name")
    books, on = books_for(ctx, as_of, as_recorded)
    with ledger(ctx) as book:
        events, _ = timeline_of(book, as_recorded)
        report = build(books, events, who, on)
    present(ctx, "holder", report, None, output, as_of=as_of, as_recorded=as_recorded)


@app.command("rebuild")
def rebuild_read_model(ctx: typer.Context) -> None:
    """Rebuild the materialized report tables from position zero (never needed in normal
    use: they are caught up after every write and before every report).

    Example: finledger report rebuild
    """
    from projections.readmodel import rebuild

    with ledger(ctx) as book:
        applied = rebuild(book)
    out().print(f"Read model rebuilt: {applied} events applied", markup=False)
