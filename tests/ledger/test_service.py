"""The application service's own promises: envelope, chain, durability settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.chain import GENESIS_HASH, event_hash
from ledger.commands import DesignateSeries, IssueWarrants
from ledger.errors import InvariantViolation
from ledger.service import Ledger


def _series() -> DesignateSeries:
    return DesignateSeries(
        effective_date=date(2003, 5, 8), series="Series D", stated_value=Decimal("10000"),
        conversion_price=Decimal("2.35"), dividend_rate=Decimal("8"), authorized=444,
    )


def test_every_event_carries_envelope_and_chains_to_the_previous(tmp_path: Path) -> None:
    book = Ledger(str(tmp_path / "l.db"), actor="transfer agent")
    book.record(_series())
    book.record(IssueWarrants(effective_date=date(2003, 5, 8), holder="SCO", shares=10,
                              exercise_price=Decimal("3.00")))
    first, second = book.events()
    assert (first.position, second.position) == (1, 2)
    assert first.actor == second.actor == "transfer agent"
    assert first.recorded_at.tzinfo is not None
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash == event_hash(first, GENESIS_HASH)
    assert second.hash == event_hash(second, first.hash)
    assert book.head() == (2, second.hash)


def test_store_is_wal_and_fully_synchronous(tmp_path: Path) -> None:
    book = Ledger(str(tmp_path / "l.db"), create=True)
    app = book.open()
    with app.recorder.datastore.transaction(commit=False) as c:
        c.execute("PRAGMA journal_mode")
        assert c.fetchone()[0].lower() == "wal"
        c.execute("PRAGMA synchronous")
        assert c.fetchone()[0] == 2  # FULL: every commit is on disk before it returns
    assert (tmp_path / "l.db").stat().st_mode & 0o777 == 0o600


def test_a_refused_command_appends_nothing(tmp_path: Path) -> None:
    book = Ledger(str(tmp_path / "l.db"))
    book.record(_series())
    with pytest.raises(InvariantViolation, match="closing 'NOPE' is not recorded"):
        book.record(IssueWarrants(effective_date=date(2003, 5, 8), holder="SCO", shares=10,
                                  exercise_price=Decimal("3.00"), closing="NOPE"))
    assert len(book.events()) == 1
    assert book.head()[0] == 1


def test_reversal_refused_while_a_later_dividend_was_computed_with_it(tmp_path: Path) -> None:
    from ledger.commands import DeclareDividend, RecordClosing

    book = Ledger(str(tmp_path / "l.db"))
    book.record(_series())
    book.record(RecordClosing(effective_date=date(2003, 5, 8), security="Series D",
                              investors=(("SCO", 100),)))
    book.record(RecordClosing(effective_date=date(2003, 5, 14), security="Series D",
                              investors=(("SDS", 50),)))
    book.record(DeclareDividend(effective_date=date(2003, 6, 30), series="Series D",
                                through=date(2003, 6, 30), form="cash"))
    # The dividend paid SDS for its lot from the closing at position 3.
    with pytest.raises(InvariantViolation, match="DividendDeclared at position 4"):
        book.reverse(3, "wrong investor")
    assert len(book.events()) == 4
    # Reversing the dividend first, then the closing, is allowed.
    book.reverse(4, "declared on the wrong holders")
    book.reverse(3, "wrong investor")
    assert len(book.events()) == 6


def test_fees_in_fractions_of_a_cent_are_refused(tmp_path: Path) -> None:
    from ledger.commands import RecordClosing
    from ledger.errors import InvalidInput

    book = Ledger(str(tmp_path / "l.db"))
    book.record(_series())
    with pytest.raises(InvalidInput, match="fractions of a cent"):
        book.record(RecordClosing(effective_date=date(2003, 5, 8), security="Series D",
                                  investors=(("SCO", 1),), fees=Decimal("10.005")))
    event = book.record(RecordClosing(effective_date=date(2003, 5, 8), security="Series D",
                                      investors=(("SCO", 1),), fees=Decimal("10.5")))
    assert event.fees == Decimal("10.50")  # type: ignore[attr-defined]
