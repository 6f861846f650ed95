"""The working-day calendar against the real 2026 State Council arrangement."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.domain.calendar import CalendarMissing, package_calendar
from engine.expressions import evaluate
from engine.expressions.calendar_functions import calendar_functions

CAL = package_calendar()
BEIJING = ZoneInfo("Asia/Shanghai")


def test_ten_working_days_after_2026_09_28_is_2026_10_16():
    assert CAL.add_workdays(date(2026, 9, 28), 10) == date(2026, 10, 16)


@pytest.mark.parametrize(
    "day", ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
)
def test_make_up_weekend_days_are_working_days(day):
    assert date.fromisoformat(day).weekday() >= 5
    assert CAL.is_workday(date.fromisoformat(day))


def test_national_day_week_is_off():
    assert not any(CAL.is_workday(date(2026, 10, d)) for d in range(1, 8))


def test_calendar_days_ending_on_a_holiday_move_to_the_next_working_day():
    assert CAL.add_days(date(2026, 9, 26), 5) == date(2026, 10, 8)  # 10-01 is a holiday
    assert CAL.add_days(date(2026, 11, 2), 5) == date(2026, 11, 9)  # Sat 11-07 → Mon 11-09
    assert CAL.add_days(date(2026, 11, 2), 3) == date(2026, 11, 5)


def test_workdays_between_counts_the_days_that_passed():
    assert CAL.workdays_between(date(2026, 9, 28), date(2026, 10, 16)) == 10
    assert CAL.workdays_between(date(2026, 10, 16), date(2026, 9, 28)) == 0


def test_a_year_without_data_raises_instead_of_guessing():
    with pytest.raises(CalendarMissing, match="2027"):
        CAL.add_workdays(date(2026, 12, 20), 30)


def test_diagram_functions_return_local_end_of_day():
    now = datetime(2026, 9, 28, 2, 0, tzinfo=ZoneInfo("UTC"))
    functions = calendar_functions(lambda: now, lambda: CAL, BEIJING)
    assert evaluate("workdays(10)", {}, functions) == "2026-10-16T23:59:59+08:00"
    assert evaluate("workdays(1, '2026-09-30')", {}, functions) == "2026-10-08T23:59:59+08:00"
    assert evaluate("days(3)", {}, functions) == "2026-10-08T23:59:59+08:00"
    assert evaluate("is_workday('2026-10-10')", {}, functions) is True
