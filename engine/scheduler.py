"""APScheduler ticks that run due jobs, in the server process and in `landflow worker`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.services.jobs import JobRunner

log = logging.getLogger(__name__)


def _tick(runner: JobRunner) -> None:
    try:
        ran = runner.run_due()
        if ran:
            log.info("ran %d due job(s)", ran)
    except Exception:
        log.exception("job tick failed")


def _configure(scheduler, runner: JobRunner, interval: float) -> None:
    scheduler.add_job(
        _tick,
        "interval",
        args=[runner],
        seconds=interval,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
        id="landflow-jobs",
    )


def background(runner: JobRunner, interval: float) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC)
    _configure(scheduler, runner, interval)
    scheduler.start()
    return scheduler


def run_forever(runner: JobRunner, interval: float) -> None:
    scheduler = BlockingScheduler(timezone=UTC)
    _configure(scheduler, runner, interval)
    scheduler.start()
