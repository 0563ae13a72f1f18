"""The dividend schedule of a series (DOMAIN.md 17): the period ends its frequency sets.

Quarterly: Mar 31, Jun 30, Sep 30 and Dec 31; semiannual: Jun 30 and Dec 31; annual: Dec 31;
monthly: each month's end. A dividend through a date that is not a period end is still
accepted (a final dividend on conversion); `off_schedule` words the warning for one.
"""

from __future__ import annotations

import calendar
from datetime import MAXYEAR, MINYEAR, date, timedelta

from ledger.errors import InvalidInput

# frequency -> the months whose last day ends a period
PERIOD_MONTHS: dict[str, tuple[int, ...]] = {
    "quarterly": (3, 6, 9, 12),
    "semiannual": (6, 12),
    "annual": (12,),
    "monthly": tuple(range(1, 13)),
}
FREQUENCIES = tuple(PERIOD_MONTHS)


def _months(frequency: str) -> tuple[int, ...]:
    try:
        return PERIOD_MONTHS[frequency]
    except KeyError:
        raise ValueError(f"unknown frequency {frequency!r}; use one of {', '.join(FREQUENCIES)}") from None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def is_period_end(frequency: str, day: date) -> bool:
    return day.month in _months(frequency) and day == _month_end(day.year, day.month)


def period_end_on_or_after(frequency: str, day: date) -> date:
    """The first period end on or after `day` (the end of the period `day` falls in)."""
    for year in (day.year, day.year + 1):
        if year > MAXYEAR:
            break
        for month in _months(frequency):
            end = _month_end(year, month)
            if end >= day:
                return end
    raise InvalidInput(f"the calendar has no {frequency} period end on or after {day}; "
                       "give an earlier date")


def period_end_after(frequency: str, day: date) -> date:
    """The first period end strictly after `day`."""
    if day == date.max:
        raise InvalidInput(f"the calendar has no {frequency} period end after {day}")
    return period_end_on_or_after(frequency, day + timedelta(days=1))


def period_end_before(frequency: str, day: date) -> date | None:
    """The latest period end strictly before `day` (None before the calendar's first)."""
    for year in (day.year, day.year - 1):
        if year < MINYEAR:
            break
        for month in reversed(_months(frequency)):
            end = _month_end(year, month)
            if end < day:
                return end
    return None


def off_schedule(series: str, frequency: str, through: date) -> str | None:
    """The warning for a dividend through a date that is not a period end, naming the
    scheduled one (the end of the period the date falls in); None when it is one."""
    if is_period_end(frequency, through):
        return None
    scheduled = period_end_on_or_after(frequency, through)
    return (
        f"{through} is not a period end of the {frequency} dividend schedule of {series!r}; "
        f"the scheduled through date of that period is {scheduled} (recorded anyway: an "
        "off-schedule through date suits a final dividend on conversion)"
    )
