"""The working-day calendar: weekends and statutory holidays off, 调休 make-up days on.

Statutory periods (行政许可法 §82) count working days; calendar-day periods do not count the
start day and move to the next working day when they end on a day off (民法典 §201, §203).

A year without official data is never silently guessed: the strict calendar raises
CalendarMissing. The engine uses the *provisional* variant instead, which counts such a year
with weekends plus the estimated public holidays (no make-up days are known in advance) and
notes the year, so every result that relied on it can be marked 暂定 and recomputed when the
State Council notice is imported."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

Estimate = Callable[[int], frozenset[date]]


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
    # provisional mode: holidays of a year without official data, and the years it was used for
    estimate: Estimate | None = field(default=None, compare=False)
    touched: set[int] | None = field(default=None, compare=False, hash=False)

    @classmethod
    def build(
        cls, holidays: Iterable[date], makeup_workdays: Iterable[date], covered_years: Iterable[int]
    ) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(makeup_workdays), frozenset(covered_years))

    def provisional(self, estimate: Estimate, touched: set[int] | None = None) -> WorkCalendar:
        """This calendar, counting years without official data on estimated holidays; each such
        year used is added to `touched`."""
        return dataclasses.replace(self, estimate=estimate, touched=touched)

    def is_official(self, year: int) -> bool:
        return year in self.covered_years

    def uncovered_years(self, start: date, end: date) -> frozenset[int]:
        """Years without official data among the days in (start, end]."""
        first = (start + timedelta(days=1)).year
        return frozenset(y for y in range(first, end.year + 1) if y not in self.covered_years)

    def is_workday(self, day: date) -> bool:
        if day.year not in self.covered_years:
            if self.estimate is None:
                raise CalendarMissing(day.year)
            if self.touched is not None:
                self.touched.add(day.year)
            return day.weekday() < 5 and day not in self.estimate(day.year)
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


@lru_cache(maxsize=64)
def estimated_holidays(year: int) -> frozenset[date]:
    """The public holidays the `holidays` package estimates for a year (its rules, not the
    State Council notice: no 调休 make-up workdays, and the days off may differ)."""
    import holidays

    return frozenset(holidays.China(years=year))


def package_calendar() -> WorkCalendar:
    """The official data that ships in the `chinese-calendar` package (2004 to its last year)."""
    import chinese_calendar

    holidays = set(chinese_calendar.holidays)
    makeup = set(chinese_calendar.workdays)
    last_year = max(d.year for d in holidays | makeup)
    first_year = min(d.year for d in holidays | makeup)
    return WorkCalendar.build(holidays, makeup, range(first_year, last_year + 1))
