"""What adding an event type takes (docs/architecture.md, "Adding an event type"): every
event type has its command, one rule in the fold of invariants, one case in the books' fold
and one in the OCF export; nothing else registers event types. A new type missing one of
them fails here, naming the place to add it."""

from __future__ import annotations

from dataclasses import fields

import pytest

from events import EVENT_TYPES, EventReversed, LedgerEvent
from ledger.commands import Command, _fields_of, decided_by
from ledger.decision import command_class
from ledger.state import _RULES, LedgerState, timeline
from projections import books, ocf
from tests.ledger.test_transfer import SPECTRUM, record_all

DECIDED = [cls for cls in EVENT_TYPES if cls is not EventReversed]  # `record reversal` decides it


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=[c.__name__ for c in EVENT_TYPES])
def test_every_event_type_has_its_place_in_each_fold(cls: type[LedgerEvent]) -> None:
    assert cls in _RULES, f"ledger/state.py: a rule for {cls.__name__} in _RULES"
    assert cls in books._apply.registry, f"projections/books.py: an _apply case for {cls.__name__}"
    assert cls in ocf.CASES, f"projections/ocf.py: a case for {cls.__name__} in CASES"


@pytest.mark.parametrize("cls", DECIDED, ids=[c.__name__ for c in DECIDED])
def test_every_event_type_but_a_reversal_is_decided_by_one_command(cls: type[LedgerEvent]) -> None:
    command = command_class(cls)
    assert command is not None, f"a command with `decides = {cls.__name__}`"
    assert command.decides is cls
    if command.of.__func__ is Command.of.__func__:  # type: ignore[attr-defined]
        # read from the event's fields of the same names: each must be one
        named = {f.name for f in fields(cls)}
        missing = [name for name, _ in _fields_of(command) if name not in named]
        assert not missing, f"{command.__name__} needs its own `of` for {missing}"


def test_each_stored_event_is_decided_again_by_its_command_from_its_own_fields(db: str) -> None:
    """`Command.of` (what import and a stored outcome decided again use) gives, for each
    event of a history with every kind of holding change, the command that decides exactly
    that event's fields on the state in front of it."""
    from ledger.service import Ledger

    record_all(db, SPECTRUM)
    with Ledger(db) as book:
        events = book.events()
    ordered = timeline(events)
    assert len({type(e) for e in ordered}) >= 9
    state = LedgerState()
    for event in ordered:
        cls, payload = decided_by(event).decide(state, event.originator_version)
        assert cls is type(event)
        assert payload == {name: getattr(event, name) for name in payload}, event
        state.apply(event)
