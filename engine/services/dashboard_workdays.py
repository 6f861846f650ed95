"""Working days inside SQL, for the dashboard's aggregates.

A step's working days are the working days in (the local day it opened, the local day it was
finished] less the working days its clock was suspended — what the case page calls 已用工作日.
They are ordinal(end) − ordinal(start), where ordinal(d) counts the working days up to day d.

SQL knows no holidays, so the ordinal is written into the statement as arithmetic: the
Monday-to-Friday days up to d (a closed formula on the day number) plus a correction that
changes only at a holiday on a weekday or a 调休 make-up workday — a step function of a few
dozen steps over the years the query can meet, taken from the calendar service's calendar and
evaluated as a binary search of nested CASEs. The database computes and groups it per row;
Python never loops over the rows."""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import Date, Integer, case, cast, func, literal, literal_column
from sqlalchemy.sql.elements import ColumnElement

from engine.domain.calendar import WorkCalendar, estimated_holidays

EPOCH = date(1970, 1, 1)  # a Thursday: day number n falls on weekday (n + 3) % 7


def day_number(day: date) -> int:
    return (day - EPOCH).days


def weekdays_up_to(number: int) -> int:
    """Monday-to-Friday days from the Monday before the epoch up to day `number`."""
    shifted = number + 3
    return 5 * (shifted // 7) + min(shifted % 7 + 1, 5)


@dataclasses.dataclass(frozen=True)
class WorkdayIndex:
    """ordinal(n) = weekdays_up_to(n) + correction(n) for the days from `first` to `last`;
    `steps` holds (first day number, correction) of each stretch where the correction holds
    (days before `first` take the first stretch's, after `last` the last one's)."""

    first: date
    last: date
    steps: tuple[tuple[int, int], ...]

    @classmethod
    def build(cls, calendar: WorkCalendar, first: date, last: date) -> WorkdayIndex:
        # estimated holidays for a year without official data, without raising the admin
        # alert a command raises when it schedules a deadline there (reading decides nothing)
        calendar = dataclasses.replace(calendar, estimate=estimated_holidays, touched=None)
        steps: list[tuple[int, int]] = []
        count = 0
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            count += calendar.is_workday(day)
            correction = count - weekdays_up_to(day_number(day))
            if not steps or steps[-1][1] != correction:
                steps.append((day_number(day), correction))
        return cls(first, last, tuple(steps))

    def ordinal(self, number: int) -> int:
        at = bisect.bisect_right(self._starts, number) - 1
        return weekdays_up_to(number) + self.steps[max(at, 0)][1]

    @functools.cached_property
    def _starts(self) -> list[int]:
        return [start for start, _ in self.steps]

    def ordinal_sql(self, number: ColumnElement) -> ColumnElement:
        """ordinal(number) as an SQL expression on an integer day-number expression. On a
        column of a named CTE or subquery it is one literal SQL text, written once per index
        (building and caching the nested CASE as expression objects costs more than running
        it)."""
        table_name = getattr(getattr(number, "table", None), "name", None)
        if isinstance(table_name, str) and isinstance(number.name, str):
            return literal_column(self._template.format(x=f"{table_name}.{number.name}"), Integer)
        shifted = number + 3
        weekdays = 5 * (shifted // 7) + case((shifted % 7 >= 4, 5), else_=shifted % 7 + 1)
        return weekdays + _search(number, self.steps)

    @functools.cached_property
    def _template(self) -> str:
        """The ordinal of a day number {x}, as SQL text (integers only)."""
        weekdays = (
            "(5 * (({x} + 3) / 7) + CASE WHEN ({x} + 3) % 7 >= 4 THEN 5 ELSE ({x} + 3) % 7 + 1 END)"
        )
        return f"({weekdays} + {_search_text(self.steps)})"


def _search_text(steps: tuple[tuple[int, int], ...]) -> str:
    if len(steps) == 1:
        return str(steps[0][1])
    middle = len(steps) // 2
    return (
        f"CASE WHEN {{x}} < {steps[middle][0]} THEN {_search_text(steps[:middle])} "
        f"ELSE {_search_text(steps[middle:])} END"
    )


def _search(number: ColumnElement, steps: tuple[tuple[int, int], ...]) -> ColumnElement:
    if len(steps) == 1:
        return literal(steps[0][1])
    middle = len(steps) // 2
    return case(
        (number < steps[middle][0], _search(number, steps[:middle])),
        else_=_search(number, steps[middle:]),
    )


def zone_minutes(zone: tzinfo) -> int:
    """The zone's offset from UTC in minutes, taken as fixed."""
    offset = zone.utcoffset(datetime(2026, 1, 1)) or timedelta(0)
    return int(offset.total_seconds() // 60)


def local_day_number(moment: ColumnElement, zone: tzinfo, dialect: str) -> ColumnElement:
    """The local calendar day of a UTC timestamp column, as days since 1970-01-01 (integer
    arithmetic on both backends). The zone's offset is taken as fixed (China has kept +08:00
    since 1991)."""
    minutes = zone_minutes(zone)
    if dialect == "sqlite":  # whole seconds: exact, where julianday()'s float is not
        seconds = cast(func.strftime("%s", moment), Integer) + minutes * 60
        return seconds // 86400
    local_date = cast(moment + literal(timedelta(minutes=minutes)), Date)
    return local_date - literal(EPOCH, Date)


def percentile(histogram: Mapping[int, int], share: float = 0.9) -> int | None:
    """Nearest-rank percentile of a {value: how many} histogram: the smallest value that at
    least `share` of the samples do not exceed."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank, seen = math.ceil(share * total), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)
