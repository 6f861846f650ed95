"""APScheduler ticks that run due work, in the server process and in `landflow worker`: the
job runner (timers, SLA rungs, digests) and the delivery runner (notifications)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger(__name__)
Runner = Callable[[], int]  # runs what is due, returns how much it ran


def _tick(run: Runner) -> None:
    try:
        ran = run()
        if ran:
            log.info("%s ran %d due item(s)", getattr(run, "__qualname__", "runner"), ran)
    except Exception:
        log.exception("tick of %s failed", getattr(run, "__qualname__", "runner"))


def _configure(scheduler, runners: Sequence[Runner], interval: float) -> None:
    """One scheduled job per runner, so a slow mail server never holds back the timers."""
    for index, run in enumerate(runners):
        scheduler.add_job(
            _tick,
            "interval",
            args=[run],
            seconds=interval,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            id=f"landflow-runner-{index}",
        )


def background(runners: Sequence[Runner], interval: float) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": {"type": "threadpool", "max_workers": max(len(runners), 1)}},
    )
    _configure(scheduler, runners, interval)
    scheduler.start()
    return scheduler


def run_forever(runners: Sequence[Runner], interval: float) -> None:
    scheduler = BlockingScheduler(timezone=UTC)
    _configure(scheduler, runners, interval)
    scheduler.start()
