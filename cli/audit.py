"""`finledger audit ...`: prove the ledger (verify) and show how each event moved it (replay)."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.console import err, out, print_json
from cli.context import ledger, settings
from cli.params import parse_date, parse_shares
from cli.words import plural

if TYPE_CHECKING:  # loaded by the commands that use them, to keep start-up quick
    from rich.table import Table

    from events import LedgerEvent
    from ledger import audit
    from ledger.service import Ledger
    from projections.trail import Step

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


class _Streamed:
    """The history (and the read-model tables, when they claim the whole stream) checked
    while the chain is: each event the chain check decodes is handed on in timeline order
    (`ledger.stream.Reorder`), so no row is read or decoded twice and none is held long."""

    def __init__(self, book: Ledger, *, tables: bool = True) -> None:
        from ledger import audit
        from ledger.stream import Reorder
        from projections.check import TableCheck, latest_in

        self.stream = book.stream()
        self.keys = self.stream.keys()
        self.history = audit.HistoryCheck(self.keys)
        self.tables = TableCheck.start(book, self.keys.count,
                                       functools.partial(latest_in, self.keys)) if tables else []
        self.shared = isinstance(self.tables, TableCheck) and \
            self.tables.position == self.keys.count
        self.reorder = Reorder(self.keys, self.stream.at, self._emit)

    def feed(self, event: LedgerEvent) -> None:
        """Each event as the chain check decodes it, in recording order."""
        self.history.record(event)
        self.reorder.feed(event)

    def _emit(self, event: LedgerEvent) -> None:
        self.history.feed(event)
        if self.shared:
            assert not isinstance(self.tables, list)
            self.tables.apply(event)

    def problems(self, chain: audit.ChainResult) -> list[audit.Problem] | None:
        """What the history and tables show; None if the stream could not be followed (the
        caller then checks them over the whole stream, as before)."""
        keys = chain.keys
        if (not chain.streamed or keys is None or keys.count != self.keys.count
                or keys.reversals != self.keys.reversals or keys.ordinals != self.keys.ordinals):
            return None
        self.reorder.finish()
        problems = self.history.problems()
        tables = self.tables
        if isinstance(tables, list):
            return problems or tables
        if problems:
            return problems
        if self.shared:
            return tables.finish()
        stream = self.stream
        return tables.finish(lambda position: stream.timeline(keys, upto=position))

    def close(self) -> None:
        from projections.check import TableCheck

        if isinstance(self.tables, TableCheck):
            self.tables.close()


PARALLEL_FROM = 50_000  # events from which the tables are checked in a second process


def _verify_streamed(book: Ledger, meta: dict[str, str], expect_head: str | None,
                     total: int, target: str) -> tuple[audit.ChainResult,
                                                      list[audit.Problem] | None]:
    """The chain, with the history and the tables handed each event as the chain check
    decodes it (each row is read and decoded once); `found` is None where the stream could
    not be followed, and the caller checks them over the whole stream, as before."""
    from ledger import audit

    apart = total >= PARALLEL_FROM and (os.cpu_count() or 1) >= 2 \
        and _tables_kept(book)
    with contextlib.ExitStack() as stack:
        tables_future = None
        if apart:  # the tables' replay on the other core, while this one checks the chain
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from projections.check import check_tables_apart

            pool = stack.enter_context(ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn")))
            tables_future = pool.submit(check_tables_apart, target, book.key, book.name)
        streamed: _Streamed | None
        try:
            streamed = _Streamed(book, tables=not apart)
        except Exception:  # a row only the full decoder reads: checked as before
            streamed = None
        try:
            with progress_bar("Checking the ledger", total) as update:
                chain = audit.check_store(book.open(), book.id, meta,
                                          expect_head=expect_head, progress=update,
                                          sink=streamed.feed if streamed else None)
            if chain.problems or streamed is None:
                return chain, None
            found = streamed.problems(chain)
        finally:
            if streamed is not None:
                streamed.close()
        if found is None or found or tables_future is None or chain.keys is None:
            return chain, found  # (history problems: the tables are not judged)
        try:
            seen, tables = tables_future.result()
        except Exception:  # the other process failed: the whole stream decides, as before
            return chain, None
        keys = chain.keys
        if seen != (keys.count, keys.ordinals.tobytes(), keys.reversals):
            return chain, None  # the stream moved between the two readings
        return chain, tables


def _tables_kept(book: Ledger) -> bool:
    from projections import readmodel

    return readmodel.materialized(book)


def _head(text: str) -> str:
    from ledger.audit import parse_head

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
    from ledger.errors import AuditFailure

    if every and expect_head is not None:
        raise typer.BadParameter("a head belongs to one ledger; give --expect-head without "
                                 "--all (and --ledger NAME)", param_hint="'--expect-head'")
    if not every:
        with ledger(ctx) as book:
            result, behind = _verify_one(ctx, book, expect_head)
        if as_json:
            print_json(_verdict_json(result, behind))
        else:
            _print_verdict(result, behind, "")
        failed = [] if result.ok else [("", result)]
    else:
        from ledger.service import Ledger

        s = settings(ctx)
        key = os.environ.get("FINLEDGER_KEY") or None
        with ledger(ctx) as first:
            names = [name for name, _, _ in first.ledgers()]
        found = []
        for name in names:
            with Ledger(s.db, key=key, ledger=name) as book:
                found.append((name, *_verify_one(ctx, book, None)))
        if as_json:
            print_json({"ok": all(r.ok for _, r, _ in found), "ledgers": [
                {"ledger": name, **_verdict_json(r, behind)} for name, r, behind in found]})
        else:
            for name, r, behind in found:
                _print_verdict(r, behind, f"ledger {name}: ")
        failed = [(f" in ledger {name!r}", r) for name, r, _ in found if not r.ok]
    if failed:
        where, result = failed[0]
        first_problem = result.problems[0]
        raise AuditFailure(f"audit failed: {plural(len(result.problems), 'problem')}{where}, "
                           f"the first at position {first_problem.position}: "
                           f"{first_problem.problem}")


def _verify_one(ctx: typer.Context, book: Ledger, expect_head: str | None
                ) -> tuple[audit.Verification, int | None]:
    """One ledger's verification, and its tables' position when they lag behind."""
    import sqlite3

    from eventsourcing.persistence import PersistenceError

    damaged = _damage(book)
    if damaged is not None:
        result = damaged
    else:
        try:
            result = _verified(book, expect_head, settings(ctx).db)
        except (sqlite3.Error, UnicodeDecodeError, PersistenceError):
            damaged = _damage(book, rows=True)
            if damaged is None:
                raise
            result = damaged
    behind = _tables_behind(book) if damaged is None else None
    return result, behind


def _verdict_json(result: audit.Verification, behind: int | None) -> dict[str, Any]:
    listed = [{"position": p.position, "problem": p.problem} for p in result.problems]
    extra = {} if behind is None else {"read_model_position": behind}
    return {"ok": result.ok, "events": result.events, "problems": listed,
            "head_position": result.head_position, "head_hash": result.head_hash, **extra}


def _print_verdict(result: audit.Verification, behind: int | None, prefix: str) -> None:
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


def _tables_behind(book: Ledger) -> int | None:
    """The read-model tables' position when they lag behind the ledger's head (a catch-up
    after a recording failed, to be retried by the next command); None when they do not."""
    from projections import readmodel

    if not readmodel.materialized(book) or not book.target.exists():
        return None
    model = readmodel._open(book)
    try:
        if not model.current_schema():  # none yet, or another layout: rebuilt on next read
            return None
        position, head = model.position(), book.head()[0]
    except model.db.errors + (ValueError,):  # noqa: RUF005 (mypy reads no unpacking here)
        return None
    finally:
        model.db.close()
    return position if position < head else None


def _verified(book: Ledger, expect_head: str | None, target: str) -> audit.Verification:
    """Chain, head, history and the read-model tables, as `audit verify` checks them."""
    from events import LedgerEvent
    from ledger import audit, timeline

    app_ = book.open()
    meta = book.meta()
    total = int(meta.get("head_position", "0")) if meta.get(
        "head_position", "0").isdigit() else 0
    chain, found = _verify_streamed(book, meta, expect_head, total, target)
    problems = list(chain.problems)
    if not problems:  # the history (and the tables) are judged on a proven stream
        if found is None:  # the whole stream, as it always was
            rows = audit.read_rows(app_, book.id)
            events = [e for _, e in rows if isinstance(e, LedgerEvent)]
            found = audit.check_history(events)
            if not found:
                from projections.check import check_tables

                found = check_tables(book, events)
        problems = found or timeline.verify(app_, book.id, chain.keys, book.stream())
    return audit.verification(problems, chain.count, meta)


def _damage(book: Ledger, *, rows: bool = False) -> audit.Verification | None:
    """A SQLite ledger whose bytes are damaged, as problems naming each damaged table (and
    the event, when the damage is inside one stored row): SQLite's own check, and with
    `rows` every row's text too (what a read that failed on undecodable text needs)."""
    from ledger import audit
    from ledger.damage import sqlite_damage, text_damage

    if book.target.kind != "sqlite" or not book.target.exists():
        return None
    found = sqlite_damage(book.target.path)
    if not found and rows:
        found = text_damage(book.target.path)
    if not found:
        return None
    problems = [audit.Problem(d.position or 0, d.describe()) for d in found]
    return audit.verification(problems, 0, {"head_position": "-1"})


def _moved(now: Decimal | int, was: Decimal | int | None) -> str:
    """A running total, and by how much this step moved it."""
    if was is None or now == was:
        return f"{now:,}"
    return f"{now:,} ({now - was:+,})"


def _replay_table(steps: Iterable[Step], *, until: date | None = None,
                  to: int | None = None) -> Table:
    from rich.table import Table

    from cli.render import _summary
    from cli.tables import optional
    from events.codec import log_entry

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
    from ledger.errors import NotFound
    from ledger.state import timeline
    from ledger.stream import KeyMismatch
    from projections.trail import iter_steps

    with ledger(ctx) as book:
        stream = book.stream()
        ordered: Iterable[LedgerEvent]
        try:
            keys = stream.keys()
            count = keys.count
            ordered = stream.timeline(keys, upto=to)
        except KeyMismatch:  # a stream with gaps: read whole, as it always was
            events = book.events()
            count = len(events)
            ordered = timeline([e for e in events if to is None or e.originator_version <= to])
        if to is not None and to > count:
            raise NotFound(f"there is no position {to}; the ledger holds {count} events")
        steps = iter_steps(ordered, until=until)
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
