"""The dividend schedule (DOMAIN.md 17): period ends per frequency, next and previous."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.schedule import (
    FREQUENCIES,
    is_period_end,
    off_schedule,
    period_end_after,
    period_end_before,
    period_end_on_or_after,
)
from projections.dividends import next_through

D = date.fromisoformat


@pytest.mark.parametrize(("frequency", "ends"), [
    ("quarterly", ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]),
    ("semiannual", ["2024-06-30", "2024-12-31"]),
    ("annual", ["2024-12-31"]),
    ("monthly", ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31",
                 "2024-06-30", "2024-07-31", "2024-08-31", "2024-09-30", "2024-10-31",
                 "2024-11-30", "2024-12-31"]),
])
def test_the_period_ends_of_a_year(frequency: str, ends: list[str]) -> None:
    found = []
    day = D("2024-01-01")
    while day.year == 2024:
        if is_period_end(frequency, day):
            found.append(day.isoformat())
        day = date.fromordinal(day.toordinal() + 1)
    assert found == ends


def test_next_and_previous_period_ends() -> None:
    assert period_end_on_or_after("quarterly", D("2003-05-14")) == D("2003-06-30")
    assert period_end_on_or_after("quarterly", D("2003-06-30")) == D("2003-06-30")
    assert period_end_after("quarterly", D("2003-06-30")) == D("2003-09-30")
    assert period_end_on_or_after("quarterly", D("2003-12-31")) == D("2003-12-31")
    assert period_end_after("quarterly", D("2003-12-31")) == D("2004-03-31")
    assert period_end_before("quarterly", D("2003-06-30")) == D("2003-03-31")
    assert period_end_before("quarterly", D("2004-01-15")) == D("2003-12-31")
    assert period_end_before("annual", D("2004-12-31")) == D("2003-12-31")
    assert period_end_on_or_after("monthly", D("2023-02-01")) == D("2023-02-28")
    assert period_end_before("semiannual", D("2024-03-01")) == D("2023-12-31")


def test_the_next_through_date_skips_what_was_declared() -> None:
    # none declared: the first period end on or after the date
    assert next_through("quarterly", D("2003-09-15"), None) == D("2003-09-30")
    # declared through the period end that is the date itself: the following one
    assert next_through("quarterly", D("2003-09-30"), D("2003-09-30")) == D("2003-12-31")
    # an off-schedule final dividend through mid-quarter: the quarter's end is still next
    assert next_through("quarterly", D("2003-09-20"), D("2003-09-15")) == D("2003-09-30")


def test_the_warning_names_the_scheduled_date() -> None:
    assert off_schedule("Series D", "quarterly", D("2003-06-30")) is None
    note = off_schedule("Series D", "quarterly", D("2003-06-15"))
    assert note is not None and "2003-06-15 is not a period end" in note
    assert "the scheduled through date of that period is 2003-06-30" in note
    assert off_schedule("M", "monthly", D("2024-02-28")) is not None  # 2024 is a leap year
    assert off_schedule("M", "monthly", D("2024-02-29")) is None
    assert set(FREQUENCIES) == {"quarterly", "semiannual", "annual", "monthly"}
    with pytest.raises(ValueError, match="unknown frequency"):
        is_period_end("weekly", D("2024-01-07"))
