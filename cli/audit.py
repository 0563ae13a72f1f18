"""`finledger audit ...`: prove the ledger (verify) and show how each event moved it (replay)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.console import err, out, print_json
from cli.context import service
from cli.params import parse_date, parse_shares
from cli.words import plural

if TYPE_CHECKING:  # loaded by the commands that use them, to keep start-up quick
    from rich.table import Table

    from app.service import Step, Verification

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



def _head(text: str) -> str:
    from app.inputs import parse_head

    return parse_head(text)


@app.command("verify")
def verify(
    ctx: typer.Context,
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", metavar="HASH", parser=_head,
        help="Also fail unless the ledger still ends at this head hash (the whole hash or "
        "its first 8 or more hex digits).")] = None,
    every: Annotated[bool, typer.Option(
        "--all", help="Verify every ledger of the store (`finledger ledgers`), one by one.")]
        = False,
    as_json: Annotated[bool, typer.Option("--json", help='{"ok", "events", "problems"}.')]
        = False,
) -> None:
    """Recompute the hash chain from the first event, check the head, replay the history.

    Every problem is reported with its position (an edited, inserted, deleted or reordered
    event); any problem exits 1. Prints the head hash to note for a later --expect-head.
    With --all, every ledger of the store is verified (JSON: {"ok", "ledgers": [...]}, one
    entry per ledger with "ledger" and the keys of one ledger's verification).

    Example: finledger audit verify --expect-head 94193c3e
    """
    from app.errors import AuditFailure

    if every and expect_head is not None:
        raise typer.BadParameter("a head belongs to one ledger; give --expect-head without "
                                 "--all (and --ledger NAME)", param_hint="'--expect-head'")
    verdicts = service(ctx).verify(expect_head, every=every, progress=progress_bar)
    if not every:
        (one,) = verdicts
        if as_json:
            print_json(_verdict_json(one.result, one.behind))
        else:
            _print_verdict(one.result, one.behind, "")
        failed = [] if one.result.ok else [("", one.result)]
    else:
        if as_json:
            print_json({"ok": all(v.result.ok for v in verdicts), "ledgers": [
                {"ledger": v.ledger, **_verdict_json(v.result, v.behind)} for v in verdicts]})
        else:
            for v in verdicts:
                _print_verdict(v.result, v.behind, f"ledger {v.ledger}: ")
        failed = [(f" in ledger {v.ledger!r}", v.result) for v in verdicts if not v.result.ok]
    if failed:
        where, result = failed[0]
        first_problem = result.problems[0]
        raise AuditFailure(f"audit failed: {plural(len(result.problems), 'problem')}{where}, "
                           f"the first at position {first_problem.position}: "
                           f"{first_problem.problem}")



def _verdict_json(result: Verification, behind: int | None) -> dict[str, Any]:
    listed = [{"position": p.position, "problem": p.problem} for p in result.problems]
    extra = {} if behind is None else {"read_model_position": behind}
    return {"ok": result.ok, "events": result.events, "problems": listed,
            "head_position": result.head_position, "head_hash": result.head_hash, **extra}


def _print_verdict(result: Verification, behind: int | None, prefix: str) -> None:
    console = out()  # (soft wrap: a hash is never broken across lines)
    for p in result.problems:
        console.print(f"{prefix}position {p.position}: {p.problem}", markup=False,
                      soft_wrap=True)
    if behind is not None:
        console.print(f"{prefix}note: the reports' tables are at position {behind} of "
                      f"{plural(result.events, 'event')} (a step after a recording failed); "
                      "the next command catches them up", markup=False, soft_wrap=True)
    verdict = "OK" if result.ok else f"FAILED ({plural(len(result.problems), 'problem')})"
    console.print(f"{prefix}{verdict}: {plural(result.events, 'event')}; head "
                  f"{result.head_position} {result.head_hash}", markup=False,
                  soft_wrap=True)



def _moved(now: Decimal | int, was: Decimal | int | None) -> str:
    """A running total, and by how much this step moved it."""
    if was is None or now == was:
        return f"{now:,}"
    return f"{now:,} ({now - was:+,})"


def _replay_table(steps: Iterable[Step], *, until: date | None = None,
                  to: int | None = None) -> Table:
    from rich.table import Table

    from app.events import log_entry
    from cli.render import _summary
    from cli.tables import optional

    title = "Replay (effective-date order; running totals after each event)"
    if until is not None:
        title += f", through {until.isoformat()}"
    if to is not None:
        title += f", as recorded at position {to}"
    table = Table(title=title, title_justify="left")
    for name, justify in (("Pos", "right"), ("Effective", "left"), ("Type", "left"),
                          ("What", "left"), ("Capital gross", "right"),
                          ("Preferred", "right"), ("Warrants", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    optional(table, "What")
    before: Step | None = None
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
    with service(ctx).replay(until, to) as steps:
        if as_json:
            write_json_array(s.as_json() for s in steps)
            return
        from cli.tables import emit

        emit(out(), _replay_table(steps, until=until, to=to))


def write_json_array(items: Iterable[Any]) -> None:
    """`print_json` of the list of `items`, byte for byte (the same encoder walks them),
    written as the items come instead of after the whole list was built."""
    import itertools
    import json

    iterator = iter(items)
    first = next(iterator, _NOTHING)
    if first is _NOTHING:
        print_json([])
        return
    chunks = json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(
        _Streaming(itertools.chain([first], iterator)))
    write = sys.stdout.write
    pending: list[str] = []
    for chunk in chunks:
        pending.append(chunk)
        if len(pending) >= 4096:
            write("".join(pending))
            pending.clear()
    pending.append("\n")
    write("".join(pending))
    sys.stdout.flush()


_NOTHING = object()


class _Streaming(list[Any]):
    """A list to the JSON encoder (never empty) whose items come from an iterator."""

    def __init__(self, items: Iterator[Any]) -> None:
        super().__init__()
        self._items = items

    def __iter__(self) -> Iterator[Any]:
        return self._items

    def __len__(self) -> int:
        return 1
