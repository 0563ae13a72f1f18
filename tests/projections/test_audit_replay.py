"""`audit replay`: the timeline one event at a time, with the running totals after each."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings

from events import LedgerEvent, WarrantsExercised, WarrantsIssued
from ledger.service import Ledger
from ledger.state import timeline
from projections.books import TOTALS, replay
from projections.reports import warrant_outstanding
from projections.trail import Step, replay_steps
from tests.laws.test_terms_laws import ledgers
from tests.ledger.test_transfer import SPECTRUM, record_all


def run_json(fl: Any, *args: str) -> Any:
    r = fl(*args)
    assert r.code == 0, (args, r.err)
    return json.loads(r.out)


def test_the_last_step_equals_the_current_reports(fl: Any, db: str) -> None:
    record_all(db, SPECTRUM)
    steps = run_json(fl, "audit", "replay", "--json")
    # Effective-date order, ties by position; the reversed warrant (14) and its reversal out
    # (16-18, the transfers and the redemption of autumn 2003, before the 2004 exercises).
    assert [s["position"] for s in steps] == [1, 2, 3, 4, 13, 5, 6, 7, 8, 9, 16, 17, 18, 10, 11, 12]
    assert set(steps[0]) == {"position", "effective_date", "type", "capital_gross",
                             "preferred_outstanding", "warrants_outstanding"}
    last = steps[-1]
    capital = run_json(fl, "report", "capital", "--json")
    preferred = run_json(fl, "report", "preferred", "--json")
    warrants = run_json(fl, "report", "warrants", "--json")
    assert last["capital_gross"] == capital["totals"]["gross"]
    assert last["preferred_outstanding"] == preferred["totals"]["outstanding"]
    assert last["warrants_outstanding"] == warrants["totals"]["outstanding"]
    # The figures themselves: 6,000,000 in closings, 162,500 of common, 30,000 in cash
    # exercise, less 100,000 returned by the redemption (10 x 10,000); 600 - 20 converted
    # - 10 redeemed; 944,681 x 2 + 331,914 - 20,000 exercised (a transfer moves, adds none).
    assert last["capital_gross"] == "6092500.00"
    assert last["preferred_outstanding"] == 570
    assert last["warrants_outstanding"] == 2_201_276


def test_each_step_moves_the_totals_by_its_event(fl: Any, db: str) -> None:
    record_all(db, SPECTRUM[:7])
    steps = run_json(fl, "audit", "replay", "--json")
    assert [(s["type"], s["capital_gross"], s["preferred_outstanding"],
             s["warrants_outstanding"]) for s in steps] == [
        ("SeriesDesignated", "0.00", 0, 0),
        ("ClosingCompleted", "4440000.00", 444, 0),
        ("WarrantsIssued", "4440000.00", 444, 944681),
        ("WarrantsIssued", "4440000.00", 444, 1889362),
        ("SeriesAuthorizationIncreased", "4440000.00", 444, 1889362),
        ("ClosingCompleted", "6000000.00", 600, 1889362),
        ("WarrantsIssued", "6000000.00", 600, 2221276),
    ]
    table = fl("audit", "replay")
    assert table.code == 0
    assert "6,000,000.00 (+1,560,000.00)" in table.out
    assert "600 (+156)" in table.out


def test_until_and_to_cut_the_trail(fl: Any, db: str) -> None:
    record_all(db, SPECTRUM)
    full = run_json(fl, "audit", "replay", "--json")
    until = run_json(fl, "audit", "replay", "--until", "2003-06-30", "--json")
    assert until == [s for s in full if s["effective_date"] <= "2003-06-30"]
    assert until[-1]["position"] == 7
    to = run_json(fl, "audit", "replay", "--to", "5", "--json")
    assert [s["position"] for s in to] == [1, 2, 3, 4, 5]
    as_recorded = run_json(fl, "report", "summary", "--as-recorded", "5", "--json")
    assert to[-1]["warrants_outstanding"] == as_recorded["warrants"]["outstanding"]
    both = fl("audit", "replay", "--until", "2003-06-30", "--to", "5")
    assert both.code == 2 and "not both" in both.err
    beyond = fl("audit", "replay", "--to", "99")
    assert beyond.code == 1 and "no position 99" in beyond.err


def _envelope(position: int, on: date) -> dict[str, Any]:
    return {"originator_id": UUID(int=1), "originator_version": position, "effective_date": on,
            "recorded_at": datetime(2024, 1, 1, tzinfo=UTC), "actor": "t", "prev_hash": "",
            "hash": ""}


def test_a_warrant_leaves_the_overhang_the_day_after_it_expires() -> None:
    issued = WarrantsIssued(**_envelope(1, date(2003, 5, 8)), ref="W", holder="A", shares=1000,
                            exercise_price=Decimal("3.00"), expires=date(2004, 5, 8), label="",
                            closing=None)
    exercised = WarrantsExercised(**_envelope(2, date(2004, 5, 8)), warrant="W", shares=400,
                                  cashless=False, market_price=None, common_shares=400,
                                  proceeds=Decimal("1200.00"))
    other = WarrantsIssued(**_envelope(3, date(2004, 5, 9)), ref="X", holder="B", shares=10,
                           exercise_price=Decimal("4.00"), expires=None, label="", closing=None)
    steps = replay_steps([issued, exercised, other])
    assert [s.warrants_outstanding for s in steps] == [1000, 600, 10]
    assert [s.capital_gross for s in steps] == [Decimal("0.00"), Decimal("1200.00"),
                                                 Decimal("1200.00")]


def _same_as_the_reports(events: list[LedgerEvent], steps: list[Step]) -> None:
    """Each step's totals are what the reports read from the books of the timeline through
    that step's event (a fresh replay, the warrants outstanding summed as the warrants
    report sums them, on the step's date)."""
    ordered = timeline(events)
    assert [s.event for s in steps] == ordered
    for index, step in enumerate(steps):
        books = replay(ordered[:index + 1])
        force, on = books.in_force(), step.event.effective_date
        assert step.capital_gross == books.totals[TOTALS].capital_gross
        assert step.preferred_outstanding == sum(r.outstanding for r in books.series.values())
        assert step.warrants_outstanding == sum(
            warrant_outstanding(w, on, force) for w in books.warrants.values())


def test_every_step_of_transfers_redemptions_and_a_reversal_is_what_the_reports_say(
        db: str) -> None:
    record_all(db, SPECTRUM)
    with Ledger(db) as book:
        events = book.events()
    _same_as_the_reports(events, replay_steps(events))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=ledgers())
def test_every_step_of_splits_resets_and_adjustments_is_what_the_reports_say(
        events: list[LedgerEvent]) -> None:
    _same_as_the_reports(events, replay_steps(events))
