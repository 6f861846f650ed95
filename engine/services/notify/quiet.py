"""Quiet hours and digest times: plain arithmetic on local wall-clock times."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def parse_hhmm(value: str | None) -> time | None:
    if not value:
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def after_quiet_hours(
    now: datetime, start: str | None, end: str | None, zone: ZoneInfo
) -> datetime:
    """`now`, or the end of the quiet period `now` falls in (periods may pass midnight)."""
    quiet_from, quiet_to = parse_hhmm(start), parse_hhmm(end)
    if quiet_from is None or quiet_to is None or quiet_from == quiet_to:
        return now
    local = now.astimezone(zone)
    clock = local.time().replace(second=0, microsecond=0)
    if quiet_from < quiet_to:
        inside = quiet_from <= clock < quiet_to
        end_day = local.date()
    else:  # e.g. 22:00-07:30
        inside = clock >= quiet_from or clock < quiet_to
        end_day = local.date() + timedelta(days=1) if clock >= quiet_from else local.date()
    if not inside:
        return now
    return datetime.combine(end_day, quiet_to, tzinfo=zone).astimezone(now.tzinfo)


def next_local_time(now: datetime, at: str, zone: ZoneInfo) -> datetime:
    """The next moment after `now` whose local time is `at` ("08:30")."""
    wanted = parse_hhmm(at) or time(8, 30)
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), wanted, tzinfo=zone)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate.astimezone(now.tzinfo)
