"""The light a task shows in a list and how many working days it has left (or is over)."""

from __future__ import annotations

from datetime import date

from .calendar import CalendarMissing, WorkCalendar
from .sla import ClockState

GREEN, YELLOW, RED, PAUSED, PROVISIONAL = "green", "yellow", "red", "paused", "provisional"
LIGHTS = (GREEN, YELLOW, RED, PAUSED, PROVISIONAL)

# the task's most urgent clock state (tasks.sla_state) → the light of the row
LIGHT_OF_STATE = {
    ClockState.NORMAL: GREEN,
    ClockState.YELLOW: YELLOW,
    ClockState.RED: RED,
    ClockState.CALENDAR_MISSING: YELLOW,
    ClockState.PAUSED: PAUSED,
}


def light(sla_state: str | None) -> str | None:
    return LIGHT_OF_STATE.get(sla_state or "")


def states_of(light_name: str) -> tuple[str, ...]:
    """The clock states a light stands for (none for 暂定, a flag of its own)."""
    return tuple(state for state, shown in LIGHT_OF_STATE.items() if shown == light_name)


def working_days_left(calendar: WorkCalendar, today: date, due_day: date) -> int | None:
    """Working days from today to the due day: positive while time is left (the due day
    counts, today does not), 0 when due today, negative when over (working days past the due
    day, today included). None when the calendar cannot tell."""
    try:
        if due_day >= today:
            return calendar.workdays_between(today, due_day)
        return -max(calendar.workdays_between(due_day, today), 1)
    except CalendarMissing:
        return None
