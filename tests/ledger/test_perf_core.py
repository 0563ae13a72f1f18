"""The ledger core's fast paths give exactly what the slow, obvious ways give.

- The open-lot index (lots dropped once converted, lots per holder) answers `holder_lots`
  and `holdings` as a scan of every lot ever issued would, and a conversion naming a lot
  already emptied is still refused.
- An import carries one state along and folds an order-free line (a back-dated
  common-outstanding report) in at the end: the state it ends with is the full fold.
- The store's transcoder writes the very bytes eventsourcing's own would, and reads them back
  to the same events.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import (
    EVENT_TYPES,
    VALUE_TYPES,
    Allocation,
    ClosingCompleted,
    ConversionRequested,
    LedgerEvent,
    LotConversion,
    SeriesDesignated,
)
from events.codec import event_data
from ledger.commands import clean_text
from ledger.errors import InvalidInput, InvariantViolation
from ledger.state import LedgerState, fold, timeline
from ledger.store import LedgerApplication, LedgerTranscoder
from ledger.transfer import Importer, _Trail, export_lines, parse_line
from tests.laws.test_properties import run_pure, sequences

D = Decimal


def _every_lot(events: list[LedgerEvent]) -> dict[str, dict[str, list[tuple[str, int]]]]:
    """Series -> holder -> [(lot, shares left)] for lots with shares left, oldest first,
    by scanning every lot ever issued (the obvious way)."""
    lots: dict[str, dict[str, list[Any]]] = {}
    for event in timeline(events):
        if isinstance(event, ClosingCompleted) and event.security in lots:
            for a in event.allocations:
                lots[event.security].setdefault(a.investor, []).append(
                    [f"{event.ref}/{a.investor}", a.shares])
        elif isinstance(event, SeriesDesignated):
            lots[event.series] = {}
        elif isinstance(event, ConversionRequested):
            for part in event.lots:
                for lot in lots[event.series][event.holder]:
                    if lot[0] == part.lot:
                        lot[1] -= part.shares
    return {s: {h: [(i, n) for i, n in held if n > 0] for h, held in by.items()}
            for s, by in lots.items()}


def _check_index(state: LedgerState, events: list[LedgerEvent]) -> None:
    expected = _every_lot(events)
    for name, series in state.series.items():
        for holder, lots in expected[name].items():
            assert [(lot.id, lot.shares) for lot in series.holder_lots(holder)] == lots
        assert series.holdings() == {h: sum(n for _, n in lots)
                                     for h, lots in expected[name].items() if lots}
        assert all(lot.shares > 0 for lot in series.lots.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), spacing=st.sampled_from([1, 2, 3, 1024]), most=st.sampled_from([1, 2, 32]),
       tail=st.sampled_from([1, 3, 20_000]))
def test_import_state_and_lot_index_equal_the_full_fold(
    data: st.DataObject, spacing: int, most: int, tail: int
) -> None:
    """Checkpoints every `spacing` events, at most `most` of them, the latest `tail` events
    kept decoded: whatever they are, the import decides what the pure decide + fold decided
    and ends on the full fold's state."""
    _, events, _ = run_pure(data, data.draw(sequences))
    _check_index(fold(events), events)
    saved = _Trail.SPACING, _Trail.MAX_CHECKPOINTS, _Trail.TAIL
    _Trail.SPACING, _Trail.MAX_CHECKPOINTS, _Trail.TAIL = spacing, most, tail
    try:
        importer = Importer([], ledger_id=UUID(int=0), actor="prop")
        for index, line in enumerate(export_lines(events), start=1):
            importer.add(parse_line(index, index, line))
            assert importer.state == fold(importer.events)
            trail = importer.trail
            if trail is not None:
                ordered = list(trail.events(0))
                assert ordered == timeline(importer.events)
                assert len(trail.kept) <= 2 * tail
                assert len(trail.checkpoints) <= most
                for count, state in trail.checkpoints:
                    assert state == LedgerState().apply_all(ordered[:count])
    finally:
        _Trail.SPACING, _Trail.MAX_CHECKPOINTS, _Trail.TAIL = saved
    assert [event_data(e) for e in importer.events] == [event_data(e) for e in events]
    _check_index(importer.state, importer.events)


def test_a_copied_state_is_independent() -> None:
    events = _sample_events()
    state = LedgerState().apply_all(events[:2])
    copy = state.copy()
    assert copy == state
    copy.apply(_event(ClosingCompleted, 3, date(2003, 2, 2), security="A", ref="C2",
                      allocations=(Allocation(investor="H", shares=5, gross=D("50.00")),),
                      shares=5, price_per_share=D("10"), gross=D("50.00"), fees=D("0.00"),
                      net=D("50.00")))
    copy.series["A"].lots["C/Hé"].shares -= 1
    assert copy != state
    assert state == LedgerState().apply_all(events[:2])
    # every dataclass the fold keeps is either copied or frozen (never shared mutable)
    from ledger.state import _MUTABLE

    def frozen_or_copied(value: Any) -> bool:
        if isinstance(value, dict):
            return all(frozen_or_copied(v) for v in value.values())
        if isinstance(value, list):
            return all(frozen_or_copied(v) for v in value)
        params = getattr(type(value), "__dataclass_params__", None)
        if params is None or params.frozen:
            return True
        return type(value) in _MUTABLE and all(
            frozen_or_copied(getattr(value, name)) for name in _MUTABLE[type(value)])

    assert frozen_or_copied(copy)


def _event(cls: type[LedgerEvent], position: int, on: date, **fields: Any) -> LedgerEvent:
    return cls(originator_id=UUID(int=0), originator_version=position, effective_date=on,
               recorded_at=datetime(2020, 1, 1, tzinfo=UTC), actor="t", prev_hash="",
               hash="", **fields)


def _designation() -> LedgerEvent:
    return _event(SeriesDesignated, 1, date(2003, 1, 1), series="A", stated_value=D("10"),
                  conversion_price=D("2"), dividend_rate=D("0"), authorized=100,
                  par_value=D("0"), cumulative=True, frequency="quarterly",
                  day_count="actual/365", dividend_form="either", convert_accrued=True)


def _conversion(position: int, shares: int) -> LedgerEvent:
    return _event(ConversionRequested, position, date(2003, 3, position), series="A",
                  holder="H", shares=shares, lots=(LotConversion(lot="C/H", shares=shares,
                                                                 accrued=D("0.00")),),
                  stated_value=D(0), accrued=D(0), accrued_converted=True, value=D(0),
                  common_shares=0, cash_in_lieu=D(0), accrued_paid_in_cash=D(0))


def test_a_conversion_of_an_emptied_lot_is_refused() -> None:
    closing = _event(ClosingCompleted, 2, date(2003, 2, 1), security="A", ref="C",
                     allocations=(Allocation(investor="H", shares=10, gross=D("100.00")),),
                     shares=10, price_per_share=D("10"), gross=D("100.00"), fees=D("0.00"),
                     net=D("100.00"))
    state = LedgerState().apply_all([_designation(), closing, _conversion(3, 10)])
    assert state.series["A"].lots == {}
    assert state.series["A"].holder_lots("H") == []
    with pytest.raises(InvariantViolation, match="holds 0 shares"):
        state.apply(_conversion(4, 1))


def _sample_events() -> list[LedgerEvent]:
    return [
        _designation(),
        _event(ClosingCompleted, 2, date(2003, 2, 1), security="A", ref="C",
               allocations=(Allocation(investor="Hé", shares=10, gross=D("100.00")),),
               shares=10, price_per_share=D("10"), gross=D("100.00"), fees=D("0.00"),
               net=D("100.00")),
        _conversion(3, 4),
    ]


def test_the_transcoder_writes_eventsourcings_bytes_and_reads_them_back() -> None:
    app = LedgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    fast = app.mapper.transcoder
    assert isinstance(fast, LedgerTranscoder)
    plain = JSONTranscoder()
    app.register_transcodings(plain)
    for event in _sample_events():
        state = dict(vars(event))
        encoded = fast.encode(state)
        assert encoded == plain.encode(state)
        assert fast.decode(encoded) == plain.decode(encoded)
        stored = app.mapper.to_stored_event(event)
        assert app.mapper.to_domain_event(stored) == event
    with pytest.raises(TranscodingNotRegisteredError):
        fast.encode({"x": object()})
    with pytest.raises(TranscodingNotRegisteredError):
        fast.decode(b'{"_type_": "nope", "_data_": 1}')
    assert fast.decode(b'{"_type_": "decimal_str", "_data_": "1.50", "x": 1}') == {
        "_type_": "decimal_str", "_data_": "1.50", "x": 1}
    assert fast.decode(b'{"a": {"_type_": "date_iso", "_data_": "2003-01-02"}}') == {
        "a": date(2003, 1, 2)}


def test_stored_values_decode_as_their_constructor_builds_them() -> None:
    app = LedgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    transcoder = app.mapper.transcoder
    topic = "events:Allocation"
    built = transcoder.decode(
        b'{"_type_": "%s", "_data_": {"investor": "H", "shares": 3, "gross": '
        b'{"_type_": "decimal_str", "_data_": "3.00"}}}' % topic.encode()
    )
    assert built == Allocation(investor="H", shares=3, gross=D("3.00"))
    assert vars(built) == vars(Allocation(investor="H", shares=3, gross=D("3.00")))
    for data in (b'{"investor": "H", "shares": 3}',
                 b'{"investor": "H", "shares": 3, "gross": 1, "extra": 2}'):
        with pytest.raises(TypeError):
            transcoder.decode(b'{"_type_": "%s", "_data_": %s}' % (topic.encode(), data))
    # the shortcut relies on the constructor doing nothing but assign the fields
    assert not any(hasattr(cls, "__post_init__") for cls in (*EVENT_TYPES, *VALUE_TYPES))


def _clean_by_rule(value: str) -> str | None:
    """clean_text's rule character by character (None: refused)."""
    import unicodedata

    text = value.strip()
    if any(unicodedata.category(ch) in {"Cc", "Cs", "Cn", "Co", "Zl", "Zp"} for ch in text):
        return None
    if not any(unicodedata.category(ch)[0] not in "ZC" for ch in text):
        return None
    return text


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=12))
def test_the_ascii_shortcut_of_clean_text_follows_the_rule(value: str) -> None:
    try:
        got: str | None = clean_text(value, "name")
    except InvalidInput:
        got = None
    assert got == _clean_by_rule(value)
