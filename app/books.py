"""The books a report reads: now (the read model, caught up), or as of an effective date and a
recorded position (the timeline replayed). Each is one function, so either can be replaced
without touching the service or the command line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from ledger.errors import NotFound

if TYPE_CHECKING:  # the ledger and the projections load when a report runs
    from events import LedgerEvent
    from ledger.service import Ledger
    from projections.books import Books


def today() -> date:
    """The day reports and warnings judge "today" by (UTC, like the recorded times)."""
    return datetime.now(UTC).date()


def judge_date(latest: date | None) -> date:
    """Without --as-of: today or the latest effective date, whichever is later."""
    now = today()
    return now if latest is None or latest < now else latest


def current_books(book: Ledger) -> tuple[Books, date]:
    """The books now (every event, as the ledger knows it), read from the read model, and the
    date they are judged on."""
    from projections.readmodel import current_books as materialized

    books, latest = materialized(book)
    return books, judge_date(latest)


def books_as_of(book: Ledger, as_of: date | None, as_recorded: int | None,
                reads: frozenset[str] | None = None) -> tuple[Books, date]:
    """The books of the timeline (as recorded at a position) through a date: folded from the
    nearest checkpoint (`projections.checkpoints`), the events after the date never read;
    of the tables the fold only writes, those but `reads` maybe left undecoded (None: all)."""
    from projections import checkpoints

    skip = frozenset() if reads is None else checkpoints.WRITE_ONLY - reads
    return checkpoints.books_as_of(book, as_of, as_recorded, judge_date, skip)


def timeline_of(book: Ledger, as_recorded: int | None) -> tuple[Iterator[LedgerEvent], date | None]:
    """The timeline (as recorded at a position), streamed in order, and its latest
    effective date."""
    from ledger.state import timeline
    from ledger.stream import KeyMismatch

    stream = book.stream()
    try:
        keys = stream.keys()
    except KeyMismatch:  # a stream with gaps: read whole, as it always was
        events = book.events()
        if as_recorded is not None:
            if as_recorded > len(events):
                raise no_position(as_recorded, len(events)) from None
            events = events[:as_recorded]
        return iter(timeline(events)), max((e.effective_date for e in events), default=None)
    if as_recorded is not None and as_recorded > keys.count:
        raise no_position(as_recorded, keys.count)
    last = keys.count if as_recorded is None else as_recorded
    latest = max(keys.ordinals[1:last + 1], default=None)
    return (iter(stream.timeline(keys, upto=as_recorded)),
            date.fromordinal(latest) if latest is not None else None)


def no_position(position: int, count: int) -> NotFound:
    return NotFound(f"there is no position {position}; this ledger has {count} events "
                    "(see `finledger log`)")
