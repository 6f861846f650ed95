"""The working-day calendar against the real 2026 State Council arrangement, and the provisional
calendar for a year without one."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.domain.calendar import CalendarMissing, estimated_holidays, package_calendar
from engine.domain.sla import Limit, YellowRule, deadline
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


# ---- the provisional calendar: a year without official data counts on estimated holidays ----
PROVISIONAL_YEARS: set[int] = set()
PROVISIONAL = CAL.provisional(estimated_holidays, PROVISIONAL_YEARS)


def test_the_provisional_calendar_counts_2027_on_estimated_holidays():
    assert not CAL.is_official(2027) and CAL.is_official(2026)
    assert 2027 not in PROVISIONAL_YEARS
    assert PROVISIONAL.add_workdays(date(2026, 12, 21), 20) == date(2027, 1, 19)  # 01-01 off
    assert not PROVISIONAL.is_workday(date(2027, 2, 8))  # estimated Spring Festival
    assert PROVISIONAL.is_workday(date(2027, 3, 1))
    assert 2027 in PROVISIONAL_YEARS  # noted, for the admin alert
    # official years are unchanged: the 2026 make-up Saturday is still a working day
    assert PROVISIONAL.is_workday(date(2026, 10, 10))


def test_uncovered_years_are_those_the_period_reaches():
    assert CAL.uncovered_years(date(2026, 12, 21), date(2027, 1, 19)) == {2027}
    assert CAL.uncovered_years(date(2026, 12, 1), date(2026, 12, 31)) == set()
    assert CAL.uncovered_years(date(2026, 12, 31), date(2028, 1, 3)) == {2027, 2028}


def test_a_deadline_into_2027_is_marked_provisional():
    line = deadline(
        PROVISIONAL, date(2026, 12, 21), Limit(20, "wd"), 0, 0, YellowRule(days_left=1), BEIJING
    )
    assert line.due_day == date(2027, 1, 19) and line.provisional
    inside = deadline(
        PROVISIONAL, date(2026, 9, 28), Limit(10, "wd"), 0, 0, YellowRule(days_left=1), BEIJING
    )
    assert inside.due_day == date(2026, 10, 16) and not inside.provisional


def test_diagram_functions_never_raise_for_a_missing_year():
    now = datetime(2026, 12, 21, 1, 0, tzinfo=ZoneInfo("UTC"))
    functions = calendar_functions(lambda: now, lambda: PROVISIONAL, BEIJING)
    assert evaluate("workdays(20)", {}, functions) == "2027-01-19T23:59:59+08:00"
    assert evaluate("is_workday('2027-10-01')", {}, functions) is False
    assert evaluate("days(3, '2027-02-05')", {}, functions) == "2027-02-11T23:59:59+08:00"
