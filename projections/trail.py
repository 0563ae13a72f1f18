"""The replay trail (`audit replay`): the running totals after each event of the timeline.

The totals are read from the books' fold (`projections.books.apply`), one event at a time:
capital raised, preferred outstanding and warrant shares outstanding are the books' own
figures, never folded a second time. Only what the books keep per row and a report sums on
demand (the warrant shares outstanding, live until the day after their expiry) is kept here
as a running sum, updated from the rows each event touched.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from events import LedgerEvent
from ledger.gc_pause import paused_gc
from ledger.state import timeline
from ledger.terms import expired_on
from projections.books import TOTALS, Books, apply, touches


@dataclass(frozen=True)
class Step:
    """The running totals after one event of the timeline was applied."""

    event: LedgerEvent
    capital_gross: Decimal
    preferred_outstanding: int
    warrants_outstanding: int

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.event.originator_version,
            "effective_date": self.event.effective_date.isoformat(),
            "type": type(self.event).__name__,
            "capital_gross": str(self.capital_gross),
            "preferred_outstanding": self.preferred_outstanding,
            "warrants_outstanding": self.warrants_outstanding,
        }


class _Trail:
    """The books, and the warrant shares outstanding on the last step's date."""

    def __init__(self) -> None:
        self.books = Books()
        self.adjusted: dict[str, int] = {}  # warrant -> shares its terms rows added
        self.live: dict[str, int] = {}  # warrant not expired -> its outstanding, counted
        self.expired: set[str] = set()
        self.expiries: list[tuple[date, str]] = []
        self.warrants_outstanding = 0
        self.preferred = 0  # the series' outstanding, summed when a series row changes

    def _outstanding(self, ref: str) -> int:
        row = self.books.warrants[ref]
        return row.issued + row.transferred - row.exercised + self.adjusted.get(ref, 0)

    def expire_through(self, on: date) -> None:
        """Take out every warrant expired on `on` (the day after its expiry date)."""
        while self.expiries and expired_on(self.expiries[0][0], on):
            _, ref = heapq.heappop(self.expiries)
            self.warrants_outstanding -= self.live.pop(ref, 0)
            self.expired.add(ref)

    def step(self, event: LedgerEvent) -> Step:
        self.expire_through(event.effective_date)
        touched = list(touches(event))
        apply(self.books, event)
        books = self.books
        changed: list[str] = []
        for table, key in touched:
            if not isinstance(key, str):
                continue
            if table == "warrants":
                changed.append(key)
            elif table == "series":
                self.preferred = sum(row.outstanding for row in books.series.values())
            elif table == "terms":
                row = books.terms.get(key)
                if row is not None and row.instrument == "warrant" and row.adjusted:
                    self.adjusted[row.name] = self.adjusted.get(row.name, 0) + row.adjusted
                    changed.append(row.name)
        for ref in changed:
            if ref in self.expired or ref not in books.warrants:
                continue
            if ref not in self.live:
                expires = books.warrants[ref].expires
                if expires is not None:
                    heapq.heappush(self.expiries, (expires, ref))
            now = self._outstanding(ref)
            self.warrants_outstanding += now - self.live.get(ref, 0)
            self.live[ref] = now
        return Step(event, books.totals[TOTALS].capital_gross, self.preferred,
                    self.warrants_outstanding)


def replay_steps(
    events: Iterable[LedgerEvent],
    *,
    until: date | None = None,
    to_position: int | None = None,
) -> list[Step]:
    """One step per event of the timeline, with the running totals after it.

    `to_position` replays the ledger as recorded at that position (later events and later
    reversals not yet known); `until` stops at events effective on or before that date.
    Warrants count as outstanding until the day after their expiry, judged at each step's date.
    """
    known = [e for e in events if to_position is None or e.originator_version <= to_position]
    return list(iter_steps(timeline(known), until=until))


def iter_steps(ordered: Iterable[LedgerEvent], *, until: date | None = None) -> Iterator[Step]:
    """`replay_steps` over a timeline already in order (streamed, one step at a time). The
    books grow by a row or more per event, and hold no cycles: the collector is paused
    while they do (`paused_gc`), as for import and verify."""
    trail = _Trail()
    with paused_gc():
        for event in ordered:
            if until is not None and event.effective_date > until:
                break
            yield trail.step(event)
