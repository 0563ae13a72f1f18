"""Laws of order (hypothesis).

- Issue 19: for random histories recorded in a random order (back-dated lines included),
  every accepted history equals the same accepted facts recorded in date order, outcome for
  outcome; an out-of-order line refused for what follows it names what it would change.
- Issue 10: importing an export equals recording its lines one by one (random histories with
  back-dated lines and reversals); a line that recording refuses is refused by import too,
  for the same reason, and nothing is appended.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import LedgerEvent, SeriesAuthorizationIncreased
from events.codec import event_data, to_json_value
from ledger.commands import (
    Command,
    DeclareDividend,
    ExerciseWarrants,
    IncreaseAuthorization,
    IssueWarrants,
    RecordClosing,
    ReportCommonOutstanding,
    RequestConversion,
)
from ledger.errors import LedgerError
from ledger.service import Ledger
from ledger.transfer import export_lines, import_lines
from tests.laws.test_properties import (
    HOLDERS,
    REFS,
    SERIES,
    START,
    designations,
    record_pure,
)


def explicit_refs(commands: list[Command]) -> list[Command]:
    """Every closing and warrant with a reference of its own: a generated one follows the
    position, which the order of recording changes."""
    return [replace(c, ref=f"X{i}") if isinstance(c, (RecordClosing, IssueWarrants))
            and c.ref is None else c for i, c in enumerate(commands)]


def outcome(event: LedgerEvent) -> dict[str, Any]:
    """What an event states, bar its envelope. An authorization increase's `authorized` is
    the running figure as recorded (a back-dated increase before it is accepted), not an
    outcome that the order of recording may change."""
    data = event_data(event)
    if isinstance(event, SeriesAuthorizationIncreased):
        data.pop("authorized")
    return {"type": type(event).__name__, "effective_date": event.effective_date, **data}


# A history dense in what back-dating can change: lots that conversions take oldest first,
# dividends on the holdings of their date, warrants exercised.
_days = st.integers(min_value=1, max_value=400).map(lambda n: START + timedelta(days=n))
_early = st.integers(min_value=1, max_value=200).map(lambda n: START + timedelta(days=n))
_late = st.integers(min_value=100, max_value=400).map(lambda n: START + timedelta(days=n))
_holders = st.sampled_from(HOLDERS[:2])
_series = st.sampled_from(SERIES)
_conversions = st.builds(lambda on, series, holder, shares: RequestConversion(
    effective_date=on, series=series, holder=holder, shares=shares),
    _late, _series, _holders, st.integers(min_value=1, max_value=40))
_closings = st.builds(lambda on, series, investors: RecordClosing(
    effective_date=on, security=series, investors=investors),
    _early, _series, st.lists(st.tuples(_holders, st.integers(min_value=20, max_value=80)),
                              min_size=1, max_size=2, unique_by=lambda t: t[0]).map(tuple))
_facts = st.one_of(
    _conversions, _conversions, _conversions, _closings, _closings, _closings,
    st.builds(lambda on, back, series, form: DeclareDividend(
        effective_date=on, series=series, through=on - timedelta(days=back), form=form,
        price=Decimal("2.35") if form == "stock" else None),
        _days, st.integers(min_value=0, max_value=60), _series, st.sampled_from(["cash", "stock"])),
    st.builds(lambda on, ref: IssueWarrants(
        effective_date=on, holder="H1", shares=500, exercise_price=Decimal("3"), ref=ref,
        expires=on + timedelta(days=200)), _days, st.sampled_from(REFS)),
    st.builds(lambda on, ref, shares, cashless: ExerciseWarrants(
        effective_date=on, warrant=ref, shares=shares, cashless=cashless,
        market_price=Decimal("4.10") if cashless else None),
        _days, st.sampled_from(REFS), st.integers(min_value=1, max_value=300), st.booleans()),
    st.builds(lambda on, series: IncreaseAuthorization(effective_date=on, series=series,
                                                       shares=100), _days, _series),
    st.builds(lambda on: ReportCommonOutstanding(effective_date=on, shares=10**6), _days),
)
histories = st.tuples(designations, designations, st.lists(_facts, min_size=6, max_size=30)).map(
    lambda t: [replace(t[0], series="A", effective_date=START, authorized=5000,
                       dividend_form="either"),
               replace(t[1], series="B", effective_date=START, authorized=5000,
                       dividend_form="either"), *t[2]])


LATER = re.compile(r"the later (\w+) at position (\d+) \((\d{4}-\d\d-\d\d)\)")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_recording_order_equals_the_date_order(data: st.DataObject) -> None:
    facts = explicit_refs(data.draw(histories))
    # the two designations first (everything refers to them), the rest in any order
    order = [0, 1, *data.draw(st.permutations(range(2, len(facts))))]
    events: list[LedgerEvent] = []
    accepted: list[Command] = []
    for index in order:
        command = facts[index]
        latest = max((e.effective_date for e in events), default=None)
        try:
            events.append(record_pure(events, command))
        except LedgerError as exc:
            message = str(exc)
            if message.startswith("back-dated to"):
                assert latest is not None and command.effective_date < latest
                found = LATER.search(message)
                assert found is not None, message
                named = events[int(found[2]) - 1]  # an event already recorded, after it
                assert type(named).__name__ == found[1]
                assert named.effective_date.isoformat() == found[3]
                assert named.effective_date >= command.effective_date
            continue
        accepted.append(command)
    # The same accepted facts, recorded in date order (ties as the timeline had them).
    in_timeline = sorted(zip(events, accepted, strict=True),
                         key=lambda pair: (pair[0].effective_date, pair[0].originator_version))
    again: list[LedgerEvent] = []
    for event, command in in_timeline:
        again.append(record_pure(again, command))  # never refused
        assert outcome(again[-1]) == outcome(event)


# --- import == record, one line at a time ------------------------------------------------------


def _money(value: Decimal | None) -> Any:
    return None if value is None else to_json_value(value)


def line_of(command: Command, position: int) -> str | None:
    """The import line that asks for what `command` asks (for the commands whose line
    states only what the command is given)."""
    data: dict[str, Any]
    if isinstance(command, RequestConversion):
        data = {"series": command.series, "holder": command.holder, "shares": command.shares}
    elif isinstance(command, ExerciseWarrants):
        data = {"warrant": command.warrant, "shares": command.shares,
                "cashless": command.cashless, "market_price": _money(command.market_price)}
    elif isinstance(command, DeclareDividend):
        data = {"series": command.series, "through": command.through.isoformat(),
                "form": command.form, "price": _money(command.price)}
    elif isinstance(command, IncreaseAuthorization):
        data = {"series": command.series, "shares": command.shares}
    elif isinstance(command, ReportCommonOutstanding):
        data = {"shares": command.shares}
    else:
        return None
    kind = {RequestConversion: "ConversionRequested", ExerciseWarrants: "WarrantsExercised",
            DeclareDividend: "DividendDeclared", IncreaseAuthorization:
            "SeriesAuthorizationIncreased", ReportCommonOutstanding:
            "CommonOutstandingReported"}[type(command)]
    return json.dumps({"type": kind, "effective_date": command.effective_date.isoformat(),
                       "position": position, "data": data})


def reversal_line(target: int, position: int, on: str) -> str:
    return json.dumps({"type": "EventReversed", "effective_date": on, "position": position,
                       "data": {"reversed_position": target, "reason": "law"}})


@contextlib.contextmanager
def fresh(backend: str) -> Iterator[Ledger]:
    if backend == "postgres":
        from tests.pg import fresh_ledger_url

        with fresh_ledger_url() as url, Ledger(url, actor="law", create=True) as book:
            yield book
        return
    with tempfile.TemporaryDirectory() as tmp, \
            Ledger(str(Path(tmp) / "law.db"), actor="law", create=True) as book:
        yield book


def imported(backend: str, lines: list[str]) -> tuple[list[LedgerEvent], str | None]:
    """The events an import of `lines` into a fresh ledger leaves, and its refusal if any."""
    with fresh(backend) as book:
        try:
            import_lines(book, lines)
        except LedgerError as exc:
            assert book.events() == []  # a refused import appends nothing
            return [], str(exc)
        return book.events(), None


def comparable(event: LedgerEvent) -> tuple[Any, ...]:
    return type(event).__name__, event.originator_version, event.effective_date, \
        event_data(event)


LAW_HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=25, deadline=None, suppress_health_check=LAW_HEALTH)
@given(data=st.data())
def test_importing_an_export_equals_recording_its_lines(data: st.DataObject) -> None:
    import_equals_record("sqlite", data)


@pytest.mark.postgres
@settings(max_examples=10, deadline=None, suppress_health_check=LAW_HEALTH)  # a schema a draw
@given(data=st.data())
def test_importing_an_export_equals_recording_its_lines_on_postgres(data: st.DataObject) -> None:
    import_equals_record("postgres", data)


def import_equals_record(backend: str, data: st.DataObject) -> None:
    """The law: recording the lines one by one (refused ones included) and importing their
    export give the same events, and import refuses what record refused, alike."""
    if backend == "postgres":
        from tests.pg import base_url

        base_url()  # skips with the reason where no server is configured
    facts = explicit_refs(data.draw(histories))
    # mostly in date order, a few lines moved later (recorded back-dated)
    facts = [*facts[:2], *sorted(facts[2:], key=lambda c: c.effective_date)]
    for _ in range(data.draw(st.integers(min_value=0, max_value=4))):
        moved = facts.pop(data.draw(st.integers(min_value=2, max_value=len(facts) - 1)))
        facts.insert(data.draw(st.integers(min_value=2, max_value=len(facts))), moved)
    checked: list[str] = []  # refused lines imported too: the first record, 4 reversals
    with fresh(backend) as book:
        for command in facts:
            steps: list[tuple[str, Any]] = [("record", command)]
            count = len(book.events())
            if count > 2 and data.draw(st.integers(min_value=0, max_value=2)) == 0:
                steps.append(("reverse", data.draw(st.integers(min_value=3, max_value=count))))
            for kind, what in steps:
                count = len(book.events())
                try:
                    if kind == "record":
                        book.record(what)
                    else:
                        book.reverse(what, "law")
                    continue
                except LedgerError as exc:
                    refusal = str(exc)
                assert len(book.events()) == count
                if checked.count(kind) >= (1 if kind == "record" else 4):
                    continue
                # The refused line at the end of the export: import refuses it too.
                events = book.events()
                on = max([e.effective_date for e in events] + [command.effective_date])
                line = (line_of(what, count + 1) if kind == "record"
                        else reversal_line(what, count + 1, on.isoformat())
                        if 1 <= what <= count else None)
                if line is None:
                    continue
                checked.append(kind)
                _, refused = imported(backend, [*export_lines(events), line + "\n"])
                assert refused is not None
                assert refused.startswith(f"line {count + 1}: ")
                if kind == "record":
                    assert refused.removeprefix(f"line {count + 1}: ") == refusal
        recorded = book.events()
    again, refused = imported(backend, list(export_lines(recorded)))
    assert refused is None
    assert [comparable(e) for e in again] == [comparable(e) for e in recorded]
