"""Reads the task commands share: a person's name for a message, a department's members a
task can be handed to, and the steps a completion opened (已提交，流转至…)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import Department, HistoryEntry, HumanTask, Membership, User

from .recorder import TaskState


def person(session: Session, username: str | None) -> str:
    """A user's display name, for messages (never the username)."""
    name = session.scalar(select(User.display_name).where(User.username == username))
    return name or "他人"


def department_name(session: Session, code: str | None) -> str:
    name = session.scalar(select(Department.name).where(Department.code == code))
    return name or "本部门"


def members(session: Session, department: str | None, leaving_out: str) -> list[dict[str, str]]:
    """The active members of a department, by name, but `leaving_out` (who hands over)."""
    rows = session.execute(
        select(User.username, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .join(Department, Department.id == Membership.department_id)
        .where(Department.code == department, Department.is_active, User.is_active)
        .where(User.username != leaving_out)
        .distinct()
        .order_by(User.username)
    )
    return [{"username": username, "name": name} for username, name in rows]


def open_task_ids(session: Session, instance_id: str) -> list[str]:
    return list(
        session.scalars(
            select(HumanTask.id)
            .where(HumanTask.instance_id == instance_id, HumanTask.state == TaskState.OPEN)
            .order_by(HumanTask.created_at, HumanTask.id)
        )
    )


def record_next_steps(session: Session, task: HumanTask, opened: list[str]) -> None:
    """Name the steps a completion opened in its history entry, in the same command."""
    entry = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.task_id == task.id, HistoryEntry.action == "task_completed")
        .order_by(HistoryEntry.id.desc())
    ).first()
    if entry is None:
        return
    rows = [session.get_one(HumanTask, task_id) for task_id in opened]
    entry.details = {
        **entry.details,
        "next": [{"task_id": r.id, "title": r.title, "department": r.department} for r in rows],
    }
