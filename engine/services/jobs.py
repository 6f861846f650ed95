"""The job runner: fires due jobs (timers, SLA rungs, digests). Deliveries ("deliver" jobs) are
sent by engine.services.notify.deliveries, which holds no transaction while it sends.

Jobs are claimed a batch at a time, in one transaction that also holds the job rows: on
PostgreSQL they are taken with FOR UPDATE SKIP LOCKED so parallel workers never run one job
twice, on SQLite the write lock serializes workers. Each job runs in a savepoint, so a failing
job is rolled back and retried alone; a crash rolls the batch back and it is picked up again.
A transaction stops taking jobs after TRANSACTION_SECONDS (on SQLite it holds the one write
lock), and a tick keeps claiming batches while they find work, for up to TICK_SECONDS: a backlog
drains at once instead of one batch per tick. Both budgets measure elapsed processing time, not
the (injectable, possibly moved) time of day."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from engine.bpmn import InstanceStatus
from engine.clock import Clock
from engine.db.tables import Instance, Job

from .actor import SYSTEM
from .instances import InstanceService
from .notify.outbox import DELIVER_JOB
from .recorder import TIMER_JOB, record_history
from .sla import SLA_JOB
from .uow import UnitOfWork

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
TRANSACTION_SECONDS = 0.25
TICK_SECONDS = 5.0
HELD = "held"
JobHandler = Callable[[Session, Job], None]


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        instances: InstanceService,
        batch_size: int = 50,
        worker_id: str | None = None,
        handlers: dict[str, JobHandler] | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.instances = instances
        self.batch_size = batch_size
        self.worker_id = worker_id or default_worker_id()
        self.skip_locked = uow.engine.dialect.name == "postgresql"
        self.handlers: dict[str, JobHandler] = {
            TIMER_JOB: self._fire_timer,
            SLA_JOB: lambda session, job: instances.sla.fire(session, job, self.worker_id),
            **(handlers or {}),
        }

    def run_due(self) -> int:
        """Run due jobs, a batch per transaction, until a batch finds nothing to run or the
        tick's time is spent; returns how many ran. A job that makes another job due at once (an
        SLA rung passed long ago, a 督办 raised by a red rung) is run in the same tick."""
        ran, began = 0, time.monotonic()
        while True:
            done = self._run_batch()
            ran += done
            if not done or time.monotonic() - began > TICK_SECONDS:
                return ran

    def _run_batch(self) -> int:
        """Claim up to batch_size due jobs and run them; how many ran."""
        with self.uow.write() as session:
            began, now = time.monotonic(), self.clock.now()
            query = (
                select(Job)
                .where(Job.status == "pending", Job.due_at <= now, Job.kind != DELIVER_JOB)
                .order_by(Job.due_at, Job.id)
                .limit(self.batch_size)
            )
            if self.skip_locked:
                query = query.with_for_update(skip_locked=True)
            jobs = session.scalars(query).all()
            ran = 0
            for job in jobs:
                if ran and time.monotonic() - began > TRANSACTION_SECONDS:
                    return ran  # the rest stay pending for the next transaction
                if _gone(job) or job.status != "pending" or job.due_at > now:
                    continue  # an earlier job of the batch settled it (a case's other timer)
                self._run(session, job, now)
                ran += 1
            return ran

    def _run(self, session: Session, job: Job, now) -> None:
        handler = self.handlers.get(job.kind)
        try:
            with session.begin_nested():
                if handler is None:
                    raise LookupError(f"no handler for job kind '{job.kind}'")
                handler(session, job)
        except Exception as exc:  # a failing job must not stop the others
            log.exception("job %s (%s) failed", job.id, job.kind)
            job.attempts += 1
            job.last_error = f"{exc.__class__.__name__}: {exc}"
            job.locked_by = self.worker_id
            if job.attempts >= MAX_ATTEMPTS:
                job.status = "failed"
            else:
                job.due_at = now + timedelta(seconds=30 * 2**job.attempts)
            return
        if not _gone(job) and job.status == "pending" and job.due_at <= now:
            job.status, job.done_at, job.locked_by = "done", now, self.worker_id

    def _fire_timer(self, session: Session, job: Job) -> None:
        instance = session.get(Instance, job.instance_id)
        if instance is None or instance.status not in InstanceStatus.ACTIVE:
            session.delete(job)
            return
        if instance.status == InstanceStatus.ERROR:
            job.status = HELD  # released when the incident is resolved and the case moves on
            return
        execution = self.instances.restore(session, instance)
        execution.fire_due_timers()
        now = self.clock.now()
        record_history(
            session,
            instance.id,
            now,
            SYSTEM,
            "timer_fired",
            task_id=job.target,
            timer=job.payload.get("name"),
            due_at=job.due_at.isoformat(),
            worker=self.worker_id,
        )
        self.instances.save(session, instance, execution, SYSTEM)
        session.flush()


def _gone(job: Job) -> bool:
    state = inspect(job)
    marked = state.session is not None and job in state.session.deleted
    return marked or state.deleted or state.was_deleted or state.detached
