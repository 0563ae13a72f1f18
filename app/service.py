"""The ledger service: the one thing the command line calls.

A `Service` names one ledger of a store (`db`, `ledger`), who records (`actor`) and the key
its events are encrypted with. Each method opens the store, does one piece of application
work and closes it: record or reverse an event (and bring the read models up to it), import
and export, each report (now from the read model, or `as_of` a date and `as_recorded` at a
position by replaying the timeline), verify, replay, rebuild, list the ledgers, complete
names. Nothing here prints: a warning (the command still did its work) goes to `warn`.

Each method imports the inner modules it needs when it runs, so a command loads only what it
uses.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar

from app.books import books_as_of, current_books, judge_date, timeline_of
from app.verify import Progress, no_progress

if TYPE_CHECKING:  # the ledger (and eventsourcing) load only when a method needs them
    from events import LedgerEvent
    from ledger import audit, transfer
    from ledger.commands import Command
    from ledger.service import Ledger
    from ledger.state import LedgerState
    from projections.books import Books
    from projections.dividends import DividendsReport
    from projections.eps import EpsReport
    from projections.holder import HolderReport
    from projections.reports import CapitalReport, PreferredReport, SummaryReport, WarrantsReport
    from projections.terms import TermsReport

R = TypeVar("R")
ImportProgress = Callable[[str, int, int], None]
"""Told (phase, done, total) as an import checks its lines and writes them."""
Completion = Literal["series", "securities", "holders", "warrants", "closings"]


def _quiet(message: str) -> None:
    """The default for warnings: none shown (the command line passes its own)."""


@dataclass(frozen=True)
class Recorded:
    """An event the service appended, and the advice the ledger gave with it."""

    event: LedgerEvent
    advice: tuple[str, ...] = ()


if TYPE_CHECKING:
    from projections import trail

    Step = trail.Step
    Verification = audit.Verification


@dataclass(frozen=True)
class Verdict:
    """One ledger's verification (`ledger` is "" for the ledger the service names), and its
    read-model tables' position when they lag behind."""

    ledger: str
    result: audit.Verification
    behind: int | None


@dataclass(frozen=True)
class OcfExport:
    events: int
    files: int


class Service:
    def __init__(self, db: str, *, actor: str | None = None, key: str | None = None,
                 ledger: str = "main", warn: Callable[[str], None] = _quiet) -> None:
        self.db = db
        self.actor = actor
        self.key = key
        self.ledger = ledger
        self.warn = warn

    # --- the store ------------------------------------------------------------------------

    def open(self, *, create: bool = False) -> Ledger:
        """The ledger, opened; on PostgreSQL its read model moves with each event it appends."""
        from ledger.service import Ledger

        book = Ledger(self.db, actor=self.actor, key=self.key, create=create, ledger=self.ledger)
        if book.target.kind == "postgres":
            from projections.readmodel import follower

            book.follow = follower(book)
        return book

    def caught_up(self, book: Ledger, recorded: Sequence[LedgerEvent] = ()) -> None:
        """Bring the materialized reports up to the event just recorded (a busy table is
        caught up by the next read instead; the event itself is already durable).

        The command succeeded once its events were appended: should this later step fail, it
        is said as a warning and the command still succeeds (a failure always means nothing
        was appended); the next command catches the tables up, and `audit verify` shows the
        lag."""
        from projections import readmodel

        try:
            readmodel.catch_up(book, recorded)
        except Exception as exc:
            self.warn(
                f"recorded, but the reports' tables could not be brought up to date "
                f"({type(exc).__name__}: {exc}); the next command catches them up "
                "(`finledger report rebuild` rebuilds them)"
            )

    def plain_path(self) -> tuple[str, str] | None:
        """The ledger's file and name when it is a SQLite path and no key is set (what a read
        model can be read from without opening the store); None for a PostgreSQL URL or a
        keyed ledger."""
        return None if "://" in self.db or self.key else (self.db, self.ledger)

    def init(self) -> str:
        """Create the store; where it is, as shown to a person."""
        with self.open(create=True) as book:
            book.init()
            return book.target.display()

    def ledgers(self) -> list[tuple[str, int, str]]:
        """The ledgers of the store: each name, its event count and its head hash."""
        from ledger.service import Ledger

        with Ledger(self.db, key=self.key) as book:
            return book.ledgers()

    def head(self, as_recorded: int | None = None, *, refuse: Path | None = None,
             option: str = "-o FILE.xlsx") -> tuple[int, str]:
        """The head (position, hash), or the position `as_recorded` and its hash; `refuse`
        is an output file that must not be the ledger itself."""
        with self.open() as book:
            if refuse is not None:
                from ledger.files import refuse_the_ledger

                refuse_the_ledger(book.target, refuse, option)
            if as_recorded is not None:  # the ledger as it stood then: that position's hash
                (event,) = book.events(after=as_recorded - 1, limit=1)
                return as_recorded, event.hash
            return book.head()

    def diagnose(self) -> str | None:
        """After an unexpected failure: the one line saying this ledger is damaged
        (`ledger.damage`), or None when it is not (the failure is a bug)."""
        from ledger.damage import diagnose

        try:
            return diagnose(self.db, self.key) or self._tables_damaged()
        except Exception:
            return None

    def _tables_damaged(self) -> str | None:
        """The read model's tables against a fresh replay (what `audit verify` compares): the
        events are sound, but a report could not read its tables."""
        from ledger.damage import Damage, damage_line
        from ledger.service import Ledger
        from projections.table_check import check_tables

        with Ledger(self.db, key=self.key, ledger=self.ledger) as book:
            problems = check_tables(book, book.events())
            if not problems:
                return None
            return damage_line(book.target.display(), [Damage("rm_*", problems[0].problem)])

    # --- writing ----------------------------------------------------------------------------

    def record(self, command: Command) -> Recorded:
        """Decide `command` and append its event (creating the store if need be)."""
        with self.open(create=True) as book:
            event = book.record(command)
            self.caught_up(book)
            return Recorded(event, tuple(book.advice))

    def reverse(self, position: int, reason: str) -> Recorded:
        """Reverse the event at `position`."""
        with self.open() as book:
            event = book.reverse(position, reason)
            self.caught_up(book)
            return Recorded(event, tuple(book.advice))

    def import_file(self, file: Path, *, source_head: str | None = None,
                    progress: ImportProgress | None = None) -> transfer.Imported:
        """Append an export's events, each checked as if recorded by hand: all or none. With
        `source_head`, the file's own chain must recompute and end at it."""
        from ledger import transfer
        from ledger.errors import InvalidInput, LedgerError, NotFound
        from ledger.provenance import verified_lines
        from projections.readmodel import import_sink

        try:
            fh = file.open(encoding="utf-8")
        except FileNotFoundError:
            raise NotFound(f"no file {str(file)!r} to import") from None
        except OSError as exc:
            raise InvalidInput(f"cannot read {str(file)!r}: {exc}") from None
        # The file is read line by line while it is checked (a long export is never held).
        with fh, self.open(create=True) as book:
            new = not book.exists
            if book.target.holds(file):
                raise InvalidInput(f"{str(file)!r} is the ledger itself; import an export file")
            try:
                total = _count_lines(file) if progress is not None else None
                lines = fh if source_head is None else verified_lines(fh, source_head)
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
                self.caught_up(book)
            return imported

    def export(self, output: Path | None, stdout: IO[str] | None = None) -> int:
        """Every event with its metadata as JSON lines, in recording order, written to
        `output` (a private file, replaced whole) or to `stdout` (default: sys.stdout as it
        is then); how many."""
        from ledger.files import private_output, refuse_the_ledger

        with self.open() as book:
            if output is not None:
                refuse_the_ledger(book.target, output)
            lines, counted = export_lines(book)
            if output is None:
                stream = stdout or sys.stdout
                for line in lines:
                    stream.write(line)
                stream.flush()
                return counted()
            with private_output(output) as fh:
                fh.writelines(lines)
            return counted()

    def export_ocf(self, issuer_name: str, formation_date: date, country: str, output: Path
                   ) -> OcfExport:
        """The ledger as an Open Cap Table Format package of the issuer (its legal name,
        formation date and two-letter country code), validated against the OCF 1.2.0 schemas
        before anything is written, in a new directory `output` (whole or absent)."""
        from ledger.errors import InvalidInput, InvariantViolation
        from ledger.inputs import clean_name
        from projections.ocf import Issuer, package
        from projections.ocf_schema import validate_package

        issuer = Issuer(clean_name(issuer_name, "--issuer-name"), formation_date, country)
        target = output.resolve()
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise InvalidInput(f"{str(output)!r} already exists and is not an empty directory; "
                               "give a new directory for the package")
        with self.open() as book:
            events = book.events()
            head = book.head()
        latest = max((e.effective_date for e in events), default=None)
        files = package(events, issuer, as_of=judge_date(latest),
                        generated_at=datetime.now(UTC), head=head)
        problems = validate_package(files)
        if problems:
            raise InvariantViolation(
                f"the OCF package would not validate against the OCF 1.2.0 schemas "
                f"({len(problems)} problem(s), the first: {problems[0]}); nothing was written")
        _write_package(files, target, output)
        return OcfExport(len(events), len(files))

    def rebuild(self) -> int:
        """Rebuild the read model's tables from position zero; how many events it applied."""
        from projections.readmodel import rebuild

        with self.open() as book:
            return rebuild(book)

    # --- the books and the reports ----------------------------------------------------------

    def books(self, as_of: date | None = None, as_recorded: int | None = None,
              reads: frozenset[str] | None = None) -> tuple[Books, date]:
        """The books a report reads, and the date it judges them on: now from the read model
        (caught up), or the timeline as recorded at `as_recorded` through `as_of` (of the
        tables the fold only writes, those but `reads` maybe left undecoded; None: all read)."""
        with self.open() as book:
            if as_of is None and as_recorded is None:
                return current_books(book)
            return books_as_of(book, as_of, as_recorded, reads)

    def _report(self, as_of: date | None, as_recorded: int | None,
                current: Callable[[Ledger, Callable[[date | None], date]], R],
                whole: Callable[[Books, date], R],
                reads: frozenset[str] | None = None) -> R:
        """A report: now, `current` reads only what it shows from the read model
        (`projections.readmodel.current_*`); as of a date or a position, `whole` is built
        from the books, of the tables the fold only writes only those it `reads` decoded
        where it can (and all, should it read another after all: `checkpoints.NotDecoded`)."""
        from projections.checkpoints import NotDecoded

        if as_of is None and as_recorded is None:
            with self.open() as book:
                return current(book, judge_date)
        if reads is not None:
            with contextlib.suppress(NotDecoded):
                return whole(*self.books(as_of, as_recorded, reads))
        return whole(*self.books(as_of, as_recorded))

    def preferred(self, as_of: date | None = None, as_recorded: int | None = None
                  ) -> PreferredReport:
        from projections import readmodel, reports

        return self._report(as_of, as_recorded, readmodel.current_preferred, reports.preferred,
                            frozenset())

    def warrants(self, as_of: date | None = None, as_recorded: int | None = None,
                 market_price: Decimal | None = None) -> WarrantsReport:
        from projections import readmodel, reports

        return self._report(
            as_of, as_recorded,
            lambda book, judge: readmodel.current_warrants(book, judge, market_price),
            lambda books, on: reports.warrants(books, on, market_price), frozenset())

    def capital(self, as_of: date | None = None, as_recorded: int | None = None,
                since: date | None = None, by: str = "month") -> CapitalReport:
        from projections import readmodel, reports

        return self._report(
            as_of, as_recorded,
            lambda book, judge: readmodel.current_capital(book, judge, since, by),
            lambda books, on: reports.capital(books, on, since, by),
            frozenset({"capital"}))

    def summary(self, as_of: date | None = None, as_recorded: int | None = None
                ) -> SummaryReport:
        """The summary; without `as_of` and `as_recorded`, from the running totals and the
        live state (no history is read)."""
        from projections import reports

        if as_of is not None or as_recorded is not None:
            return reports.summary(*self.books(as_of, as_recorded))
        from projections.readmodel import current_summary, plain_summary

        plain = self.plain_path()
        quick = plain_summary(plain[0], judge_date, plain[1]) if plain is not None else None
        if quick is not None:
            return quick
        with self.open() as book:
            return current_summary(book, judge_date)

    def summary_and_capital(self, as_of: date | None = None, as_recorded: int | None = None
                            ) -> tuple[SummaryReport, CapitalReport]:
        """The summary, and the capital raised by quarter drawn beside it."""
        from projections import reports

        if as_of is None and as_recorded is None:
            report = self.summary()
            books, _ = self.books()
        else:
            books, on = self.books(as_of, as_recorded)
            report = reports.summary(books, on)
        return report, reports.capital(books, report.as_of, by="quarter")

    def dividends(self, as_of: date | None = None, as_recorded: int | None = None,
                  price: Decimal | None = None) -> DividendsReport:
        from projections import readmodel
        from projections.dividends import dividends

        return self._report(
            as_of, as_recorded,
            lambda book, judge: readmodel.current_dividends(book, judge, price),
            lambda books, on: dividends(books, on, price))

    def terms(self, as_of: date | None = None, as_recorded: int | None = None) -> TermsReport:
        from projections.terms import terms

        return terms(*self.books(as_of, as_recorded))

    def eps(self, start: date, end: date, net_income: Decimal, average_price: Decimal,
            as_recorded: int | None = None) -> EpsReport:
        from projections.eps import eps

        with self.open() as book:
            events, _ = timeline_of(book, as_recorded)
            return eps(events, start, end, net_income, average_price)

    def holder(self, name: str, as_of: date | None = None, as_recorded: int | None = None
               ) -> HolderReport:
        from ledger.inputs import clean_name
        from projections.holder import holder

        who = clean_name(name, "holder name")
        books, on = self.books(as_of, as_recorded)
        with self.open() as book:
            events, _ = timeline_of(book, as_recorded)
            return holder(books, events, who, on)

    def log(self, *, since: date | None = None, until: date | None = None,
            event_type: str | None = None, holder: str | None = None,
            series: str | None = None, ref: str | None = None) -> list[dict[str, Any]]:
        """The recorded events that match, in recording order, as `log --json` gives them."""
        from events.codec import log_entry
        from ledger.state import reversed_positions

        with self.open() as book:
            events = book.events()
        reversals = reversed_positions(events)
        selected = [
            e for e in events
            if (since is None or e.effective_date >= since)
            and (until is None or e.effective_date <= until)
            and (event_type is None or type(e).__name__ == event_type)
        ]
        if holder is not None or series is not None or ref is not None:
            from projections.mentions import mentions

            selected = mentions(selected, events, holder=holder, series=series, ref=ref)
        return [log_entry(e, reversals.get(e.originator_version)) for e in selected]

    # --- proving it -------------------------------------------------------------------------

    def verify(self, expect_head: str | None = None, *, every: bool = False,
               progress: Progress = no_progress) -> list[Verdict]:
        """The ledger's verification (chain, head, history, tables), or with `every` each
        ledger's of the store, one by one."""
        from app.verify import verify_one
        from ledger.service import Ledger

        if not every:
            with self.open() as book:
                return [Verdict("", *verify_one(book, self.db, expect_head, progress))]
        with self.open() as first:
            names = [name for name, _, _ in first.ledgers()]
        found = []
        for name in names:
            with Ledger(self.db, key=self.key, ledger=name) as book:
                found.append(Verdict(name, *verify_one(book, self.db, None, progress)))
        return found

    @contextlib.contextmanager
    def replay(self, until: date | None = None, to: int | None = None
               ) -> Iterator[Iterator[Step]]:
        """The timeline (as recorded at `to`) one event at a time through `until`, with the
        running totals after each; read from the store while the block runs."""
        from ledger.errors import NotFound
        from ledger.state import timeline
        from ledger.stream import KeyMismatch
        from projections.trail import iter_steps

        with self.open() as book:
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
            yield iter_steps(ordered, until=until)

    # --- completion -------------------------------------------------------------------------

    def completions(self, kind: Completion, incomplete: str) -> list[str]:
        """The names of `kind` the ledger holds that start with `incomplete`. Completion never
        fails or writes: a missing, unreadable or encrypted ledger without its key completes
        only what needs no ledger."""
        state = self._state()
        found = list(_names(state, kind)) if state is not None else []
        if kind == "securities":
            found.append("common")
        return sorted({n for n in found if n.startswith(incomplete)})

    def _state(self) -> LedgerState | None:
        from ledger.service import Ledger

        try:
            book = Ledger(self.db, key=self.key, create=False)
            if not book.exists:
                return None
            with book:
                return book.current_state()
        except Exception:  # completion offers what it can; it never reports or fails
            return None


def new_key() -> str:
    """A new key for FINLEDGER_KEY (encrypts a new ledger's events at rest)."""
    from ledger.service import new_key as generated

    return generated()


def _names(state: LedgerState, kind: Completion) -> Iterable[str]:
    if kind in ("series", "securities"):
        return state.series
    if kind == "holders":
        return (holder for series in state.series.values() for holder in series.holdings())
    if kind == "warrants":
        return state.warrants
    return state.closings


def export_lines(book: Ledger) -> tuple[Iterator[str], Callable[[], int]]:
    """`ledger.transfer.export_lines`, streamed from the store a page at a time: which event
    reversed which is read first (from the timeline keys), then each line as it is read; and
    how many lines were given."""
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


def _count_lines(file: Path) -> int:
    """How many lines the file has (for the progress bar), read in large binary blocks."""
    count = 0
    last = b"\n"
    with file.open("rb") as fh:
        while block := fh.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _write_package(files: dict[str, bytes], target: Path, shown: Path) -> None:
    import shutil
    import tempfile

    from ledger.errors import InvalidInput

    try:
        temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise InvalidInput(f"cannot write {str(shown)!r}: {exc.strerror}") from None
    try:
        for name, data in files.items():
            path = temporary / name
            path.write_bytes(data)
            path.chmod(0o600)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            shutil.rmtree(temporary)
        raise InvalidInput(f"cannot write {str(shown)!r}: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(temporary)
        raise
