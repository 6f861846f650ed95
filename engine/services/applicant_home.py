"""An applicant's plain view of their cases: where each stands (the open step and its
department), until when, what they must do next (their own open step, a 补正 notice with the
missing materials) and the decision once the case is finished."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from engine.bpmn import InstanceStatus, case_outcome
from engine.db.tables import HumanTask, Instance, SlaClock, SlaSuspension
from engine.domain.sla import ClockState

from .access import Access
from .actor import Actor
from .instances import InstanceService
from .recorder import TaskState
from .sla_law import SUPPLEMENT
from .uow import UnitOfWork

LIMIT = 100

# data fields in which the processes record why a case was refused or failed
REASONS = ("decision_failure_reason", "refusal_reason", "precheck_reasons")


class ApplicantHome:
    def __init__(self, uow: UnitOfWork, access: Access, instances: InstanceService) -> None:
        self.uow = uow
        self.access = access
        self.instances = instances

    def cases(self, actor: Actor) -> list[dict[str, Any]]:
        with self.uow.read() as session:
            active_first = case((Instance.status.in_(InstanceStatus.ACTIVE), 0), else_=1)
            rows = session.scalars(
                self.access.visible_instances(session, actor)
                .order_by(active_first, Instance.created_at.desc(), Instance.id)
                .limit(LIMIT)
            ).all()
            ids = [row.id for row in rows]
            steps = _open_steps(session, ids)
            dues = _case_dues(session, ids)
            notices = _supplement_notices(session, ids)
            return [
                {
                    "id": row.id,
                    "case_no": row.case_no,
                    "title": row.title,
                    "process_id": row.process_id,
                    "region": row.region,
                    "status": row.status,
                    "created_at": _iso(row.created_at),
                    "ended_at": _iso(row.ended_at),
                    "open_steps": [
                        {**step, "mine": step["department"] in actor.departments}
                        for step in steps.get(row.id, [])
                    ],
                    **_due(dues.get(row.id), steps.get(row.id, [])),
                    "supplement": notices.get(row.id),
                    "decision": self._decision(session, row)
                    if row.status == InstanceStatus.COMPLETED
                    else None,
                }
                for row in rows
            ]

    def _decision(self, session: Session, instance: Instance) -> dict[str, str]:
        """How a finished case ended (the end events its process reached), with the reason
        when the process records one."""
        reached = case_outcome(self.instances.restore(session, instance))
        data = instance.data or {}
        reason = next((data[key] for key in REASONS if data.get(key)), None)
        if isinstance(reason, list):
            reason = "；".join(str(item) for item in reason)
        return {"text": "、".join(reached) or "已办结", "reason": str(reason) if reason else ""}


def _due(case_due: datetime | None, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Until when: the case-wide time limit, or else the earliest due open step."""
    if case_due is not None:
        return {"due_at": _iso(case_due), "due_kind": "case"}
    step_due = min((s["due_at"] for s in steps if s["due_at"]), default=None)
    return {"due_at": step_due, "due_kind": "step" if step_due else None}


def _open_steps(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    steps: dict[str, list[dict[str, Any]]] = {}
    for task in session.scalars(
        select(HumanTask)
        .where(HumanTask.instance_id.in_(ids), HumanTask.state == TaskState.OPEN)
        .order_by(HumanTask.created_at, HumanTask.id)
    ):
        steps.setdefault(task.instance_id, []).append(
            {
                "id": task.id,
                "title": task.title,
                "department": task.department,
                "due_at": _iso(task.due_at),
                "paused": task.sla_state == ClockState.PAUSED,
            }
        )
    return steps


def _case_dues(session: Session, ids: list[str]) -> dict[str, datetime | None]:
    """The due moment of each case's case-wide clock, while it runs."""
    return {
        instance_id: due
        for instance_id, due in session.execute(
            select(SlaClock.instance_id, SlaClock.due_at).where(
                SlaClock.instance_id.in_(ids),
                SlaClock.task_id.is_(None),
                SlaClock.state.in_(ClockState.OPEN),
                SlaClock.due_at.is_not(None),
            )
        )
    }


def _supplement_notices(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The open 补正 of each case: the missing materials, why, since when, who asked."""
    notices: dict[str, dict[str, Any]] = {}
    for suspension, clock in session.execute(
        select(SlaSuspension, SlaClock)
        .join(SlaClock, SlaClock.id == SlaSuspension.clock_id)
        .where(
            SlaClock.instance_id.in_(ids),
            SlaSuspension.reason_type == SUPPLEMENT,
            SlaSuspension.ended_at.is_(None),
        )
        .order_by(SlaSuspension.id)
    ):
        notices.setdefault(
            clock.instance_id,
            {
                "missing_items": [str(i) for i in suspension.missing_items or [] if str(i).strip()],
                "reason": suspension.reason,
                "since": _iso(suspension.started_at),
                "department": clock.department,
            },
        )
    return notices


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None
