"""The hash chain covers what is stored, read before any upcaster (`ledger.chain`).

- A row written at class version 1 and read through a class version 2 with its upcaster
  still verifies, on a new ledger (format 2) and on a ledger written before format 2
  (tests/fixtures, made by the previous finledger), plain or encrypted.
- A ledger written before format 2 opens, verifies and reports exactly as that finledger
  printed it, and keeps its chain rule for what is recorded on it afterwards.
- An edited stored byte fails verify naming its position; on format 2 so does an edited
  class version, which the format-1 rule does not cover.
- What the chain relies on of eventsourcing's mapper, pinned: the store's mapper reads a row
  in two steps (its state before any upcaster, then the event) as eventsourcing reads it in
  one, and writes an event (through orjson) as eventsourcing writes it.
"""

from __future__ import annotations

import functools
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import JSONTranscoder, Mapper
from eventsourcing.utils import clear_topic_cache, get_topic, register_topic
from hypothesis import given, settings
from hypothesis import strategies as st

from events import EVENT_TYPES, CommonOutstandingReported, LedgerEvent, with_source
from ledger.chain import (
    LEGACY_RULE,
    STORED_RULE,
    canonical,
    entry_hash,
    entry_verifies,
    event_hash,
    fields_hash,
    stored_fields,
)
from ledger.ledgers import head_rows
from ledger.service import Ledger
from ledger.store import LEDGER_ID
from tests.conftest import invoke
from tests.ledger.test_ledgers import kept
from tests.paths import FIXTURES

SHOWN = json.loads((FIXTURES / "format1.json").read_text())
KEY = SHOWN["key"]
TOPIC = get_topic(CommonOutstandingReported)


@dataclass(frozen=True, kw_only=True)
class CommonOutstandingReportedV2(CommonOutstandingReported):
    """A later CommonOutstandingReported: it names the document the count came from. Rows
    written before (class version 1) get "not stated" from the upcaster."""

    class_version = 2
    document: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["document"] = "not stated"


# In that finledger the class keeps its name and place (its topic), as a class version does.
CommonOutstandingReportedV2.__name__ = CommonOutstandingReported.__name__
CommonOutstandingReportedV2.__qualname__ = CommonOutstandingReported.__qualname__
CommonOutstandingReportedV2.__module__ = CommonOutstandingReported.__module__


@pytest.fixture
def upcast() -> Iterator[None]:
    """CommonOutstandingReported's stored topic now resolves to its class version 2, as in a
    later finledger where the class changed (restored after the test)."""
    clear_topic_cache()
    register_topic(TOPIC, CommonOutstandingReportedV2)
    yield
    clear_topic_cache()


def _verify(db: str, key: str | None = None) -> tuple[int, dict[str, Any]]:
    r = invoke("--db", db, "audit", "verify", "--json", env={"FINLEDGER_KEY": key} if key else None)
    return r.code, json.loads(r.out)


def _copy(name: str, tmp_path: Path) -> str:
    target = tmp_path / name
    shutil.copyfile(FIXTURES / name, target)
    return str(target)


def _record(db: str, key: str | None = None) -> None:
    env = {"FINLEDGER_KEY": key} if key else None
    for args in (
        ["record", "series", "Series A", "--date", "2003-05-08", "--stated-value", "1000",
         "--conversion-price", "2", "--dividend-rate", "8", "--authorized", "1000"],
        ["record", "common-outstanding", "3000000", "--date", "2003-05-09"],
        ["record", "closing", "Series A", "--date", "2003-05-10", "--investor", "Ann=100"],
        ["record", "common-outstanding", "3100000", "--date", "2003-06-01"],
    ):
        r = invoke("--db", db, "--actor", "cfo", *args, env=env)
        assert r.code == 0, r.err


def _append_v2(db: str, key: str | None = None) -> None:
    """Append a CommonOutstandingReportedV2 (stored at class version 2) through the store."""
    with Ledger(db, key=key) as book:
        app = book.open()
        last = book.events()[-1]
        draft = CommonOutstandingReportedV2(
            originator_id=LEDGER_ID, originator_version=last.originator_version + 1,
            effective_date=date(2003, 7, 1), recorded_at=datetime(2003, 7, 1, tzinfo=UTC),
            actor="cfo", prev_hash=last.hash, hash="", shares=3200000, document="minutes")
        event = CommonOutstandingReportedV2(
            **{**vars(draft), "hash": event_hash(draft, last.hash, book.rule)})
        app.save(event, meta=head_rows(book.name, (event.originator_version, event.hash)))


def _edit_row(db: str, position: int, old: bytes, new: bytes) -> None:
    con = sqlite3.connect(db)
    with con:
        (state,) = con.execute("SELECT state FROM stored_events WHERE originator_version = ?",
                               (position,)).fetchone()
        assert old in state
        con.execute("UPDATE stored_events SET state = ? WHERE originator_version = ?",
                    (bytes(state).replace(old, new, 1), position))
    con.close()


# --- an upcast row verifies ------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "encrypted"])
def test_a_row_read_through_an_upcaster_verifies(tmp_path: Path, key: str | None) -> None:
    db = str(tmp_path / "l.db")
    _record(db, key)  # two CommonOutstandingReported rows at class version 1
    assert _verify(db, key)[0] == 0
    clear_topic_cache()
    register_topic(TOPIC, CommonOutstandingReportedV2)
    try:
        with Ledger(db, key=key) as book:
            read = book.events()
            assert book.meta()["format_version"] == "2"
        upcast = [e for e in read if isinstance(e, CommonOutstandingReportedV2)]
        assert [e.document for e in upcast] == ["not stated", "not stated"]  # the upcaster ran
        code, report = _verify(db, key)
        assert code == 0, report
        assert report["ok"] and report["events"] == 4
        # what the current code decodes differs from what was stored, and was not hashed
        assert upcast[0].hash != event_hash(upcast[0], upcast[0].prev_hash)
        # a row stored at class version 2 verifies beside the old ones
        _append_v2(db, key)
        code, report = _verify(db, key)
        assert code == 0 and report["events"] == 5, report
    finally:
        clear_topic_cache()


@pytest.mark.parametrize(("name", "key"), [("format1.db", None), ("format1-encrypted.db", KEY)])
def test_a_format1_ledger_verifies_through_an_upcaster(
    tmp_path: Path, name: str, key: str | None, upcast: None
) -> None:
    db = _copy(name, tmp_path)
    with Ledger(db, key=key) as book:
        assert any(isinstance(e, CommonOutstandingReportedV2) for e in book.events())
    code, report = _verify(db, key)
    assert code == 0, report
    assert report == json.loads(SHOWN["shown"][name]["audit verify --json"])


# --- a ledger written before format 2 ------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), [("format1.db", None), ("format1-encrypted.db", KEY)])
def test_a_format1_ledger_opens_verifies_and_reports_as_before(
    tmp_path: Path, name: str, key: str | None
) -> None:
    db = _copy(name, tmp_path)
    env = {"FINLEDGER_KEY": key} if key else None
    for command, printed in SHOWN["shown"][name].items():
        r = invoke("--db", db, *command.split(), env=env)
        assert r.code == 0, (command, r.err)
        if "--json" in command.split():  # later releases may add keys, never change one
            assert kept(json.loads(printed), json.loads(r.out)), command
        else:
            assert r.out == printed, command
    # What is recorded on it afterwards keeps its rule: one chain, one rule, end to end.
    r = invoke("--db", db, "record", "common-outstanding", "3200000", "--date", "2005-02-01",
               env=env)
    assert r.code == 0, r.err
    with Ledger(db, key=key) as book:
        assert book.meta()["format_version"] == "1" and book.rule == LEGACY_RULE
        last = book.events()[-1]
        assert last.hash == event_hash(last, last.prev_hash, LEGACY_RULE)
    code, report = _verify(db, key)
    assert code == 0 and report["events"] == 13, report


def test_a_format1_export_proves_itself_to_an_import(tmp_path: Path) -> None:
    db = _copy("format1.db", tmp_path)
    export = tmp_path / "old.jsonl"
    export.write_text(SHOWN["shown"]["format1.db"]["export"])
    entries = [json.loads(line) for line in export.read_text().splitlines()]
    assert all(entry_verifies(e) and entry_hash(e, LEGACY_RULE) == e["hash"] for e in entries)
    assert not any(entry_hash(e, STORED_RULE) == e["hash"] for e in entries)
    head = entries[-1]["hash"]
    target = str(tmp_path / "new.db")
    r = invoke("--db", target, "import", str(export), "--verify-source-head", head)
    assert r.code == 0, r.err
    assert _verify(target)[0] == 0
    assert _verify(db)[0] == 0


# --- what is edited is named ---------------------------------------------------------------


def test_an_edited_stored_byte_fails_verify_at_its_position(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    _record(db)
    _edit_row(db, 2, b'"shares":3000000', b'"shares":3000001')
    code, report = _verify(db)
    assert code == 1
    assert report["problems"] == [{"position": 2, "problem": "its content does not match its "
                                                            "hash: edited (or inserted)"}]


def test_an_edited_class_version_fails_verify_on_format2(tmp_path: Path, upcast: None) -> None:
    db = str(tmp_path / "l.db")
    _record(db)
    _append_v2(db)
    assert _verify(db)[0] == 0
    # Claimed to be a version-1 row, it would be upcast and lose its document: the stored
    # class version is covered by the hash.
    _edit_row(db, 5, b'"class_version":2', b'"class_version":1')
    code, report = _verify(db)
    assert code == 1
    assert [p["position"] for p in report["problems"]] == [5], report


def test_an_edited_encrypted_row_fails_verify_at_its_position(tmp_path: Path) -> None:
    db = _copy("format1-encrypted.db", tmp_path)
    con = sqlite3.connect(db)
    with con:
        (state,) = con.execute(
            "SELECT state FROM stored_events WHERE originator_version = 3").fetchone()
        spoiled = bytes(state[:-1]) + bytes([state[-1] ^ 1])
        con.execute("UPDATE stored_events SET state = ? WHERE originator_version = 3", (spoiled,))
    con.close()
    code, report = _verify(db, KEY)
    assert code == 1 and [p["position"] for p in report["problems"]] == [3], report


# --- what the chain relies on of eventsourcing -----------------------------------------------


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "encrypted"])
def test_the_mapper_reads_in_two_steps_what_eventsourcing_reads_in_one(
    tmp_path: Path, key: str | None, upcast: None
) -> None:
    """`LedgerMapper.decode_state` is the row's stored state as eventsourcing's transcoder
    decodes it (its fields but id and position, class_version when above 1), and
    `event_from` makes of it the event `Mapper.to_domain_event` makes (upcast included):
    what `ledger.chain.stored_fields` and verify rely on, for every event type."""
    db = _copy("format1.db", tmp_path)
    with Ledger(db) as book:
        events = book.events()
        rows = book.open().recorder.select_events(LEDGER_ID)
    # every event type the code that wrote the fixture had (later types are stored alike)
    assert {type(e).__name__ for e in events} == {cls.__name__ for cls in EVENT_TYPES} - {
        "StockSplit", "TermsAdjusted", "SharesTransferred", "WarrantsTransferred",
        "SharesRedeemed"}
    later = CommonOutstandingReportedV2(
        originator_id=LEDGER_ID, originator_version=len(events) + 1,
        effective_date=date(2003, 5, 8), recorded_at=datetime(2003, 5, 8, tzinfo=UTC),
        actor="t", prev_hash=events[-1].hash, hash="", shares=5, document="minutes")
    later = CommonOutstandingReportedV2(**{**vars(later),
                                           "hash": event_hash(later, later.prev_hash)})
    with Ledger(str(tmp_path / "pin.db"), key=key, create=True) as book:
        mapper = book.open().mapper
        for event in [*events, later]:
            stored = mapper.to_stored_event(event)
            theirs_stored = Mapper.to_stored_event(mapper, event)
            assert stored.topic == theirs_stored.topic == get_topic(type(event))
            assert (stored.originator_id, stored.originator_version) == (
                theirs_stored.originator_id, theirs_stored.originator_version)
            assert mapper.decode_state(stored) == mapper.decode_state(theirs_stored)
            expected = dict(vars(event))
            del expected["originator_id"], expected["originator_version"]
            version = getattr(type(event), "class_version", 1)
            if version > 1:
                expected["class_version"] = version
            state = mapper.decode_state(stored)
            assert state == {k: list(v) if isinstance(v, tuple) else v
                             for k, v in expected.items()}
            fields = stored_fields(stored.topic, state)
            assert fields["class_version"] == version
            for rule in (LEGACY_RULE, STORED_RULE):
                assert fields_hash(fields, event.originator_version, event.prev_hash, rule) \
                    == event_hash(event, event.prev_hash, rule)
            ours = mapper.event_from(stored, state)
            theirs = Mapper.to_domain_event(mapper, stored)
            assert type(ours) is type(theirs) and ours == event
            assert {k: list(v) if isinstance(v, tuple) else v for k, v in vars(ours).items()} \
                == vars(theirs)
    # a version-1 row of the upcast class (the fixture's own): the same upcaster both ways
    with Ledger(db) as book:
        mapper = book.open().mapper
        old = next(row for row in rows if row.topic == TOPIC)
        ours = mapper.to_domain_event(old)
        assert isinstance(ours, CommonOutstandingReportedV2) and ours.document == "not stated"
        assert vars(ours) == vars(Mapper.to_domain_event(mapper, old))
        assert "class_version" not in mapper.decode_state(old)


# --- orjson writes the json module's bytes ---------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(st.characters(codec="utf-8")),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(st.characters(codec="utf-8"), max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(body=st.dictionaries(st.text(st.characters(codec="utf-8"), max_size=6), _json_values,
                            max_size=6))
def test_the_canonical_bytes_are_the_json_modules(body: dict[str, Any]) -> None:
    assert canonical(body) == json.dumps(body, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode()


@functools.cache
def _fixture_events() -> tuple[Any, list[LedgerEvent]]:
    """The plain fixture's mapper and events (read from a copy, kept for the module)."""
    work = Path(tempfile.mkdtemp())
    with Ledger(_copy("format1.db", work)) as book:
        return book.open().mapper, book.events()


@settings(max_examples=150, deadline=None)
@given(text=st.text(st.characters(codec="utf-8"), max_size=20), shares=st.integers(0, 2**80))
def test_the_transcoder_writes_the_json_modules_bytes(text: str, shares: int) -> None:
    """Every event type (the fixture's), and any text and integer in one: what the store
    writes through orjson is what eventsourcing's JSON transcoder writes."""
    mapper, events = _fixture_events()
    base = {k: v for k, v in vars(events[8]).items() if k != "source"}
    odd = with_source(CommonOutstandingReported(**{**base, "actor": text, "shares": shares}),
                      events[8].source)
    for event in [*events, odd]:
        state = dict(vars(event))
        del state["originator_id"], state["originator_version"]
        assert mapper.transcoder.encode_event(state) == \
            JSONTranscoder.encode(mapper.transcoder, state)
        assert mapper.to_stored_event(event) == Mapper.to_stored_event(mapper, event)
