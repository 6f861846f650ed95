"""The delivery runner: sends due deliveries through their channels, in the workers.

A batch is claimed in one short transaction (jobs of kind "deliver", FOR UPDATE SKIP LOCKED on
PostgreSQL, the write lock on SQLite): each job is marked running under this worker's lease and
its message rendered. The sends happen outside any transaction, so no lock is held while a mail
server or robot answers. Each outcome is then written in its own transaction: the attempt in the
log, the delivery sent / retrying (exponential backoff) / dead, the job done or due again.
A worker that dies mid-send leaves its lease to expire; the delivery is then tried again, so a
message is delivered at least once and, barring such a crash, exactly once; its dedupe key goes
with it (Message-ID, X-Landflow-Delivery) for receivers that must drop a repeat."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.notify_tables import ChannelEndpoint, Delivery, DeliveryAttempt
from engine.db.tables import Job, User

from ..uow import UnitOfWork
from .catalogue import BY_CODE, CHANNEL_NAMES, DIGEST
from .message import Channel, DeliveryFailed, Message, Target
from .outbox import DELIVER_JOB

log = logging.getLogger(__name__)
RUNNING = "running"


class Rendered(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def html(self) -> str | None: ...
    @property
    def markdown(self) -> str | None: ...
    @property
    def link(self) -> str | None: ...


class Renderer(Protocol):
    def render(
        self,
        session: Session,
        event: str,
        channel: str,
        payload: dict[str, Any],
        recipient_name: str = "",
    ) -> Rendered: ...


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0
    lease_seconds: float = 300.0
    batch_size: int = 50

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(
            seconds=min(self.backoff_cap_seconds, self.backoff_seconds * 2 ** max(attempts - 1, 0))
        )


@dataclass(frozen=True)
class Claim:
    job_id: int
    delivery_id: int
    channel: str
    target: Target | None
    message: Message | None
    problem: str | None  # why it cannot be sent now (no channel configured, endpoint gone)
    retryable: bool = True


class DeliveryRunner:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        templates: Renderer,
        channels: dict[str, Channel],
        policy: DeliveryPolicy,
        worker_id: str,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.templates = templates
        self.channels = channels
        self.policy = policy
        self.worker_id = worker_id
        self.skip_locked = uow.engine.dialect.name == "postgresql"

    def run_due(self) -> int:
        """Send one batch of due deliveries; returns how many were tried."""
        claims = self._claim()
        for claim in claims:
            self._finish(claim, *self._send(claim))
        return len(claims)

    # ---- claim -------------------------------------------------------------------------
    def _claim(self) -> list[Claim]:
        with self.uow.write() as session:
            now = self.clock.now()
            query = (
                select(Job)
                .where(
                    Job.kind == DELIVER_JOB,
                    or_(
                        and_(Job.status == "pending", Job.due_at <= now),
                        and_(Job.status == RUNNING, Job.locked_until < now),
                    ),
                )
                .order_by(Job.due_at, Job.id)
                .limit(self.policy.batch_size)
            )
            if self.skip_locked:
                query = query.with_for_update(skip_locked=True)
            jobs = session.scalars(query).all()
            lease = now + timedelta(seconds=self.policy.lease_seconds)
            claims = []
            for job in jobs:
                delivery = session.get(Delivery, job.payload.get("delivery"))
                if delivery is None or delivery.status in ("sent", "dead"):
                    job.status, job.done_at = "done", now
                    continue
                job.status, job.locked_by, job.locked_until = RUNNING, self.worker_id, lease
                claims.append(self._prepare(session, job, delivery))
            return claims

    def _prepare(self, session: Session, job: Job, delivery: Delivery) -> Claim:
        def refused(problem: str, retryable: bool = True) -> Claim:
            return Claim(job.id, delivery.id, delivery.channel, None, None, problem, retryable)

        if delivery.channel not in self.channels:
            return refused(f"未配置{_channel_name(delivery.channel)}发送服务")
        if delivery.endpoint_id is not None or delivery.channel in ("dingtalk", "wecom", "webhook"):
            endpoint = (
                session.get(ChannelEndpoint, delivery.endpoint_id) if delivery.endpoint_id else None
            )
            if endpoint is None or not endpoint.enabled:
                return refused("接收端已删除或停用", retryable=False)
            secret = _secret(endpoint.secret)
            if endpoint.secret and secret is None:
                return refused(f"签名密钥所指的环境变量未设置：{endpoint.secret[4:]}")
            target = Target(endpoint.url, secret, endpoint.name)
            recipient_name = endpoint.name
        else:
            user = session.scalar(select(User).where(User.username == delivery.recipient))
            recipient_name = user.display_name if user else ""
            if not delivery.address:
                return refused("收件地址为空", retryable=False)
            target = Target(delivery.address, None, recipient_name)
        try:
            rendered = self.templates.render(
                session, delivery.event, delivery.channel, delivery.payload, recipient_name
            )
        except Exception as exc:  # templates are checked at start-up and on save; belt and braces
            log.exception("rendering delivery %s failed", delivery.id)
            return refused(f"消息模板出错：{exc}", retryable=False)
        event = BY_CODE.get(delivery.event)
        message = Message(
            delivery_id=delivery.id,
            dedupe_key=delivery.dedupe_key,
            event=delivery.event,
            event_name=event.name if event else ("每日汇总" if delivery.event == DIGEST else ""),
            title=rendered.title,
            text=rendered.text,
            html=rendered.html,
            markdown=rendered.markdown,
            link=rendered.link if rendered.link and "://" in rendered.link else None,
            data=delivery.payload,
            created_at=delivery.created_at,
        )
        return Claim(job.id, delivery.id, delivery.channel, target, message, None)

    # ---- send ----------------------------------------------------------------------------
    def _send(self, claim: Claim) -> tuple[str | None, bool, int]:
        """(error or None, retryable, milliseconds)."""
        if claim.problem is not None:
            return claim.problem, claim.retryable, 0
        assert claim.message is not None and claim.target is not None
        started = time.perf_counter()
        try:
            self.channels[claim.channel].send(claim.message, claim.target)
        except DeliveryFailed as exc:
            return str(exc), exc.retryable, _ms(started)
        except Exception as exc:  # a channel bug must not stop the batch
            log.exception("channel %s failed on delivery %s", claim.channel, claim.delivery_id)
            return f"{exc.__class__.__name__}: {exc}", True, _ms(started)
        return None, True, _ms(started)

    # ---- record --------------------------------------------------------------------------
    def _finish(self, claim: Claim, error: str | None, retryable: bool, elapsed: int) -> None:
        with self.uow.write() as session:
            now = self.clock.now()
            job = session.get(Job, claim.job_id, with_for_update=self.skip_locked or None)
            delivery = session.get(Delivery, claim.delivery_id)
            if delivery is None:
                return
            session.add(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    at=now,
                    ok=error is None,
                    error=error,
                    worker=self.worker_id,
                    duration_ms=elapsed,
                )
            )
            delivery.attempts += 1
            ours = job is not None and job.status == RUNNING and job.locked_by == self.worker_id
            if error is None:
                delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
                if job is not None:
                    job.status, job.done_at, job.locked_until = "done", now, None
                return
            delivery.last_error = error
            if not ours:
                return  # the lease ran out and another worker has it now
            assert job is not None
            if not retryable or delivery.attempts >= self.policy.max_attempts:
                delivery.status = "dead"
                job.status, job.done_at, job.locked_until = "failed", now, None
                job.last_error = error
                return
            due = now + self.policy.backoff(delivery.attempts)
            delivery.status, delivery.due_at = "retrying", due
            job.status, job.due_at, job.locked_by, job.locked_until = "pending", due, None, None
            job.attempts, job.last_error = delivery.attempts, error


def _secret(value: str | None) -> str | None:
    if value and value.startswith("env:"):
        return os.environ.get(value[4:])
    return value


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def due_deliveries(session: Session, now: datetime) -> int:
    """How many deliveries are due and waiting (for the admin console and health checks)."""
    return session.execute(
        select(func.count())
        .select_from(Job)
        .where(Job.kind == DELIVER_JOB, Job.status == "pending", Job.due_at <= now)
    ).scalar_one()
