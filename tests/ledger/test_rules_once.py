"""Each rule once: a command's `decide()` computes its outcome and refuses only bad input;
the invariants are the fold's (`LedgerState.apply`). So the event a command decides on a
state that it breaks comes out of `decide()`, and folding it in refuses it with the very
message `record` gives (and `import` and a back-dated entry, which take the same path)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from events import LedgerEvent, WarrantsExercised
from ledger.commands import (
    AdjustTerms,
    Command,
    DesignateSeries,
    ExerciseWarrants,
    IssueWarrants,
    RecordClosing,
    RequestConversion,
)
from ledger.errors import InvalidInput, InvariantViolation, LedgerError
from ledger.holdings import RedeemShares, TransferShares, TransferWarrants
from ledger.state import LedgerState
from tests.laws.test_properties import record_pure

D = Decimal
ON = date(2003, 5, 8)
LATER = date(2003, 6, 1)


def _series(name: str = "Series D") -> DesignateSeries:
    return DesignateSeries(effective_date=ON, series=name, stated_value=D("10000"),
                           conversion_price=D("2.35"), dividend_rate=D("8"), authorized=444)


def history() -> list[LedgerEvent]:
    events: list[LedgerEvent] = []
    for command in (
        _series(),
        RecordClosing(effective_date=ON, security="Series D", investors=(("A", 200), ("B", 44)),
                      ref="D-1"),
        IssueWarrants(effective_date=ON, holder="A", shares=1000, exercise_price=D("3.00"),
                      ref="W-1", expires=date(2004, 5, 8)),
        IssueWarrants(effective_date=ON, holder="B", shares=10, exercise_price=D("3.00"),
                      ref="W-2", exercisable_from=date(2003, 12, 1)),
    ):
        events.append(record_pure(events, command))
    return events


def decided(state: LedgerState, command: Command, position: int) -> LedgerEvent:
    cls, payload = command.decide(state, position)
    return cls(originator_id=UUID(int=0), originator_version=position,
               effective_date=command.effective_date,
               recorded_at=datetime(2020, 1, 1, tzinfo=UTC), actor="t", prev_hash="", hash="",
               **payload)


REFUSED: list[tuple[Command, type[LedgerError], str]] = [
    (_series("COMMON"), InvalidInput, "`common` is reserved for common stock; choose another"),
    (_series(), InvariantViolation, "'Series D' is already designated"),
    (RecordClosing(effective_date=LATER, security="Series D", investors=(("X", 1), ("X", 2))),
     InvalidInput, "investor 'X' appears more than once; give each investor once"),
    (RecordClosing(effective_date=LATER, security="Series D", investors=(("X", 1),), ref="W-1"),
     InvariantViolation, "reference 'W-1' is already used; give a new --ref"),
    (IssueWarrants(effective_date=LATER, holder="A", shares=1, exercise_price=D("1"), ref="D-1"),
     InvariantViolation, "reference 'D-1' is already used"),
    (ExerciseWarrants(effective_date=date(2004, 6, 1), warrant="W-1", shares=1),
     InvariantViolation, "warrant 'W-1' expired on 2004-05-08"),
    (ExerciseWarrants(effective_date=LATER, warrant="W-1", shares=1001),
     InvariantViolation, "warrant 'W-1' has 1,000 shares outstanding on 2003-06-01; exercise "
                         "at most that many, not 1,001"),
    (TransferShares(effective_date=LATER, series="Series D", from_holder="A", to_holder="A",
                    shares=1),
     InvariantViolation, "--from and --to are both 'A'; a transfer moves shares to another"),
    (TransferShares(effective_date=LATER, series="Series D", from_holder="A", to_holder="C",
                    shares=1, ref="D-1"),
     InvariantViolation, "reference 'D-1' is already used"),
    (TransferWarrants(effective_date=LATER, warrant="W-1", to_holder="A", shares=1),
     InvariantViolation, "'A' already holds warrant 'W-1'; --to names the new holder"),
    (TransferWarrants(effective_date=date(2004, 6, 1), warrant="W-1", to_holder="C", shares=1),
     InvariantViolation, "warrant 'W-1' expired on 2004-05-08; it cannot be transferred"),
    (TransferWarrants(effective_date=LATER, warrant="W-1", to_holder="C", shares=1001),
     InvariantViolation, "transfer at most that many, not 1,001"),
    (RedeemShares(effective_date=LATER, series="Series D", holder="B", shares=1, ref="W-2"),
     InvariantViolation, "reference 'W-2' is already used"),
    (AdjustTerms(effective_date=LATER, reason="r", series="Series D",
                 conversion_price=D("2.35")),
     InvariantViolation, "series 'Series D' already converts at 2.35 on 2003-06-01"),
    (AdjustTerms(effective_date=LATER, reason="r", warrant="W-1", exercise_price=D("3.00")),
     InvariantViolation, "warrant 'W-1' already has 1,000 shares outstanding at 3.00"),
    (AdjustTerms(effective_date=date(2004, 6, 1), reason="r", warrant="W-1",
                 exercise_price=D("2")),
     InvariantViolation, "an expired warrant's terms cannot change on 2004-06-01"),
]


@pytest.mark.parametrize(("command", "error", "message"), REFUSED,
                         ids=[f"{type(c).__name__}-{i}" for i, (c, _, _) in enumerate(REFUSED)])
def test_decide_computes_and_the_fold_refuses_with_the_message_record_gives(
        command: Command, error: type[LedgerError], message: str) -> None:
    events = history()
    state = LedgerState().apply_all(events)
    event = decided(state.copy(), command, len(events) + 1)  # decide() refuses nothing here
    with pytest.raises(error, match=message.replace("(", r"\(")) as folded:
        state.apply(event)
    assert isinstance(folded.value, InvariantViolation)  # the fold's: it names the position
    assert folded.value.position == len(events) + 1
    with pytest.raises(error) as recorded:  # the one decide path: the same refusal
        record_pure(events, command)
    assert str(recorded.value) == str(folded.value)


@pytest.mark.parametrize(("command", "message"), [
    (ExerciseWarrants(effective_date=LATER, warrant="W-9", shares=1),
     "no warrant 'W-9' is issued on or before 2003-06-01; `finledger report warrants` lists"),
    (ExerciseWarrants(effective_date=LATER, warrant="W-2", shares=1),
     "warrant 'W-2' is exercisable from 2003-12-01; it cannot be exercised on 2003-06-01"),
    (ExerciseWarrants(effective_date=LATER, warrant="W-1", shares=1, cashless=True,
                      market_price=D("3.00")),
     "a cashless exercise needs a market price above the exercise price 3.00, not 3.00"),
    (RequestConversion(effective_date=LATER, series="Series D", holder="B", shares=45),
     "'B' holds 44 shares of 'Series D' on 2003-06-01; it can convert at most that many"),
])
def test_a_precondition_decide_needs_is_the_folds_check_with_the_folds_message(
        command: Command, message: str) -> None:
    """A command that cannot compute without it (a warrant's price, the lots a holder has)
    calls the fold's own check: the same message whether the command or the fold finds it."""
    events = history()
    state = LedgerState().apply_all(events)
    with pytest.raises(InvariantViolation) as deciding:
        command.decide(state.copy(), len(events) + 1)
    assert message in str(deciding.value)
    stored: dict[str, Any] = {}
    if isinstance(command, ExerciseWarrants):  # the same refusal from the fold, on a stored event
        stored = {"warrant": command.warrant, "shares": command.shares,
                  "cashless": command.cashless, "market_price": command.market_price,
                  "common_shares": 1, "proceeds": D("3.00")}
    if stored:
        event = WarrantsExercised(
            originator_id=UUID(int=0), originator_version=len(events) + 1, effective_date=LATER,
            recorded_at=datetime(2020, 1, 1, tzinfo=UTC), actor="t", prev_hash="", hash="",
            **stored)
        with pytest.raises(InvariantViolation) as folding:
            state.apply(event)
        assert str(folding.value) == str(deciding.value)
