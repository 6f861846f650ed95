"""SLA clocks in plain Python: limits in working or calendar days, suspensions that stop the
clock, one extension, the yellow / red thresholds, and which clock of a task is most urgent.

A clock starts on a day S. With a limit of L working days, E extension days and U working days
suspended, the last day is the (L + E + U)-th working day after S, and the clock turns red after
24:00 of that day. Calendar-day limits count calendar days and end on the next working day if
the last day is a day off (民法典 §203). A deadline that reaches a year without official
calendar data is computed on the provisional calendar and marked provisional (暂定)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from .calendar import WorkCalendar, end_of_day

_LIMIT = re.compile(r"^\s*(\d{1,4})\s*(wd|d)\s*$")
_YELLOW = re.compile(r"^\s*(?:(\d{1,3})\s*(wd|d)|(\d{1,3})\s*%)\s*$")


class Unit:
    WORKDAYS = "wd"
    DAYS = "d"


UNIT_NAMES = {Unit.WORKDAYS: "个工作日", Unit.DAYS: "日"}


@dataclass(frozen=True)
class Limit:
    days: int
    unit: str

    def __str__(self) -> str:
        return f"{self.days}{self.unit}"

    def in_words(self) -> str:
        """The limit as a clerk reads it: 20个工作日, 30日."""
        return f"{self.days}{UNIT_NAMES.get(self.unit, self.unit)}"

    def approx_days(self) -> float:
        """Calendar days, for comparing limits of different units (5 working days ≈ 7 days)."""
        return self.days * 7 / 5 if self.unit == Unit.WORKDAYS else float(self.days)


def parse_limit(text: str) -> Limit:
    match = _LIMIT.match(text or "")
    if not match:
        raise ValueError(
            f"a time limit is written like '5wd' (working days) or '20d' (calendar "
            f"days), not '{text}'"
        )
    return Limit(int(match.group(1)), match.group(2))


def exceeds(committed: Limit, statutory: Limit) -> bool:
    """A committed limit (承诺时限) must not be longer than the statutory one (法定时限).
    Limits of one unit compare exactly; of different units by calendar-day length."""
    if committed.unit == statutory.unit:
        return committed.days > statutory.days
    return committed.approx_days() > statutory.approx_days()


@dataclass(frozen=True)
class YellowRule:
    days_left: int | None = None
    share_used: int | None = None  # percent

    @classmethod
    def parse(cls, text: str) -> YellowRule:
        match = _YELLOW.match(text or "")
        if not match:
            raise ValueError(
                f"a warning threshold is written like '1wd' (days left) or '80%' "
                f"(share used), not '{text}'"
            )
        if match.group(3):
            return cls(share_used=int(match.group(3)))
        return cls(days_left=int(match.group(1)))


class ClockState:
    NORMAL = "normal"
    YELLOW = "yellow"
    RED = "red"
    PAUSED = "paused"
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"
    CALENDAR_MISSING = "calendar_missing"  # no longer entered: clocks of older versions only

    RUNNING = frozenset({NORMAL, YELLOW, RED, CALENDAR_MISSING})
    OPEN = RUNNING | {PAUSED}
    # most urgent first: a task shows the most urgent state of its clocks
    URGENCY = (RED, CALENDAR_MISSING, YELLOW, PAUSED, NORMAL, MISSED, MET, CANCELLED)


def most_urgent(states: Iterable[str]) -> str:
    return min(states, key=ClockState.URGENCY.index)


@dataclass(frozen=True)
class Deadline:
    due_day: date
    due_at: datetime  # end of the due day, local time
    yellow_at: datetime  # start of the first yellow day, local time
    provisional: bool = False  # reaches a year without official calendar data


def deadline(
    calendar: WorkCalendar,
    start: date,
    limit: Limit,
    extension_days: int,
    suspended_days: int,
    yellow: YellowRule,
    zone: tzinfo,
) -> Deadline:
    """The due moment and the yellow moment of a clock; raises CalendarMissing only on a
    strict calendar."""
    total = limit.days + extension_days + suspended_days
    advance = calendar.add_workdays if limit.unit == Unit.WORKDAYS else calendar.add_days
    due_day = advance(start, total)
    allowed = limit.days + extension_days
    if yellow.share_used is not None:
        warn_after = math.ceil(allowed * yellow.share_used / 100)
    else:
        warn_after = max(allowed - (yellow.days_left or 0), 0)
    yellow_day = advance(start, min(warn_after + suspended_days, total)) if warn_after else start
    return Deadline(
        due_day,
        end_of_day(due_day, zone),
        datetime.combine(yellow_day, time.min, zone),
        provisional=bool(calendar.uncovered_years(start, due_day)),
    )


def suspended_length(calendar: WorkCalendar, unit: str, start: date, end: date) -> int:
    """How many days of the limit a suspension from `start` to `end` took away: the working
    (or calendar) days in (start, end]."""
    if unit == Unit.WORKDAYS:
        return calendar.workdays_between(start, end)
    return max((end - start).days, 0)


def state_at(moment: datetime, line: Deadline) -> str:
    if moment > line.due_at:
        return ClockState.RED
    if moment >= line.yellow_at:
        return ClockState.YELLOW
    return ClockState.NORMAL


def local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def after(moment: datetime) -> datetime:
    """The first instant after `moment` (red begins just after the due second)."""
    return moment + timedelta(seconds=1)
