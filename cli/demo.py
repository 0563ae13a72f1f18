"""`finledger demo`: the May 2003 Series D financing of Spectrum Pharmaceuticals, recorded
(`app.demo`), each step printed as it is recorded, then the reports as of 14 May 2003."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from app.errors import InvariantViolation
from cli.console import out
from cli.context import service

if TYPE_CHECKING:  # the demo's facts and the tables load when it runs, not for --help
    from app.events import LedgerEvent


def demo(ctx: typer.Context) -> None:
    """Record the May 2003 Series D financing of Spectrum Pharmaceuticals into an empty
    ledger, then print the capital raised, the warrant overhang and the summary as of
    14 May 2003.

    Example: finledger --db demo.db demo
    """
    from rich.padding import Padding
    from rich.text import Text

    from app import demo as financing
    from cli.record import success_line
    from cli.render import capital_tables, summary_table, warrants_tables
    from cli.tables import emit

    console = out()

    def started() -> None:
        console.print(Text("Spectrum Pharmaceuticals, Series D 8% Cumulative Convertible "
                           "Preferred, May 2003", style="bold"))

    def said(step: LedgerEvent | InvariantViolation) -> None:
        if isinstance(step, InvariantViolation):
            console.print(Text(f"Refused, as it must be: {step}", style="yellow"),
                          soft_wrap=True)
        else:
            console.print(success_line(step), markup=False, soft_wrap=True)

    shown = financing.run(service(ctx), started, said)
    emit(console, Text(""), Text("Assumed (not public):", style="bold"),
         *(Padding(Text(f"- {assumption}"), (0, 0, 0, 2))
           for assumption in financing.ASSUMPTIONS))
    console.print()
    emit(console, capital_tables(shown.capital), Text(""), warrants_tables(shown.warrants),
         Text(""), summary_table(shown.summary))
