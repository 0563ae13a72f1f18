"""`finledger audit ...`: prove the ledger (verify) and show how each event moved it (replay)."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from cli.console import err, out, print_json
from cli.context import ledger
from cli.params import parse_date, parse_shares

if TYPE_CHECKING:  # loaded by the commands that use them, to keep start-up quick
    from rich.table import Table

    from events import LedgerEvent
    from ledger import audit
    from ledger.service import Ledger

app = typer.Typer(
    help="Prove the ledger: verify its hash chain, replay it step by step.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain click help: no markdown parser at start-up
)

PROGRESS_THRESHOLD = 5000


@contextlib.contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr, only when stderr is a terminal and the work is long."""
    if not sys.stderr.isatty() or total < PROGRESS_THRESHOLD:
        yield lambda done, of: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err(),
                  transient=True) as bar:
        task = bar.add_task(description, total=total)

        def update(done: int, of: int) -> None:
            bar.update(task, completed=done, total=of)

        yield update


def _projection_problems(book: Ledger, events: list[LedgerEvent]) -> list[audit.Problem]:
    """The materialized read-model tables, row by row, against a fresh replay of the events
    they claim to have applied."""
    import sqlite3

    import sqlite_utils

    from ledger import audit
    from projections import readmodel
    from projections.books import replay

    if not readmodel.materialized(book) or not book.target.exists():
        return []
    model = readmodel.ReadModel(sqlite_utils.Database(sqlite3.connect(book.target.path)))
    try:
        if not model.db.table(readmodel.META).exists():
            return []  # nothing materialized yet: the reports replay
        position = model.position()
        if position > len(events):
            return [audit.Problem(position, f"the read-model tables claim position {position}, "
                                            f"but the ledger holds {len(events)} events")]
        stored, fresh = model.load(), replay(events[:position])
    except Exception as exc:  # damaged tables are a finding, not a crash
        return [audit.Problem(0, f"the read-model tables cannot be read: {exc}")]
    finally:
        model.db.close()
    problems: list[audit.Problem] = []
    for table, (attr, _, _) in readmodel.TABLES.items():
        problems.extend(audit.compare_rows(table, getattr(stored, attr), getattr(fresh, attr)))
    return problems


@app.command("verify")
def verify(
    ctx: typer.Context,
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", metavar="HASH",
        help="Also fail unless the ledger still ends at this head hash.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='{"ok", "events", "problems"}.')]
        = False,
) -> None:
    """Recompute the hash chain from the first event, check the head, replay the history.

    Every problem is reported with its position (an edited, inserted, deleted or reordered
    event); any problem exits 1. Prints the head hash to note for a later --expect-head.

    Example: finledger audit verify --expect-head 60fd6d94...
    """
    from events import LedgerEvent
    from ledger import audit
    from ledger.errors import AuditFailure
    from ledger.store import LEDGER_ID

    with ledger(ctx) as book:
        app_ = book.open()
        meta = book.meta()
        total = int(meta.get("head_position", "0")) if meta.get(
            "head_position", "0").isdigit() else 0
        with progress_bar("Reading events", total) as update:
            rows = audit.read_rows(app_, LEDGER_ID, update)
        with progress_bar("Checking the chain", len(rows)) as update:
            result = audit.verify(rows, meta, ledger_id=LEDGER_ID, expect_head=expect_head,
                                  progress=update)
        events = [e for _, e in rows if isinstance(e, LedgerEvent)]
        if result.ok:  # tables are judged against a stream that is itself proven
            extra = _projection_problems(book, events)
            if extra:
                ordered = sorted([*result.problems, *extra], key=lambda p: p.position)
                result = dataclasses.replace(result, problems=tuple(ordered))
    problems = [{"position": p.position, "problem": p.problem} for p in result.problems]
    if as_json:
        print_json({"ok": result.ok, "events": result.events, "problems": problems,
                    "head_position": result.head_position, "head_hash": result.head_hash})
    else:
        console = out()
        for p in result.problems:
            console.print(f"position {p.position}: {p.problem}", markup=False)
        verdict = "OK" if result.ok else f"FAILED ({len(result.problems)} problem(s))"
        console.print(f"{verdict}: {result.events} events; head {result.head_position} "
                      f"{result.head_hash}", markup=False)
    if not result.ok:
        first = result.problems[0]
        raise AuditFailure(f"audit failed: {len(result.problems)} problem(s), the first at "
                           f"position {first.position}: {first.problem}")


def _moved(now: Decimal | int, was: Decimal | int | None) -> str:
    """A running total, and by how much this step moved it."""
    if was is None or now == was:
        return f"{now:,}"
    return f"{now:,} ({now - was:+,})"


def _replay_table(steps: list[audit.Step]) -> Table:
    from rich.table import Table

    from cli.render import _summary
    from events.codec import log_entry

    table = Table(title="Replay (effective-date order; running totals after each event)",
                  title_justify="left")
    for name, justify in (("Pos", "right"), ("Effective", "left"), ("Type", "left"),
                          ("What", "left"), ("Capital gross", "right"),
                          ("Preferred", "right"), ("Warrants", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    before: audit.Step | None = None
    for step in steps:
        table.add_row(
            str(step.event.originator_version), step.event.effective_date.isoformat(),
            type(step.event).__name__, _summary(log_entry(step.event)),
            _moved(step.capital_gross, before.capital_gross if before else None),
            _moved(step.preferred_outstanding,
                   before.preferred_outstanding if before else None),
            _moved(step.warrants_outstanding, before.warrants_outstanding if before else None),
        )
        before = step
    return table


@app.command("replay")
def replay(
    ctx: typer.Context,
    until: Annotated[date | None, typer.Option(
        parser=parse_date, metavar="YYYY-MM-DD", help="Stop after events effective on or "
        "before this date.")] = None,
    to: Annotated[int | None, typer.Option(
        "--to", parser=parse_shares, metavar="POSITION",
        help="Replay the ledger as recorded at this position.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, one step per event.")]
        = False,
) -> None:
    """Replay the timeline one event at a time, with the running totals after each.

    Example: finledger audit replay --until 2003-12-31
    """
    if until is not None and to is not None:
        raise typer.BadParameter("give --until or --to, not both", param_hint="'--to'")
    with ledger(ctx) as book:
        events = book.events()
    if to is not None and to > len(events):
        from ledger.errors import NotFound

        raise NotFound(f"there is no position {to}; the ledger holds {len(events)} events")
    from ledger import audit

    steps = audit.replay_steps(events, until=until, to_position=to)
    if as_json:
        print_json([s.as_json() for s in steps])
        return
    out().print(_replay_table(steps))
