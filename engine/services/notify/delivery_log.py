"""The delivery log for administrators: every delivery with its attempts, filtered, and replay
(send again now) of dead or any chosen deliveries. Replays go through the workers as well."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.notify_tables import ChannelEndpoint, Delivery, DeliveryAttempt
from engine.db.tables import Job
from engine.errors import NotFound

from ..access import Access
from ..actor import Actor
from ..uow import UnitOfWork
from .catalogue import BY_CODE, CHANNEL_NAMES, DIGEST
from .outbox import DELIVER_JOB

STATUSES = {"pending": "待发送", "retrying": "重试中", "sent": "已发送", "dead": "发送失败"}
PAGE = 50


@dataclass(frozen=True)
class LogFilter:
    status: str | None = None
    channel: str | None = None
    event: str | None = None
    recipient: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1


class DeliveryLog:
    def __init__(self, uow: UnitOfWork, clock: Clock, access: Access) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access

    def list(self, actor: Actor, where: LogFilter) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            query = select(Delivery)
            if where.status:
                query = query.where(Delivery.status == where.status)
            if where.channel:
                query = query.where(Delivery.channel == where.channel)
            if where.event:
                query = query.where(Delivery.event == where.event)
            if where.recipient:
                query = query.where(Delivery.recipient.contains(where.recipient))
            if where.since:
                query = query.where(Delivery.created_at >= where.since)
            if where.until:
                query = query.where(Delivery.created_at < where.until)
            total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            page = max(where.page, 1)
            rows = session.scalars(
                query.order_by(Delivery.created_at.desc(), Delivery.id.desc())
                .limit(PAGE)
                .offset((page - 1) * PAGE)
            ).all()
            by_status = session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            )
            counts = {status: count for status, count in by_status}
            endpoints = _endpoint_names(session, {r.endpoint_id for r in rows if r.endpoint_id})
            items = [_row(r, endpoints) for r in rows]
        return {
            "items": items,
            "total": total,
            "page": page,
            "pages": max((total + PAGE - 1) // PAGE, 1),
            "counts": {s: counts.get(s, 0) for s in STATUSES},
        }

    def get(self, actor: Actor, delivery_id: int) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None:
                raise NotFound("没有这条发送记录")
            attempts = session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(DeliveryAttempt.at, DeliveryAttempt.id)
            ).all()
            endpoints = _endpoint_names(session, {delivery.endpoint_id} - {None})
            return {
                **_row(delivery, endpoints),
                "payload": delivery.payload,
                "attempt_log": [
                    {
                        "at": a.at.isoformat(),
                        "ok": a.ok,
                        "error": a.error,
                        "worker": a.worker,
                        "duration_ms": a.duration_ms,
                    }
                    for a in attempts
                ],
            }

    def replay(self, actor: Actor, ids: builtins.list[int]) -> int:
        """Queue the deliveries again, due now; returns how many were queued."""
        self.access.require_admin(actor)
        with self.uow.write() as session:
            now = self.clock.now()
            queued = 0
            for delivery in session.scalars(select(Delivery).where(Delivery.id.in_(ids))):
                delivery.status, delivery.due_at, delivery.last_error = "pending", now, None
                job = session.scalar(
                    select(Job).where(
                        Job.kind == DELIVER_JOB, Job.target == f"delivery:{delivery.id}"
                    )
                )
                if job is None:
                    job = Job(
                        kind=DELIVER_JOB,
                        instance_id=None,
                        target=f"delivery:{delivery.id}",
                        payload={"delivery": delivery.id},
                        created_at=now,
                    )
                    session.add(job)
                job.status, job.due_at, job.attempts = "pending", now, 0
                job.locked_by = job.locked_until = job.done_at = None
                job.last_error = f"replayed by {actor.username}"
                queued += 1
            return queued


def _endpoint_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(ChannelEndpoint.id, ChannelEndpoint.name).where(ChannelEndpoint.id.in_(ids))
    )
    return {endpoint_id: name for endpoint_id, name in rows}


def _row(delivery: Delivery, endpoints: dict[int, str]) -> dict[str, Any]:
    event = BY_CODE.get(delivery.event)
    return {
        "id": delivery.id,
        "event": delivery.event,
        "event_name": event.name if event else ("每日汇总" if delivery.event == DIGEST else ""),
        "channel": delivery.channel,
        "channel_name": CHANNEL_NAMES.get(delivery.channel, delivery.channel),
        "recipient": delivery.recipient,
        "endpoint_name": endpoints.get(delivery.endpoint_id) if delivery.endpoint_id else None,
        "address": delivery.address,
        "status": delivery.status,
        "status_name": STATUSES.get(delivery.status, delivery.status),
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "dedupe_key": delivery.dedupe_key,
        "case_no": (delivery.payload or {}).get("case_no"),
        "created_at": delivery.created_at.isoformat(),
        "due_at": delivery.due_at.isoformat(),
        "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
    }
