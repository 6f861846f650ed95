"""The working-day calendar: weekends and statutory holidays off, 调休 make-up days on.

Statutory periods (行政许可法 §82) count working days; calendar-day periods do not count the
start day and move to the next working day when they end on a day off (民法典 §201, §203).
A year without official data is an error, never a weekends-only guess."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo


class CalendarMissing(LookupError):
    def __init__(self, year: int) -> None:
        super().__init__(
            f"no official holiday data for {year}: import the State Council notice "
            f"for {year} into the calendar before computing deadlines into it"
        )
        self.year = year


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date]
    makeup_workdays: frozenset[date]
    covered_years: frozenset[int]

    @classmethod
    def build(
        cls, holidays: Iterable[date], makeup_workdays: Iterable[date], covered_years: Iterable[int]
    ) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(makeup_workdays), frozenset(covered_years))

    def is_workday(self, day: date) -> bool:
        if day.year not in self.covered_years:
            raise CalendarMissing(day.year)
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_workdays(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (the start day itself is not counted)."""
        if count < 0:
            raise ValueError("a number of working days cannot be negative")
        day = start
        while count > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                count -= 1
        return day

    def add_days(self, start: date, count: int) -> date:
        """`count` calendar days after `start`, moved to the next working day if that is off."""
        if count < 0:
            raise ValueError("a number of days cannot be negative")
        day = start + timedelta(days=count)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days have passed from start to end."""
        if end <= start:
            return 0
        return sum(
            1
            for n in range(1, (end - start).days + 1)
            if self.is_workday(start + timedelta(days=n))
        )


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """A period's last day ends at 24:00 (民法典 §203); expressed as 23:59:59 local time."""
    return datetime.combine(day, time(23, 59, 59), zone)


def package_calendar() -> WorkCalendar:
    """The official data that ships in the `chinese-calendar` package (2004 to its last year)."""
    import chinese_calendar

    holidays = set(chinese_calendar.holidays)
    makeup = set(chinese_calendar.workdays)
    last_year = max(d.year for d in holidays | makeup)
    first_year = min(d.year for d in holidays | makeup)
    return WorkCalendar.build(holidays, makeup, range(first_year, last_year + 1))
