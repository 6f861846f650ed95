"""The events of task and case commands, written to the outbox inside the command's
transaction: a new task in a department's queue, a step sent back, handed over or delegated,
a case's clocks suspended or resumed, a finished case, a new incident. Every emission names its
occurrence (`key`), so writing it twice delivers nothing twice; the actor is never told of what
they did themselves."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.db.tables import HumanTask, Incident, Instance

from .actor import Actor
from .notify.audience import admins, applicants, queue_watchers, step_holders
from .notify.outbox import Outbox
from .recorder import Recorded


def announce(
    outbox: Outbox,
    session: Session,
    instance: Instance,
    recorded: Recorded,
    actor: Actor,
    now: datetime,
    quiet: Collection[str] = (),
) -> None:
    """Tell people what record_execution changed; `quiet` tasks are announced by the caller
    (a returned step goes to its earlier handler, not to the queue)."""
    for task in recorded.opened:
        if task.id not in quiet and task.department is not None:
            task_queued(outbox, session, task, actor, now)
    if recorded.outcome is not None:
        case_completed(outbox, session, instance, recorded.outcome, actor, now)
    if recorded.incident is not None:
        incident_opened(outbox, session, instance, recorded.incident, actor, now)


def task_queued(
    outbox: Outbox, session: Session, task: HumanTask, actor: Actor, now: datetime
) -> None:
    """A new open task in a department's 待认领 queue: whoever may claim it, and the
    department's robots."""
    outbox.emit(
        session,
        "task_queued",
        _others(queue_watchers(session, task.department, now.date()), actor),
        now,
        task=task,
        department=task.department,
        key=f"task_queued:{task.id}:{task.created_at.isoformat()}",
    )


def task_returned(
    outbox: Outbox,
    session: Session,
    returning: HumanTask,
    reopened: HumanTask,
    actor: Actor,
    reason: str,
    now: datetime,
) -> None:
    """退回: the earlier handler the reopened step went back to, or its department's queue."""
    recipients = (
        [reopened.assignee]
        if reopened.assignee
        else queue_watchers(session, reopened.department, now.date())
    )
    outbox.emit(
        session,
        "task_returned",
        _others(recipients, actor),
        now,
        task=reopened,
        payload={"by_name": actor.display_name, "reason": reason, "from_title": returning.title},
        key=f"task_returned:{reopened.id}:{now.isoformat()}",
    )


def task_handed(
    outbox: Outbox,
    session: Session,
    code: str,
    task: HumanTask,
    receiver: str,
    actor: Actor,
    now: datetime,
) -> None:
    """转办 (task_transferred) or 委托 (task_delegated): the colleague who receives the task."""
    outbox.emit(
        session,
        code,
        _others([receiver], actor),
        now,
        task=task,
        payload={"by_name": actor.display_name, "reason": ""},
        key=f"{code}:{task.id}:{now.isoformat()}",
    )


def case_paused(
    outbox: Outbox,
    session: Session,
    code: str,
    task: HumanTask,
    actor: Actor,
    now: datetime,
    payload: dict[str, Any],
) -> None:
    """中止计时 (case_suspended) or 恢复计时 (case_resumed): whoever works on the case's open
    steps, or the queues of the unclaimed ones."""
    outbox.emit(
        session,
        code,
        _others(step_holders(session, task.instance_id, now.date()), actor),
        now,
        task=task,
        payload={"by_name": actor.display_name, **payload},
        key=f"{code}:{task.id}:{now.isoformat()}",
    )


def case_completed(
    outbox: Outbox,
    session: Session,
    instance: Instance,
    outcome: tuple[str, ...],
    actor: Actor,
    now: datetime,
) -> None:
    """办结: the applicant, with the end the case reached (e.g. 决议生效) when it has a name."""
    outbox.emit(
        session,
        "case_completed",
        _others(applicants(session, instance), actor),
        now,
        instance_id=instance.id,
        payload={"result": "、".join(outcome)} if outcome else None,
        key=f"case_completed:{instance.id}",
    )


def incident_opened(
    outbox: Outbox,
    session: Session,
    instance: Instance,
    incident: Incident,
    actor: Actor,
    now: datetime,
) -> None:
    """A step failed: the administrators, once per incident (a failing retry is no news)."""
    outbox.emit(
        session,
        "incident_opened",
        _others(admins(session), actor),
        now,
        instance_id=instance.id,
        payload={
            "incident_id": incident.id,
            "element_name": incident.element_name or incident.element_id or "",
            "message": incident.message,
        },
        key=f"incident_opened:{incident.id}",
    )


def _others(people: Iterable[str], actor: Actor) -> list[str]:
    return sorted({p for p in people if p and p != actor.username})
