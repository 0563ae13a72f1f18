"""The path for changing an event's fields: a class version and an upcaster, through the
store's own mapper, so a ledger written before the change still reads (and still verifies:
`audit verify` of upcast rows is in tests/ledger/test_chain_format.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import clear_topic_cache, get_topic, register_topic

from events import LedgerEvent
from ledger.chain import GENESIS_HASH
from ledger.service import Ledger
from ledger.store import LEDGER_ID


@dataclass(frozen=True, kw_only=True)
class Noted(LedgerEvent):
    """Version 1 of an event as an older finledger wrote it."""

    text: str


@dataclass(frozen=True, kw_only=True)
class NotedV2(LedgerEvent):
    """Version 2 adds a field; old rows get it from the upcaster."""

    class_version = 2
    text: str
    language: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["language"] = "en"


@pytest.fixture
def topics() -> Iterator[None]:
    yield
    clear_topic_cache()


def test_a_renamed_and_extended_event_reads_its_old_rows(tmp_path: Path, topics: None) -> None:
    book = Ledger(str(tmp_path / "l.db"), create=True)
    app = book.open()
    old = Noted(originator_id=LEDGER_ID, originator_version=1, effective_date=date(2003, 5, 8),
                recorded_at=datetime(2003, 5, 8, tzinfo=UTC), actor="old", prev_hash=GENESIS_HASH,
                hash="", text="first closing")
    stored = app.mapper.to_stored_event(old)
    assert stored.topic == get_topic(Noted)
    assert b"language" not in stored.state

    # The class was renamed (a topic alias keeps the old rows' topic resolving) and gained a
    # field (class version 2 with an upcaster fills it in for version-1 rows).
    old_topic = stored.topic
    clear_topic_cache()  # as in a new process, where the old class no longer exists
    register_topic(old_topic, NotedV2)
    read = app.mapper.to_domain_event(stored)
    assert isinstance(read, NotedV2)
    assert (read.text, read.language) == ("first closing", "en")
    assert (read.position, read.actor, read.effective_date) == (1, "old", date(2003, 5, 8))
    # New rows carry their class version, so they are not upcast again.
    new = app.mapper.to_stored_event(read)
    assert b'"class_version":2' in new.state
    again = app.mapper.to_domain_event(new)
    assert isinstance(again, NotedV2) and again.language == "en"
