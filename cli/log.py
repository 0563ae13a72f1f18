"""`finledger log`: the recorded events in recording order, filtered, as a table, JSON, CSV
or a workbook."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from cli.context import service
from cli.output import Csv, Workbook, choose, emit
from cli.params import parse_date


def log(
    ctx: typer.Context,
    *,
    since: Annotated[
        date | None, typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help="Effective on or after.")
    ] = None,
    until: Annotated[
        date | None, typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help="Effective on or before.")
    ] = None,
    event_type: Annotated[
        str | None, typer.Option("--type", metavar="EVENT",
                                  help="Only this event type, e.g. ClosingCompleted.")
    ] = None,
    holder: Annotated[str | None, typer.Option(
        "--holder", metavar="NAME", help="Only events that involve this holder.")] = None,
    series: Annotated[str | None, typer.Option(
        "--series", metavar="NAME", help="Only events of this series.")] = None,
    ref: Annotated[str | None, typer.Option(
        "--ref", metavar="REF", help="Only the event with this reference, and those naming it.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, oldest first.")] = False,
    as_csv: Csv = False,
    workbook: Workbook = None,
) -> None:
    """List recorded events in recording order.

    Example: finledger log --type ClosingCompleted --since 2003-05-01;
    finledger log --holder "Xmark Funds"
    """
    from app.events import EVENTS_BY_NAME

    if event_type is not None and event_type not in EVENTS_BY_NAME:
        raise typer.BadParameter(
            f"{event_type!r} is not an event type; use one of {', '.join(EVENTS_BY_NAME)}",
            param_hint="'--type'",
        )
    output = choose(as_json, as_csv, workbook)
    ledger = service(ctx)
    entries = ledger.log(since=since, until=until, event_type=event_type, holder=holder,
                         series=series, ref=ref)
    head = ledger.head(refuse=output.workbook) if output.workbook is not None else None
    from app.reports import describe_log
    from cli.render import log_table

    emit(describe_log(entries), output, draw=log_table, head=lambda: head or (0, ""))
