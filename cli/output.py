"""The outputs of a report: a table for people, JSON, CSV or an xlsx workbook.

Every report reaches the user through `emit`, one interface closed over `Format` with
`assert_never` (as pip-audit's formats are), so a new format is a compile-time error until
each branch handles it. Each output is drawn from the one description of the report
(`projections.tables.Described`): JSON from its document, CSV and xlsx from its tables, the
rich table from a hand-drawn renderer when the report has one, else table by table.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, assert_never

import typer

from cli.console import out, print_json

if TYPE_CHECKING:
    from rich.console import RenderableType

    from app.reports import Described, Table


class Format(Enum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


Csv = Annotated[bool, typer.Option(
    "--csv", help="Print the rows of each table as CSV: one header line each, figures as "
    "JSON writes them; several tables are separated by a blank line.")]
Workbook = Annotated[Path | None, typer.Option(
    "-o", "--output", metavar="FILE.xlsx",
    help="Write an xlsx workbook instead: one sheet per table, numbers as numbers.")]


@dataclass(frozen=True)
class Output:
    """The output a command was asked for (and the workbook's file for XLSX)."""

    format: Format
    workbook: Path | None = None


def choose(as_json: bool, as_csv: bool, workbook: Path | None) -> Output:
    """The one output asked for; two at once is a malformed command line (exit 2). Called
    first, before the ledger is read."""
    asked = [name for name, on in (("--json", as_json), ("--csv", as_csv),
                                   ("-o", workbook is not None)) if on]
    if len(asked) > 1:
        raise typer.BadParameter(f"{' and '.join(asked)} cannot be combined; choose one output",
                                 param_hint=f"'{asked[1]}'")
    if workbook is not None:
        if workbook.suffix.lower() != ".xlsx":
            raise typer.BadParameter(f"{str(workbook)!r} is not an .xlsx file name; -o writes a "
                                     "workbook, like -o report.xlsx", param_hint="'-o'")
        return Output(Format.XLSX, workbook)
    if as_json:
        return Output(Format.JSON)
    return Output(Format.CSV if as_csv else Format.TABLE)


Head = Callable[[], tuple[int, str]]
"""The ledger's head (position, hash), asked only by an output that records it."""


def emit(
    described: Described,
    output: Output,
    *,
    draw: Callable[[Any], RenderableType] | None = None,
    head: Head | None = None,
) -> None:
    """Write the report in the chosen format: stdout, or the workbook for XLSX."""
    fmt, workbook = output.format, output.workbook
    match fmt:
        case Format.TABLE:
            from cli.tables import emit as fitted

            if draw is not None:
                fitted(out(), draw(described.document))
            else:
                for index, table in enumerate(described.tables):
                    if index:
                        out().print("")
                    fitted(out(), generic_table(described, table))
        case Format.JSON:
            from app.reports import to_json

            print_json(to_json(described.document))
        case Format.CSV:
            sys.stdout.write(csv_text(described))
            sys.stdout.flush()
        case Format.XLSX:
            if workbook is None or head is None:
                raise ValueError("an xlsx output needs its file and the ledger's head")
            from cli.workbook import write_workbook

            write_workbook(described, workbook, head())
            from cli.console import err

            sheets = len(described.tables)
            err().print(f"Wrote {workbook} ({sheets} sheet{'s' if sheets != 1 else ''})", markup=False)
        case _:
            assert_never(fmt)


def csv_text(described: Described) -> str:
    """Each table: a header line of column keys, then its rows; tables separated by a blank
    line. Figures as JSON writes them, no thousands separators, no totals row."""
    from app.reports import plain

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for index, table in enumerate(described.tables):
        if index:
            buffer.write("\n")
        writer.writerow([column.key for column in table.columns])
        writer.writerows([plain(value) for value in table.values(row)] for row in table.rows)
    return buffer.getvalue()


def generic_table(described: Described, table: Table) -> RenderableType:
    """A report without a hand-drawn renderer: each table as a statement, figures right."""
    from rich import box
    from rich.table import Table as Rich

    from app.reports import NUMERIC, Kind, plain

    as_of = f" as of {described.as_of.isoformat()}" if described.as_of else ""
    name = table.name.replace("_", " ")
    title = f"{described.title}: {name}{as_of}"
    rich = Rich(title=title, title_justify="left", title_style="bold", header_style="bold cyan",
                box=box.SIMPLE_HEAD, show_edge=False, min_width=len(title))
    for column in table.columns:
        figure = column.kind in NUMERIC
        rich.add_column(column.heading, justify="right" if figure else "left", no_wrap=figure)
    for row in table.rows:
        cells = []
        for column, value in zip(table.columns, table.values(row), strict=True):
            if value is not None and column.kind in (Kind.SHARES, Kind.MONEY):
                cells.append(f"{value:,}")
            else:
                cells.append(plain(value) or "-")
        rich.add_row(*cells)
    return rich
