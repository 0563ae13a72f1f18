"""`finledger export` and `finledger import`: the ledger as JSON lines, and back, all or none."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.console import err, out
from cli.context import after_write, ledger
from cli.params import parse_date
from cli.words import plural
from ledger.errors import InvalidInput, LedgerError, NotFound

if TYPE_CHECKING:
    from ledger import transfer
    from ledger.service import Ledger


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
    from ledger.files import private_output, refuse_the_ledger

    with ledger(ctx) as book:
        if output is not None:
            refuse_the_ledger(book.target, output)
        lines, counted = _export_lines(book)
        if output is None:
            for line in lines:
                sys.stdout.write(line)
            sys.stdout.flush()
            return
        with private_output(output) as fh:
            fh.writelines(lines)
    err().print(f"Exported {plural(counted(), 'event')} to {output}", markup=False)


def _export_lines(book: Ledger) -> tuple[Iterator[str], Callable[[], int]]:
    """`ledger.transfer.export_lines`, streamed from the store a page at a time: which event
    reversed which is read first (from the timeline keys), then each line as it is read."""
    import json

    from events.codec import log_entry
    from ledger import transfer
    from ledger.stream import KeyMismatch

    stream = book.stream()
    try:
        keys = stream.keys()
    except KeyMismatch:  # a stream with gaps: read whole, as it always was
        events = book.events()
        return transfer.export_lines(events), lambda: len(events)
    reversals = {target: at for at, target in keys.reversals}
    written = [0]

    def lines() -> Iterator[str]:
        for event in stream.events():
            written[0] += 1
            entry = log_entry(event, reversals.get(event.originator_version))
            yield json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"

    return lines(), lambda: written[0]


@contextlib.contextmanager
def _progress() -> Iterator[transfer.Progress | None]:
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
    from ledger import transfer
    from ledger.provenance import HEAD, verified_lines
    from projections.readmodel import import_sink

    if verify_source_head is not None and not HEAD.fullmatch(verify_source_head.strip().lower()):
        raise typer.BadParameter(f"{verify_source_head!r} is not a head hash; give the 64 hex "
                                 "digits `finledger audit verify` prints after 'head N'",
                                 param_hint="'--verify-source-head'")

    try:
        fh = file.open(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"no file {str(file)!r} to import") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {str(file)!r}: {exc}") from None
    # The file is read line by line while it is checked (a long export is never held whole).
    with fh, ledger(ctx, create=True) as book, _progress() as progress:
        new = not book.exists
        if book.target.holds(file):
            raise InvalidInput(f"{str(file)!r} is the ledger itself; import an export file")
        try:
            total = _count_lines(file) if progress is not None else None
            lines = fh if verify_source_head is None else \
                verified_lines(fh, verify_source_head.strip().lower())
            imported = transfer.import_lines(book, lines, progress=progress, total=total,
                                             sink=import_sink(book))
        except (OSError, UnicodeDecodeError) as exc:
            if new:
                book.discard_if_empty()
            raise InvalidInput(f"cannot read {str(file)!r}: {exc}") from None
        except LedgerError:
            if new:  # a refused import into a new ledger leaves no ledger behind
                book.discard_if_empty()
            raise
        if imported.count:
            after_write(book)
    if imported.count == 1:
        out().print(f"Imported 1 event at position {imported.first}", markup=False)
    elif imported.count:
        out().print(f"Imported {plural(imported.count, 'event')} at positions "
                    f"{imported.first} to {imported.last}", markup=False)
    else:
        out().print("Imported 0 events (the file holds none)", markup=False)


def _count_lines(file: Path) -> int:
    """How many lines the file has (for the progress bar), read in large binary blocks."""
    count = 0
    last = b"\n"
    with file.open("rb") as fh:
        while block := fh.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")
