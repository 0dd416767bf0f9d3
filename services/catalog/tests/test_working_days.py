"""Users are approved within one Latvian working day (weekends, public holidays and transferred days off excluded)."""

from datetime import date, datetime

import pytest
from catalog.domain import providers
from prasmes_runtime.clock import RIGA


def riga(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=RIGA)


def test_a_registration_on_the_friday_before_a_public_holiday_is_due_on_tuesday() -> None:
    # 4 May 2024 (Restoration of Independence) fell on a Saturday and moved to Monday 6 May.
    friday = riga(2024, 5, 3, 16, 30)
    assert providers.decision_due(friday) == riga(2024, 5, 8, 0, 0)  # the end of Tuesday 7 May
    assert not providers.is_overdue(friday, riga(2024, 5, 6, 12, 0))  # the holiday does not count
    assert not providers.is_overdue(friday, riga(2024, 5, 7, 23, 59))
    assert providers.is_overdue(friday, riga(2024, 5, 8, 0, 0))


def test_18_november_on_a_saturday_moves_the_day_off_to_monday() -> None:
    assert date(2023, 11, 18).weekday() == 5
    assert not providers.is_working_day(date(2023, 11, 20))
    assert providers.next_working_day(date(2023, 11, 17)) == date(2023, 11, 21)


def test_4_may_on_a_sunday_moves_to_monday() -> None:
    assert date(2025, 5, 4).weekday() == 6
    assert not providers.is_working_day(date(2025, 5, 5))


def test_a_transferred_working_saturday_counts_and_its_day_off_does_not() -> None:
    # 2025: Monday 17 November is a day off, worked on Saturday 8 November instead.
    assert not providers.is_working_day(date(2025, 11, 17))
    assert providers.is_working_day(date(2025, 11, 8))


@pytest.mark.parametrize(
    ("registered", "due"),
    [
        (riga(2026, 3, 10, 9, 0), riga(2026, 3, 12, 0, 0)),  # Tuesday -> end of Wednesday
        (riga(2026, 3, 13, 23, 59), riga(2026, 3, 17, 0, 0)),  # Friday night -> end of Monday
        (riga(2026, 3, 14, 11, 0), riga(2026, 3, 17, 0, 0)),  # Saturday -> end of Monday
        (riga(2025, 12, 23, 10, 0), riga(2025, 12, 30, 0, 0)),  # 24, 25, 26 Dec and the weekend are off
    ],
)
def test_due_dates(registered: datetime, due: datetime) -> None:
    assert providers.decision_due(registered) == due


def test_the_day_is_judged_in_riga_not_utc() -> None:
    late_thursday_utc = datetime.fromisoformat("2026-06-04T22:30:00+00:00")  # already Friday 01:30 in Riga
    assert providers.decision_due(late_thursday_utc) == riga(2026, 6, 9, 0, 0)  # Friday -> end of Monday 8 June
