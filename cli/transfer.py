"""`finledger export` and `finledger import`: the ledger as JSON lines, and back, all or none."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.console import err, out
from cli.context import after_write, ledger
from ledger.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from ledger import transfer


def export(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="FILE", help="Write here instead of stdout.")] = None,
) -> None:
    """Write every event with its metadata as JSON lines, in recording order.

    Example: finledger export -o spectrum.jsonl
    """
    from ledger import transfer

    with ledger(ctx) as book:
        events = book.events()
    lines = transfer.export_lines(events)
    if output is None:
        for line in lines:
            sys.stdout.write(line)
        sys.stdout.flush()
        return
    try:
        with output.open("w", encoding="utf-8") as fh:
            fh.writelines(lines)
    except OSError as exc:
        raise InvalidInput(f"cannot write {str(output)!r}: {exc.strerror}") from None
    err().print(f"Exported {len(events)} events to {output}", markup=False)


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
) -> None:
    """Append an export's events, each checked as if recorded by hand: all or none.

    A refused line is named by its number and nothing is appended; a killed import appends
    nothing either.

    Example: finledger --db copy.db import spectrum.jsonl
    """
    from ledger import transfer
    from projections.readmodel import import_sink

    try:
        fh = file.open(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"no file {str(file)!r} to import") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {str(file)!r}: {exc}") from None
    # The file is read line by line while it is checked (a long export is never held whole).
    with fh, ledger(ctx, create=True) as book, _progress() as progress:
        try:
            total = _count_lines(file) if progress is not None else None
            imported = transfer.import_lines(book, fh, progress=progress, total=total,
                                             sink=import_sink(book))
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read {str(file)!r}: {exc}") from None
        if imported.count:
            after_write(book)
    if imported.count:
        out().print(f"Imported {imported.count} events at positions {imported.first} to "
                    f"{imported.last}", markup=False)
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
