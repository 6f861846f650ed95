"""Who the time-limit machinery tells, and the outbox rows it writes for them (delivered by the
notification sender)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import Department, HumanTask, Membership, Notification, User


def members(session: Session, department: str | None, *roles: str) -> list[str]:
    """Active users holding one of `roles` in `department`, sorted."""
    if not department:
        return []
    return sorted(
        set(
            session.scalars(
                select(User.username)
                .join(Membership, Membership.user_id == User.id)
                .join(Department, Department.id == Membership.department_id)
                .where(Department.code == department, Membership.role.in_(roles), User.is_active)
            )
        )
    )


def admins(session: Session) -> list[str]:
    return list(session.scalars(select(User.username).where(User.is_admin, User.is_active)))


def notify(
    session: Session,
    recipient: str,
    template: str,
    task: HumanTask | None,
    payload: dict[str, Any],
    now: datetime,
    instance_id: str | None = None,
) -> None:
    if task is not None:
        payload = {"task": task.title, "department": task.department, **payload}
    session.add(
        Notification(
            recipient=recipient,
            template=template,
            payload=payload,
            instance_id=instance_id or (task.instance_id if task else None),
            task_id=task.id if task else None,
            status="pending",
            created_at=now,
        )
    )
