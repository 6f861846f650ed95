"""Setting the engine clock by hand (tests and demos only, like Camunda's ClockUtil):
administrators, and only when LANDFLOW_ALLOW_CLOCK_OVERRIDE is on."""

from __future__ import annotations

from datetime import datetime

from engine.clock import SettableClock
from engine.errors import BadRequest, FeatureDisabled

from .access import Access
from .actor import Actor


def set_clock(
    access: Access, allowed: bool, clock: SettableClock, actor: Actor, now: datetime
) -> datetime:
    _check(access, allowed, actor)
    if now.tzinfo is None:
        raise BadRequest("请给出带时区的时间，如 2026-10-16T09:00:00+08:00")
    clock.set(now)
    return clock.now()


def release_clock(access: Access, allowed: bool, clock: SettableClock, actor: Actor) -> datetime:
    _check(access, allowed, actor)
    clock.release()
    return clock.now()


def _check(access: Access, allowed: bool, actor: Actor) -> None:
    access.require_admin(actor)
    if not allowed:
        raise FeatureDisabled("仅在开启 LANDFLOW_ALLOW_CLOCK_OVERRIDE 时可以设置时钟")
