"""`finledger ledgers`: the ledgers one store holds, with their event counts and heads."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.console import out, print_json
from cli.context import service


def ledgers(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option(
        "--json", help='A JSON array of {"ledger", "events", "head_position", "head_hash"}.')]
        = False,
) -> None:
    """List the ledgers of the store (--db), each with its event count and chain head.

    A store holds one ledger per issuer; choose one with --ledger NAME (or FINLEDGER_LEDGER);
    `main` is the default, and the one a store written before --ledger holds.

    Example: finledger --db agent.db ledgers --json
    """
    listed = service(ctx).ledgers()
    if as_json:
        print_json([{"ledger": name, "events": events, "head_position": events,
                     "head_hash": head} for name, events, head in listed])
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    table.add_column("Ledger", no_wrap=True)
    table.add_column("Events", justify="right", no_wrap=True)
    table.add_column("Head", no_wrap=True)
    for name, events, head in listed:
        table.add_row(name, f"{events:,}", head)
    out().print(table)
