"""The streaming import's fast paths give exactly what the slow, obvious ways give.

- The hash an event is sealed with (`ledger.chain.event_hash`, from the event) is the hash
  its stored form implies (`ledger.chain.stored_fields`, what verify reads), under either
  chain rule, for every event type, any text in names, and an encrypted ledger too.
- The file positions an import remembers (`_Positions`) answer as a dict would.
- An import written in many small batches inside its one transaction, with the read model
  caught up batch by batch, ends with the events and tables a one-batch import and a
  rebuild give; a refused last line leaves nothing of it, events or tables.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from datetime import date as date_
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import (
    EVENT_TYPES,
    Allocation,
    ClosingCompleted,
    LedgerEvent,
    WarrantsIssued,
)
from events.codec import data_field_names, event_data
from ledger import transfer
from ledger.chain import LEGACY_RULE, STORED_RULE, event_hash, fields_hash, stored_fields
from ledger.service import Ledger, new_key
from ledger.store import LEDGER_ID
from ledger.transfer import Importer, _Positions, export_lines, parse_line
from projections import readmodel
from tests.conftest import invoke
from tests.laws.test_properties import run_pure, sequences
from tests.ledger.test_transfer import SPECTRUM, TERMS, record_all

KEY = new_key()  # one key for every example (the ledger file outlives an example)


def _payload(event: LedgerEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in data_field_names(type(event))}


def _assert_sealed_like_the_slow_path(book: Ledger, event: LedgerEvent, prev: str) -> None:
    """Sealed from the event, the hash is the one its stored form implies (either rule)."""
    app = book.open(create=True)
    for rule in (STORED_RULE, LEGACY_RULE):
        sealed = type(event)(**{**vars(event), "prev_hash": prev, "hash": ""})
        sealed = type(event)(**{**vars(sealed), "hash": event_hash(sealed, prev, rule)})
        stored = app.mapper.to_stored_event(sealed)
        fields = stored_fields(stored.topic, app.mapper.decode_state(stored))
        assert fields["hash"] == sealed.hash and fields["prev_hash"] == prev
        assert fields["data"] == event_data(sealed)
        assert fields_hash(fields, event.originator_version, prev, rule) == sealed.hash
        assert app.mapper.to_domain_event(stored) == sealed


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_sealed_hash_is_the_hash_of_what_is_stored(data: st.DataObject, tmp_path: Path) -> None:
    _, events, _ = run_pure(data, data.draw(sequences))
    with Ledger(str(tmp_path / f"seal-{id(data)}.db"), actor="t", create=True) as book:
        prev = "0" * 64
        for event in events:
            _assert_sealed_like_the_slow_path(book, event, prev)
            prev = event_hash(event, prev)


def test_every_event_type_is_sealed_with_the_hash_of_what_is_stored(tmp_path: Path) -> None:
    db = str(tmp_path / "spectrum.db")
    record_all(db, SPECTRUM + TERMS)
    with Ledger(db) as book:
        events = book.events()
        assert {type(e) for e in events} == set(EVENT_TYPES)
        prev = "0" * 64
        for event in events:
            _assert_sealed_like_the_slow_path(book, event, prev)
            prev = event.hash


names = st.text(st.characters(codec="utf-8"), min_size=0, max_size=12)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(holder=names, label=names, actor=names, investors=st.lists(names, max_size=3),
       encrypted=st.booleans())
def test_any_text_is_sealed_with_the_hash_of_what_is_stored(
    tmp_path: Path, holder: str, label: str, actor: str, *, investors: list[str],
    encrypted: bool,
) -> None:
    """Quotes, backslashes, control characters, non-ASCII: what JSON escapes or keeps."""
    from decimal import Decimal

    on = datetime(2003, 5, 8, 9, 30, 1, 123456, tzinfo=UTC)
    base = {"originator_id": LEDGER_ID, "originator_version": 7,
            "effective_date": on.date(), "recorded_at": on, "actor": actor,
            "prev_hash": "a" * 64, "hash": ""}
    warrant = WarrantsIssued(**base, ref=holder + "-W", holder=holder, shares=3,
                             exercise_price=Decimal("3.50"), expires=None, label=label,
                             closing=None)
    closing = ClosingCompleted(
        **base, ref=label, security=holder, price_per_share=Decimal("1E+1"),
        allocations=tuple(Allocation(investor=n, shares=i + 1, gross=Decimal("10.00"))
                          for i, n in enumerate(investors)),
        shares=len(investors), gross=Decimal("0.00"), fees=Decimal("-0"), net=Decimal("0"))
    key = KEY if encrypted else None
    with Ledger(str(tmp_path / f"text-{encrypted}.db"), actor="t", key=key,
                create=True) as book:
        for event in (warrant, closing):
            _assert_sealed_like_the_slow_path(book, event, "a" * 64)


@given(st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=40))
def test_file_positions_answer_as_a_dict(positions: list[int]) -> None:
    remembered = _Positions()
    expected: dict[int, int] = {}
    for ledger_position, position in enumerate(positions, start=1):
        assert (position in remembered) == (position in expected)
        if position in expected:
            continue
        remembered.add(position, ledger_position)
        expected[position] = ledger_position
        for probe in {*positions, position + 1, position - 1}:
            assert remembered.get(probe) == expected.get(probe)


def test_an_ascending_file_keeps_its_positions_in_arrays() -> None:
    remembered = _Positions()
    for position in range(1, 1001):
        remembered.add(position * 2, position)
    assert remembered.other is None
    assert remembered.get(2000) == 1000
    assert remembered.get(1999) is None


def test_a_streaming_importer_keeps_no_event(tmp_path: Path) -> None:
    db = str(tmp_path / "spectrum.db")
    record_all(db, SPECTRUM[:13])
    with Ledger(db) as book:
        events = book.events()
    importer = Importer([], ledger_id=UUID(int=0), actor="t", keep=False)
    importer.read_new = list  # nothing to read back whole: no line here needs it
    importer.read_range = lambda after, upto: events[after:upto]  # (a back-dated line does)
    for index, line in enumerate(export_lines(events), start=1):
        importer.add(parse_line(index, index, line))
    assert importer.new == [] and importer.count == len(events)
    assert importer.head[0] == len(events)


def _tables(path: str) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(path)
    try:
        names = [row[0] for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rm_%'")]
        return {name: sorted(con.execute(f"SELECT * FROM [{name}]")) for name in names}
    finally:
        con.close()


def _stored(path: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path)
    try:
        return list(con.execute(
            "SELECT originator_version, topic FROM stored_events ORDER BY originator_version"))
    finally:
        con.close()


def test_small_batches_give_what_one_batch_and_a_rebuild_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = str(tmp_path / "source.db")
    record_all(source, SPECTRUM)
    export = tmp_path / "spectrum.jsonl"
    assert invoke("--db", source, "export", "-o", str(export)).code == 0
    one = str(tmp_path / "one.db")
    assert invoke("--db", one, "import", str(export)).code == 0
    monkeypatch.setattr(transfer, "BATCH", 2)
    many = str(tmp_path / "many.db")
    r = invoke("--db", many, "import", str(export))
    assert r.code == 0, r.err
    assert r.out.strip() == "Imported 18 events at positions 1 to 18"
    assert _stored(many) == _stored(one)
    with Ledger(many) as book:
        assert readmodel.ReadModel(readmodel.Reader(
            sqlite3.connect(many))).position() == 18
        imported = _tables(many)
        readmodel.rebuild(book)
    assert imported == _tables(many) == _tables(one)
    verify = invoke("--db", many, "audit", "verify", "--json")
    assert verify.code == 0 and json.loads(verify.out)["ok"] is True


def test_a_refused_last_line_leaves_no_batch_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = str(tmp_path / "source.db")
    record_all(source, SPECTRUM[:12])
    export = tmp_path / "spectrum.jsonl"
    assert invoke("--db", source, "export", "-o", str(export)).code == 0
    text = export.read_text()
    bad = json.loads(text.splitlines()[8])  # the conversion: state another outcome
    bad["data"]["common_shares"] += 1
    export.write_text(text + json.dumps(bad) + "\n")
    monkeypatch.setattr(transfer, "BATCH", 2)
    target = str(tmp_path / "target.db")
    assert invoke("--db", target, "init").code == 0
    assert invoke("--db", target, "report", "summary").code == 0  # the tables exist
    before = _tables(target)
    r = invoke("--db", target, "import", str(export))
    assert r.code != 0
    assert "line 13:" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert _stored(target) == []
    assert _tables(target) == before


def test_a_value_built_in_another_field_order_is_stored_in_that_order(tmp_path: Path) -> None:
    """The store writes a value's fields in its __dict__ order, the hash sorts them: the
    hash sealed is the stored one, whatever order the value was built in."""
    from decimal import Decimal

    odd: Any = object.__new__(Allocation)
    odd.__dict__.update(gross=Decimal("20.00"), shares=2, investor="Z")
    at = datetime(2003, 5, 8, tzinfo=UTC)
    closing = ClosingCompleted(
        originator_id=LEDGER_ID, originator_version=1, effective_date=at.date(),
        recorded_at=at, actor="t", prev_hash="0" * 64, hash="", ref="C", security="common",
        price_per_share=Decimal(10), allocations=(odd,), shares=2, gross=Decimal("20.00"),
        fees=Decimal("0.00"), net=Decimal("20.00"))
    with Ledger(str(tmp_path / "odd.db"), actor="t", create=True) as book:
        _assert_sealed_like_the_slow_path(book, closing, "0" * 64)


def test_the_file_is_read_as_the_events_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines are consumed one by one and batches written as they fill: the import never
    needs the whole file (nor all its events) at once."""
    from ledger.store import SQLiteBulkInsert

    source = str(tmp_path / "source.db")
    record_all(source, SPECTRUM[:13])
    with Ledger(source) as book:
        text = list(export_lines(book.events()))
    consumed = 0
    seen_at_insert: list[int] = []

    def lines() -> Any:
        nonlocal consumed
        for line in text:
            consumed += 1
            yield line

    insert = SQLiteBulkInsert.insert

    def recording_insert(self: SQLiteBulkInsert, stored: Any, events: Any = ()) -> None:
        seen_at_insert.append(consumed)
        insert(self, stored, events)

    monkeypatch.setattr(SQLiteBulkInsert, "insert", recording_insert)
    monkeypatch.setattr(transfer, "BATCH", 3)
    with Ledger(str(tmp_path / "target.db"), actor="t", create=True) as book:
        imported = transfer.import_lines(book, lines(), sink=readmodel.import_sink(book))
        assert (imported.count, imported.first, imported.last) == (13, 1, 13)
        assert book.head()[0] == 13
    assert seen_at_insert == [3, 6, 9, 12, 13]


def test_batches_on_either_backend_append_all_or_nothing(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many batches in one transaction, a back-dated line and a reversal (both read the new
    events back from that transaction), then a refused line: nothing; without it: all."""
    source = str(tmp_path / "source.db")
    record_all(source, SPECTRUM)
    export = tmp_path / "spectrum.jsonl"
    assert invoke("--db", source, "export", "-o", str(export)).code == 0
    text = export.read_text()
    bad = json.loads(text.splitlines()[8])
    bad["data"]["common_shares"] += 1
    refused = tmp_path / "refused.jsonl"
    refused.write_text(text + json.dumps({**bad, "position": 99}) + "\n")
    monkeypatch.setattr(transfer, "BATCH", 2)
    r = invoke("--db", db, "import", str(refused))
    assert r.code != 0 and "line 19:" in r.err, r.err
    assert invoke("--db", db, "log", "--json").out.strip() in ("[]", "")
    r = invoke("--db", db, "import", str(export))
    assert r.code == 0, r.err
    assert r.out.strip() == "Imported 18 events at positions 1 to 18"
    verify = invoke("--db", db, "audit", "verify", "--json")
    assert verify.code == 0 and json.loads(verify.out)["events"] == 18
    for args in (["report", "summary", "--json"], ["report", "preferred", "--json"]):
        assert invoke("--db", db, *args).out == invoke("--db", source, *args).out


def test_dates_and_prices_are_shared_by_their_exact_text() -> None:
    """Equal texts give one object; texts of equal value but another form stay apart (the
    exponent of a decimal is part of what was recorded)."""
    def entry(price: str, on: str) -> Any:
        return parse_line(1, 1, json.dumps({"type": "WarrantsIssued", "effective_date": on,
                                            "data": {"holder": "H", "shares": 1,
                                                     "exercise_price": price}}))

    one, two, other = entry("3.00", "2003-05-08"), entry("3.00", "2003-05-08"), entry(
        "3.0", "2003-05-09")
    assert one.effective_date is two.effective_date
    assert other.effective_date == date_(2003, 5, 9)
    price = transfer._Fields(one).value("exercise_price")
    assert price is transfer._Fields(two).value("exercise_price")
    different = transfer._Fields(other).value("exercise_price")
    assert different == price and str(different) == "3.0" and str(price) == "3.00"
