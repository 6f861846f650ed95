"""The escalation ladder of a clock, in plain Python: yellow as the deadline nears, red once it
has passed (the department head is told and the leadership-group office issues a blue 督办),
then further supervision orders a number of working days after the due day, each from an office
higher up. Each rung fires once, in order."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, tzinfo

from .calendar import WorkCalendar
from .sla import ClockState, after, local_day

YELLOW = "yellow"
RED = "red"


@dataclass(frozen=True)
class Rung:
    """A step of the ladder after red: `after_workdays` past the due day, a supervision order of
    `grade` from the leadership-group office `levels_up` levels above the department's."""

    name: str
    after_workdays: int
    grade: str
    levels_up: int


DEFAULT_LADDER = (Rung("red+3", 3, "orange", 1), Rung("red+10", 10, "red", 2))
RED_GRADE = "blue"  # the order issued when a clock turns red, by the department's own office


def rung_names(ladder: tuple[Rung, ...]) -> tuple[str, ...]:
    return (YELLOW, RED, *(r.name for r in ladder))


def step(ladder: tuple[Rung, ...], name: str) -> Rung | None:
    return next((r for r in ladder if r.name == name), None)


def pending_rungs(fired: Collection[str], ladder: tuple[Rung, ...]) -> list[str]:
    """The rungs still to fire, in order; yellow is skipped once red has fired."""
    return [
        rung
        for rung in rung_names(ladder)
        if rung not in fired and not (rung == YELLOW and RED in fired)
    ]


def rung_time(
    calendar: WorkCalendar,
    rung: str,
    due_at: datetime,
    yellow_at: datetime,
    ladder: tuple[Rung, ...],
    zone: tzinfo,
) -> datetime | None:
    """When a rung falls due; None for a rung the ladder does not know."""
    if rung == YELLOW:
        return yellow_at
    if rung == RED:
        return after(due_at)
    found = step(ladder, rung)
    if found is None:
        return None
    day = calendar.add_workdays(local_day(due_at, zone), found.after_workdays)
    return datetime.combine(day, datetime.min.time(), zone)


def light(now: datetime, due_at: datetime, yellow_at: datetime, fired: Collection[str]) -> str:
    """A running clock's light: it changes only when its rung has fired (the rung's job tells
    the people concerned at the same moment), and goes back when the deadline moved away."""
    if now > due_at and RED in fired:
        return ClockState.RED
    if now >= yellow_at and (YELLOW in fired or RED in fired):
        return ClockState.YELLOW
    return ClockState.NORMAL


def supervises(department: str | None) -> bool:
    """督办 is an instrument of the leadership-group offices over government departments and
    village bodies; an applicant's own step (申请人) gets reminders, never a supervision order."""
    return not (department or "").startswith("applicant.")
