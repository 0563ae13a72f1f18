"""`finledger report ...`: what is outstanding, what hangs over the common, what was raised.

Without `--as-of` a report reads the materialized read model (caught up first), so its cost
does not grow with history; `--as-of` and `--as-recorded` replay the event stream.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.console import out, print_json
from cli.context import ledger, plain_path, today
from cli.output import Csv, Output, Workbook, choose, emit
from cli.params import parse_date, parse_decimal, parse_shares
from ledger.errors import NotFound

if TYPE_CHECKING:  # the projections load when a report runs, not for --help
    from ledger.service import Ledger
    from projections.books import Books

app = typer.Typer(
    help="Replay the ledger into reports: preferred, warrants, capital, summary.",
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
Json = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def judge_date(latest: date | None) -> date:
    """Without --as-of: today or the latest effective date, whichever is later."""
    now = today()
    return now if latest is None or latest < now else latest


def books_for(
    ctx: typer.Context, as_of: date | None, as_recorded: int | None
) -> tuple[Books, date]:
    from projections.readmodel import current_books

    with ledger(ctx) as book:
        if as_of is None and as_recorded is None:
            books, latest = current_books(book)
            return books, judge_date(latest)
        return _books_as_of(book, as_of, as_recorded)


def _books_as_of(book: Ledger, as_of: date | None, as_recorded: int | None
                 ) -> tuple[Books, date]:
    """The books of the timeline (as recorded at a position) through a date, replayed from
    the store a page at a time: the events after the date are never read."""
    from ledger.stream import KeyMismatch
    from projections.books import Books as Fresh
    from projections.books import apply, replay

    stream = book.stream()
    try:
        keys = stream.keys()
    except KeyMismatch:  # a stream with gaps: read whole, as it always was
        events = book.events()
        if as_recorded is not None:
            if as_recorded > len(events):
                raise _no_position(as_recorded, len(events)) from None
            events = events[:as_recorded]
        on = as_of or judge_date(max((e.effective_date for e in events), default=None))
        return replay(events, on), on
    if as_recorded is not None and as_recorded > keys.count:
        raise _no_position(as_recorded, keys.count)
    last = keys.count if as_recorded is None else as_recorded
    latest = max(keys.ordinals[1:last + 1], default=None)
    on = as_of or judge_date(date.fromordinal(latest) if latest is not None else None)
    books = Fresh()
    for event in stream.timeline(keys, upto=as_recorded):
        if event.effective_date > on:
            break
        apply(books, event)
    return books, on


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


def show(report: dict[str, Any], as_json: bool, table: Callable[[dict[str, Any]], Any], *,
         as_of: date | None = None, as_recorded: int | None = None) -> None:
    """JSON or the table only (a report not yet described in `projections.tables`)."""
    if as_json:
        from projections import reports

        print_json(reports.to_json(report))
    else:
        from cli.tables import emit

        emit(out(), table({**report, "basis": basis(report, as_of, as_recorded)}))


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
        with ledger(ctx) as book:
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
    books, on = books_for(ctx, as_of, as_recorded)
    from projections import reports

    present(ctx, "preferred", reports.preferred(books, on), preferred_table, output,
            as_of=as_of, as_recorded=as_recorded)


def _market_price(value: Decimal | None) -> Decimal | None:
    if value is not None and value <= 0:
        raise typer.BadParameter("must be more than zero, like 4.10", param_hint="'--market-price'")
    return value


@app.command("warrants")
def warrants(
    ctx: typer.Context,
    *,
    as_of: AsOf = None,
    as_recorded: AsRecorded = None,
    market_price: Annotated[Decimal | None, typer.Option(
        parser=parse_decimal, metavar="DECIMAL",
        help="Market price per common share: shows the in-the-money shares and the "
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
    books, on = books_for(ctx, as_of, as_recorded)
    from projections import reports

    present(ctx, "warrants", reports.warrants(books, on, price), warrants_tables, output,
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
    as_json: Json = False,
    as_csv: Csv = False,
    workbook: Workbook = None,
) -> None:
    """Capital raised: every closing and cash exercise with gross, fees, net and the
    cumulative gross, then totals per month, quarter or year.

    Example: finledger report capital --by quarter --since 2003-01-01
    """
    from cli.render import capital_tables

    output = choose(as_json, as_csv, workbook)
    books, on = books_for(ctx, as_of, as_recorded)
    from projections import reports

    present(ctx, "capital", reports.capital(books, on, since, by.value), capital_tables, output,
            as_of=as_of, as_recorded=as_recorded)


@app.command("summary")
def summary(
    ctx: typer.Context, *, as_of: AsOf = None, as_recorded: AsRecorded = None, as_json: Json = False,
    as_csv: Csv = False, workbook: Workbook = None,
) -> None:
    """Capital raised, preferred outstanding, warrant overhang and fully diluted common.

    Example: finledger report summary --as-of 2003-05-14 --json
    """
    from cli.render import summary_table

    output = choose(as_json, as_csv, workbook)
    if as_of is None and as_recorded is None:  # running totals and live state, no history
        from projections.readmodel import current_summary, plain_summary

        path = plain_path(ctx)
        quick = plain_summary(path, judge_date) if path is not None else None
        if quick is not None:
            report = quick
        else:
            with ledger(ctx) as book:
                report = current_summary(book, judge_date)
    else:
        from projections import reports

        books, on = books_for(ctx, as_of, as_recorded)
        report = reports.summary(books, on)
    present(ctx, "summary", report, summary_table, output,
            as_of=as_of, as_recorded=as_recorded)


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
