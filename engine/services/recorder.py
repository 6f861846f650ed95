"""After every command: write what the execution now is into the task, job, wait and history
tables, inside the command's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.bpmn import Execution, InstanceStatus, StepFailure, case_outcome
from engine.bpmn.waits import SpecWaits
from engine.db.tables import HistoryEntry, HumanTask, Incident, Instance, Job, MessageWait

from .actor import Actor
from .routing import route

TIMER_JOB = "timer"


class TaskState:
    OPEN = "open"
    DONE = "done"
    RETURNED = "returned"  # sent back (退回) to an earlier step
    CANCELLED = "cancelled"


class IncidentStatus:
    OPEN = "open"
    RESOLVED = "resolved"
    STEP_CANCELLED = "cancelled"


def record_history(
    session: Session,
    instance_id: str,
    at: datetime,
    actor: Actor,
    action: str,
    task_id: str | None = None,
    on_behalf_of: str | None = None,
    **details: Any,
) -> HistoryEntry:
    entry = HistoryEntry(
        instance_id=instance_id,
        task_id=task_id,
        at=at,
        actor=actor.username,
        on_behalf_of=on_behalf_of if on_behalf_of != actor.username else None,
        action=action,
        details=details,
    )
    session.add(entry)
    return entry


class ClockHooks(Protocol):
    """What the recorder tells the SLA clocks (engine.services.sla.SlaService)."""

    def start_task_clocks(self, session: Session, task: HumanTask, now: datetime) -> None: ...

    def stop_task_clocks(
        self, session: Session, task: HumanTask, now: datetime, completed: bool
    ) -> None: ...

    def stop_case_clocks(
        self, session: Session, instance_id: str, now: datetime, completed: bool
    ) -> None: ...


@dataclass
class Recorded:
    """What a command changed that people are told about (engine.services.case_notices)."""

    opened: list[HumanTask] = field(default_factory=list)  # tasks that opened
    outcome: tuple[str, ...] | None = None  # the end events reached, when the case completed
    incident: Incident | None = None  # an incident this command opened (not a repeat)


def record_execution(
    session: Session,
    instance: Instance,
    execution: Execution,
    actor: Actor,
    now: datetime,
    lanes: dict[str, Any],
    clocks: ClockHooks,
    waits: SpecWaits | None = None,
) -> Recorded:
    """`waits`: what the version can wait for; a kind it cannot is not synced (None: all)."""
    previous_status = instance.status
    recorded = Recorded(opened=_sync_tasks(session, instance, execution, actor, now, lanes, clocks))
    if waits is None or waits.timers:
        _sync_timers(session, instance, execution, now)
    if waits is None or waits.messages:
        _sync_message_waits(session, instance, execution)
    instance.state_json = execution.dump()
    instance.data = _jsonable(execution.data())
    instance.status = execution.status
    instance.error = execution.error
    instance.updated_at = now
    if instance.status == InstanceStatus.COMPLETED and previous_status != InstanceStatus.COMPLETED:
        instance.ended_at = now
        clocks.stop_case_clocks(session, instance.id, now, completed=True)
        record_history(session, instance.id, now, actor, "instance_completed")
        recorded.outcome = case_outcome(execution)
    if execution.failure is not None:
        incident, new = open_incident(session, instance, execution.failure, actor, now)
        recorded.incident = incident if new else None
    return recorded


def open_incident(
    session: Session, instance: Instance, failure: StepFailure, actor: Actor, now: datetime
) -> tuple[Incident, bool]:
    """The case stops where the step failed; one open incident per failed step. Returns it and
    whether it is new (a failing retry updates the open one)."""
    incident = session.scalar(
        select(Incident).where(
            Incident.instance_id == instance.id,
            Incident.status == IncidentStatus.OPEN,
            Incident.step_id == failure.step_id,
        )
    )
    if incident is not None:
        incident.message, incident.detail, incident.kind = (
            failure.message,
            failure.detail,
            failure.kind,
        )
        return incident, False
    incident = Incident(
        instance_id=instance.id,
        process_id=instance.process_id,
        step_id=failure.step_id,
        element_id=failure.element_id,
        element_name=failure.element_name,
        kind=failure.kind,
        message=failure.message,
        detail=failure.detail,
        status=IncidentStatus.OPEN,
        created_at=now,
        attempts=1,
    )
    session.add(incident)
    session.flush()
    record_history(
        session,
        instance.id,
        now,
        actor,
        "incident_opened",
        incident=incident.id,
        element=failure.element_id,
        element_name=failure.element_name,
        message=failure.message,
    )
    return incident, True


def _sync_tasks(
    session: Session,
    instance: Instance,
    execution: Execution,
    actor: Actor,
    now: datetime,
    lanes: dict[str, Any],
    clocks: ClockHooks,
) -> list[HumanTask]:
    """Close the rows of tasks that are no longer ready, open rows for new ones; returns the
    rows opened."""
    ready = {t.id: t for t in execution.ready_tasks()}
    open_rows = session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.state == TaskState.OPEN
        )
    ).all()
    known = {row.id for row in open_rows}
    opened: list[HumanTask] = []
    for row in open_rows:
        if row.id not in ready:
            row.state = TaskState.CANCELLED
            row.completed_at = now
            clocks.stop_task_clocks(session, row, now, completed=False)
            record_history(
                session,
                instance.id,
                now,
                actor,
                "task_cancelled",
                task_id=row.id,
                task=row.task_spec,
            )
    for task in ready.values():
        if task.id in known:
            continue
        properties = dict(task.properties)
        if task.item is not None:
            properties["item"] = _jsonable(task.item)
        target, department = route(session, instance.region_path, lanes, task)
        existing = session.get(HumanTask, task.id)
        if existing is None:
            row = HumanTask(id=task.id, instance_id=instance.id)
            session.add(row)
        else:  # a failed step of this task was retried: the same task opens again
            row = existing
            row.assignee = row.owner = row.delegation = None
            row.claimed_at = row.completed_at = row.completed_by = None
        row.process_id, row.task_spec, row.title, row.lane = (
            task.process_id,
            task.spec_id,
            task.title,
            task.lane,
        )
        row.state, row.form_key, row.properties = TaskState.OPEN, task.form_key, properties
        row.region, row.region_path, row.department = (
            instance.region,
            instance.region_path,
            department,
        )
        row.route_dept_type, row.route_region, row.route_problem = (
            target.dept_type,
            target.region,
            target.problem,
        )
        row.created_at, row.return_targets = now, list(task.return_targets)
        session.flush()
        clocks.start_task_clocks(session, row, now)
        record_history(
            session,
            instance.id,
            now,
            actor,
            "task_created",
            task_id=task.id,
            task=task.spec_id,
            title=task.title,
            lane=task.lane,
            department=department,
            unroutable=target.problem,
        )
        opened.append(row)
    return opened


def _sync_timers(session: Session, instance: Instance, execution: Execution, now: datetime) -> None:
    wanted = {t.task_id: t for t in execution.pending_timers()}
    existing = {
        j.target: j
        for j in session.scalars(
            select(Job).where(Job.instance_id == instance.id, Job.kind == TIMER_JOB)
        )
    }
    for target, job in existing.items():
        timer = wanted.get(target)
        if timer is None:
            session.delete(job)
        elif job.status != "pending" or job.due_at != timer.due_at:
            job.status, job.due_at, job.locked_by, job.locked_until = (
                "pending",
                timer.due_at,
                None,
                None,
            )
    for target, timer in wanted.items():
        if target not in existing:
            session.add(
                Job(
                    kind=TIMER_JOB,
                    instance_id=instance.id,
                    target=target,
                    due_at=timer.due_at,
                    status="pending",
                    attempts=0,
                    payload={"name": timer.name},
                    created_at=now,
                )
            )


def cancel_instance_jobs(session: Session, instance_id: str) -> None:
    session.execute(delete(Job).where(Job.instance_id == instance_id, Job.status == "pending"))
    session.execute(delete(MessageWait).where(MessageWait.instance_id == instance_id))


def _sync_message_waits(session: Session, instance: Instance, execution: Execution) -> None:
    session.execute(delete(MessageWait).where(MessageWait.instance_id == instance.id))
    for name in execution.waiting_messages():
        session.add(MessageWait(instance_id=instance.id, message_name=name))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
