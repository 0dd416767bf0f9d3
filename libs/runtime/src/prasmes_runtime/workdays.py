"""Latvian working days, for deadlines counted in them (a registration decided within one working day, a
clarification answered within a call's number of working days). Pure: a domain may import it."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays


@cache
def _latvian_calendar() -> holidays.HolidayBase:
    # Public holidays, 4 May and 18 November moved to Monday when they fall on a weekend, and the
    # Cabinet's transferred days off (with the Saturdays worked instead) all come from `holidays`.
    return holidays.country_holidays("LV")


def is_working_day(day: date) -> bool:
    return bool(_latvian_calendar().is_working_day(day))


def next_working_day(after: date) -> date:
    """The first working day after `after`."""
    return add_working_days(after, 1)


def add_working_days(day: date, count: int) -> date:
    """The `count`-th working day after `day` (`day` itself never counts; `count` >= 1)."""
    if count < 1:
        raise ValueError("count working days from one")
    for _ in range(count):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return day
