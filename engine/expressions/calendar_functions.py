"""Working-day functions for diagrams: `workdays(n[, start])`, `days(n[, start])`,
`is_workday(day)` and a local `today()`. They return ISO datetimes at 24:00 (23:59:59) local
time of the period's last day, ready for a timer's timeDate.

The engine hands them the provisional calendar (CalendarService.current()): a year without the
State Council notice counts on the estimated holidays, so they never fail for a missing year
(the year is noted for the admin alert)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any

from engine.domain.calendar import WorkCalendar, end_of_day


def calendar_functions(
    now: Callable[[], datetime], calendar: Callable[[], WorkCalendar], zone: tzinfo
) -> dict[str, Callable[..., Any]]:
    def local_day(start: Any) -> date:
        if start is None:
            return now().astimezone(zone).date()
        if isinstance(start, datetime):
            return (start if start.tzinfo else start.replace(tzinfo=zone)).astimezone(zone).date()
        if isinstance(start, date):
            return start
        if isinstance(start, str):
            text = start.strip()
            if len(text) == 10:
                return date.fromisoformat(text)
            return local_day(datetime.fromisoformat(text))
        raise TypeError(f"expected a date, datetime or ISO string, got {type(start).__name__}")

    def workdays(count: int, start: Any = None) -> str:
        return end_of_day(calendar().add_workdays(local_day(start), int(count)), zone).isoformat()

    def days(count: int, start: Any = None) -> str:
        return end_of_day(calendar().add_days(local_day(start), int(count)), zone).isoformat()

    def is_workday(day: Any = None) -> bool:
        return calendar().is_workday(local_day(day))

    def today() -> date:
        return local_day(None)

    return {"workdays": workdays, "days": days, "is_workday": is_workday, "today": today}
