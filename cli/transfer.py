"""`finledger export` and `finledger import`: the ledger as JSON lines, and back, all or none."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.console import err, out
from cli.context import service
from cli.params import parse_date
from cli.words import plural

if TYPE_CHECKING:
    from app.service import ImportProgress


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    ocf = "ocf"


def export(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="FILE",
        help="Write here instead of stdout (with --format ocf: the package's new directory).")]
        = None,
    *,
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", help="jsonl: every event as JSON lines; ocf: an Open Cap Table Format "
        "1.2.0 package (a directory), validated against the OCF schemas.")]
        = ExportFormat.jsonl,
    issuer_name: Annotated[str | None, typer.Option(
        "--issuer-name", metavar="TEXT", help="The issuer's legal name (--format ocf).")] = None,
    formation_date: Annotated[date | None, typer.Option(
        "--formation-date", parser=parse_date, metavar="YYYY-MM-DD",
        help="The issuer's formation date (--format ocf).")] = None,
    country: Annotated[str, typer.Option(
        "--country", metavar="CC", help="The issuer's country of formation (--format ocf).")]
        = "US",
) -> None:
    """Write every event with its metadata as JSON lines, in recording order, or the ledger
    as an Open Cap Table Format package (--format ocf).

    Example: finledger export -o spectrum.jsonl

    OCF: finledger export --format ocf -o spectrum-ocf --issuer-name "Spectrum
    Pharmaceuticals, Inc." --formation-date 1987-01-01
    """
    if fmt is ExportFormat.ocf:
        from cli.ocf import export_ocf

        export_ocf(ctx, output, issuer_name, formation_date, country)
        return
    counted = service(ctx).export(output)
    if output is not None:
        err().print(f"Exported {plural(counted, 'event')} to {output}", markup=False)


@contextlib.contextmanager
def _progress() -> Iterator[ImportProgress | None]:
    """A rich progress bar on stderr while importing, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TimeRemainingColumn,
    )

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err(),
                  transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                label = "Checking lines" if phase == "Checking" else "Writing (one transaction)"
                tasks[phase] = bar.add_task(label, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="An export: JSON lines.")],
    verify_source_head: Annotated[str | None, typer.Option(
        "--verify-source-head", metavar="HASH",
        help="Refuse the file unless its own hash chain recomputes line by line and ends at "
        "HASH (the head `audit verify` printed on the exported ledger).")] = None,
) -> None:
    """Append an export's events, each checked as if recorded by hand: all or none.

    Each event keeps the time and actor it was first recorded with, and its position and
    hash in the exported ledger (`source` in `log --json`); the new ledger's chain is its own.
    A refused line is named by its number and nothing is appended; a killed import appends
    nothing either.

    Example: finledger --db copy.db import spectrum.jsonl --verify-source-head 94193c3e...
    """
    from app.inputs import is_head_hash

    source_head = None if verify_source_head is None else verify_source_head.strip().lower()
    if source_head is not None and not is_head_hash(source_head):
        raise typer.BadParameter(f"{verify_source_head!r} is not a head hash; give the 64 hex "
                                 "digits `finledger audit verify` prints after 'head N'",
                                 param_hint="'--verify-source-head'")
    with _progress() as progress:
        imported = service(ctx).import_file(file, source_head=source_head, progress=progress)
    if imported.count == 1:
        out().print(f"Imported 1 event at position {imported.first}", markup=False)
    elif imported.count:
        out().print(f"Imported {plural(imported.count, 'event')} at positions "
                    f"{imported.first} to {imported.last}", markup=False)
    else:
        out().print("Imported 0 events (the file holds none)", markup=False)
