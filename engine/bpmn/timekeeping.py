"""SpiffWorkflow's timers read `datetime.now()` from their own module; route that to our clock.

This is the single seam where the library's notion of time is replaced: while a workflow runs,
`running_on(clock)` makes Spiff's timer arithmetic use the engine's injectable clock, and naive
timer datetimes are read in the configured local time zone instead of the host's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from engine.clock import Clock, SystemClock

_SYSTEM_CLOCK = SystemClock()
_active_clock: ContextVar[Clock | None] = ContextVar("landflow_clock", default=None)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        moment = (_active_clock.get() or _SYSTEM_CLOCK).now()
        return moment.astimezone(tz) if tz else moment.astimezone(spiff_timer.LOCALTZ)


def install(local_timezone: str) -> None:
    spiff_timer.datetime = _ClockedDatetime
    spiff_timer.LOCALTZ = ZoneInfo(local_timezone)


@contextmanager
def running_on(clock: Clock) -> Iterator[None]:
    token = _active_clock.set(clock)
    try:
        yield
    finally:
        _active_clock.reset(token)


def parse_due(value: str) -> datetime:
    """A timer's stored event value (ISO datetime) as aware UTC."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=spiff_timer.LOCALTZ)
    return moment.astimezone(UTC)
