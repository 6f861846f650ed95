"""Writing events: `emit` adds, inside the caller's transaction, one in-app notification per
recipient and one delivery (with its job) per other channel the recipient wants, plus one per
department robot that carries the event. Nothing is sent here; the workers send."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.notify_tables import (
    ChannelEndpoint,
    Delivery,
    NotificationPreference,
    NotificationSettings,
)
from engine.db.tables import (
    Department,
    HumanTask,
    Instance,
    Job,
    Notification,
    ProcessVersion,
    Region,
    User,
)

from .catalogue import BY_CODE, EMAIL, GROUP_CHANNELS, SMS, Event
from .quiet import after_quiet_hours, next_local_time

DELIVER_JOB = "deliver"
DIGEST_JOB = "digest"
AWAITING_DIGEST = "digest"  # Notification.status of an item the next digest mail carries


@dataclass(frozen=True)
class Outbox:
    """What `emit` needs besides the session: the zone quiet hours and digests are read in."""

    zone: ZoneInfo

    def emit(
        self,
        session: Session,
        code: str,
        recipients: Iterable[str],
        now: datetime,
        *,
        task: HumanTask | None = None,
        instance_id: str | None = None,
        department: str | None = None,
        payload: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> list[Notification]:
        """Record event `code` for `recipients` (usernames); `department` also reaches that
        department's robots when the event goes to groups. `key` names this occurrence of the
        event (e.g. "sla_red:<clock id>"): emitting the same key again delivers nothing twice."""
        event = BY_CODE[code]
        instance_id = instance_id or (task.instance_id if task else None)
        department = department or (task.department if task else None)
        content = {**_context(session, task, instance_id, department), **(payload or {})}
        occurrence = key or f"{code}:{task.id if task else instance_id or ''}:{now.isoformat()}"
        users = _recipients(session, sorted(set(recipients)))
        rows: list[Notification] = []
        for user in users:
            row = Notification(
                recipient=user.username,
                template=code,
                payload=content,
                instance_id=instance_id,
                task_id=task.id if task else None,
                status="pending",
                created_at=now,
            )
            session.add(row)
            rows.append(row)
        session.flush()
        choices = _choices(session, [u.id for u in users], code)
        settings = _settings(session, [u.id for u in users])
        for user, row in zip(users, rows, strict=True):
            personal = settings.get(user.id)
            for channel, address in ((EMAIL, user.email), (SMS, user.phone)):
                if not choices.get((user.id, channel), channel in event.defaults) or not address:
                    continue
                if channel == EMAIL and personal is not None and personal.digest:
                    row.status = AWAITING_DIGEST
                    self._arm_digest(session, user.username, personal.digest_time, now)
                    continue
                due = now
                if personal is not None:
                    start, end = personal.quiet_start, personal.quiet_end
                    due = after_quiet_hours(now, start, end, self.zone)
                add_delivery(
                    session,
                    dedupe_key(occurrence, user.username, channel),
                    event.code,
                    channel,
                    user.username,
                    content,
                    now,
                    due,
                    notification_id=row.id,
                    address=address,
                )
        if event.to_groups and department:
            self._to_groups(session, event, department, content, occurrence, now)
        return rows

    def _to_groups(
        self,
        session: Session,
        event: Event,
        department: str,
        content: dict[str, Any],
        occurrence: str,
        now: datetime,
    ) -> None:
        endpoints = session.scalars(
            select(ChannelEndpoint).where(
                ChannelEndpoint.department == department,
                ChannelEndpoint.enabled,
                ChannelEndpoint.kind.in_(GROUP_CHANNELS),
            )
        ).all()
        for endpoint in endpoints:
            if endpoint.events is not None and event.code not in endpoint.events:
                continue
            add_delivery(
                session,
                dedupe_key(occurrence, f"endpoint:{endpoint.id}", endpoint.kind),
                event.code,
                endpoint.kind,
                f"dept:{department}",
                content,
                now,
                now,
                endpoint_id=endpoint.id,
            )

    def _arm_digest(self, session: Session, username: str, at: str, now: datetime) -> None:
        target = f"digest:{username}"
        job = session.scalar(select(Job).where(Job.kind == DIGEST_JOB, Job.target == target))
        if job is not None and job.status == "pending":
            return
        due = next_local_time(now, at, self.zone)
        if job is None:
            session.add(
                Job(
                    kind=DIGEST_JOB,
                    instance_id=None,
                    target=target,
                    due_at=due,
                    status="pending",
                    attempts=0,
                    payload={"user": username},
                    created_at=now,
                )
            )
        else:
            job.status, job.due_at, job.attempts, job.done_at = "pending", due, 0, None


def add_delivery(
    session: Session,
    key: str,
    event: str,
    channel: str,
    recipient: str,
    payload: dict[str, Any],
    now: datetime,
    due: datetime,
    notification_id: int | None = None,
    endpoint_id: int | None = None,
    address: str | None = None,
) -> Delivery | None:
    """One delivery and the job that sends it, unless this dedupe key was queued before."""
    if session.scalar(select(Delivery.id).where(Delivery.dedupe_key == key)) is not None:
        return None
    delivery = Delivery(
        dedupe_key=key,
        notification_id=notification_id,
        event=event,
        channel=channel,
        recipient=recipient,
        endpoint_id=endpoint_id,
        address=address,
        payload=payload,
        status="pending",
        attempts=0,
        created_at=now,
        due_at=due,
    )
    session.add(delivery)
    session.flush()
    session.add(
        Job(
            kind=DELIVER_JOB,
            instance_id=None,
            target=f"delivery:{delivery.id}",
            due_at=due,
            status="pending",
            attempts=0,
            payload={"delivery": delivery.id},
            created_at=now,
        )
    )
    return delivery


def dedupe_key(occurrence: str, recipient: str, channel: str) -> str:
    key = f"{occurrence}|{recipient}|{channel}"
    if len(key) <= 200:
        return key
    return f"{key[:130]}#{hashlib.sha256(key.encode()).hexdigest()}"


def _recipients(session: Session, usernames: list[str]) -> list[User]:
    if not usernames:
        return []
    users = session.scalars(
        select(User).where(User.username.in_(usernames), User.is_active).order_by(User.username)
    ).all()
    return list(users)


def _choices(session: Session, user_ids: list[int], code: str) -> dict[tuple[int, str], bool]:
    if not user_ids:
        return {}
    rows = session.scalars(
        select(NotificationPreference).where(
            NotificationPreference.user_id.in_(user_ids), NotificationPreference.event == code
        )
    )
    return {(row.user_id, row.channel): row.enabled for row in rows}


def _settings(session: Session, user_ids: list[int]) -> dict[int, NotificationSettings]:
    if not user_ids:
        return {}
    rows = session.scalars(
        select(NotificationSettings).where(NotificationSettings.user_id.in_(user_ids))
    )
    return {row.user_id: row for row in rows}


def _context(
    session: Session, task: HumanTask | None, instance_id: str | None, department: str | None
) -> dict[str, Any]:
    """Names a message needs, read now so the message keeps them as they were."""
    content: dict[str, Any] = {}
    if task is not None:
        content.update(task=task.title, task_id=task.id, department=task.department)
    if department:
        content["department"] = department
        content["department_name"] = (
            session.scalar(select(Department.name).where(Department.code == department))
            or department
        )
    if instance_id:
        case = session.execute(
            select(
                Instance.id,
                Instance.case_no,
                Instance.title,
                Instance.region_path,
                ProcessVersion.name,
            )
            .join(ProcessVersion, ProcessVersion.id == Instance.process_version_id)
            .where(Instance.id == instance_id)
        ).first()
        if case is not None:
            content.update(
                instance_id=case.id,
                case_no=case.case_no or "",
                case_title=case.title or "",
                process_name=case.name,
                region_name=_region_name(session, case.region_path),
            )
    return content


def _region_name(session: Session, path: str) -> str:
    """e.g. 金华市婺城区白龙桥镇古方村 (the province left out, as the pages show it)."""
    codes = path.strip("/").split("/")[1:]
    if not codes:
        return ""
    rows = session.execute(select(Region.code, Region.name).where(Region.code.in_(codes)))
    names = {code: name for code, name in rows}
    return "".join(names.get(code, code) for code in codes)
