"""Running the escalation ladder: the job handler that fires one rung of a clock exactly once,
and what each rung does — yellow warns the handlers, red tells the department head and issues a
blue 督办, the later rungs issue 督办 from offices higher up."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import (
    Department,
    HumanTask,
    Instance,
    Job,
    Region,
    SlaClock,
    SlaEscalation,
    SupervisionOrder,
)
from engine.domain.escalation import RED, RED_GRADE, YELLOW, Rung, step, supervises
from engine.domain.organisation import LEADERSHIP_OFFICE, department_code
from engine.domain.sla import ClockState
from engine.domain.time_limits import KIND_NAMES

from .actor import SYSTEM
from .recorder import record_history
from .sla_clocks import ClockKeeper
from .sla_outbox import admins, members, notify

log = logging.getLogger(__name__)


class Escalation:
    def __init__(self, keeper: ClockKeeper, clock: Clock, zone: tzinfo) -> None:
        self.keeper = keeper
        self.clock = clock
        self.zone = zone

    @property
    def ladder(self) -> tuple[Rung, ...]:
        return self.keeper.ladder

    def fire(self, session: Session, job: Job, worker: str) -> None:
        """Job handler: run one rung of a clock's ladder, once."""
        clock_id, rung = job.target.split(":", 1)
        clock = session.get(SlaClock, int(clock_id))
        session.delete(job)
        if clock is None or clock.state not in ClockState.RUNNING or clock.due_at is None:
            return
        now = self.clock.now()
        due = self.keeper.rung_due(session, clock, rung)
        if due is None or due > now:  # moved by an extension or a calendar change
            self.keeper.schedule(session, clock)
            return
        try:
            with session.begin_nested():
                session.add(
                    SlaEscalation(clock_id=clock.id, rung=rung, fired_at=now, worker=worker)
                )
        except IntegrityError:
            return  # fired already
        task = session.get(HumanTask, clock.task_id) if clock.task_id else None
        instance = session.get(Instance, clock.instance_id)
        if task is not None:
            clock.department = task.department  # it may have been routed since the clock began
        if rung == YELLOW:
            clock.state = ClockState.YELLOW
            self._warn_handlers(session, clock, task, now)
        elif rung == RED:
            clock.state = ClockState.RED
            self._escalate_red(session, clock, task, instance, now)
        else:
            found = step(self.ladder, rung)
            if found is not None:
                self._supervise(session, clock, task, instance, found.grade, found.levels_up, now)
        record_history(
            session,
            clock.instance_id,
            now,
            SYSTEM,
            "sla_escalated",
            task_id=clock.task_id,
            rung=rung,
            clock=clock.kind,
            worker=worker,
        )
        if task is not None:
            self.keeper.sync_task(session, task)
        self.keeper.schedule(session, clock)
        self.keeper.calendar.alert_provisional_years(session, now)

    def _warn_handlers(
        self, session: Session, clock: SlaClock, task: HumanTask | None, now: datetime
    ) -> None:
        recipients = (
            [task.assignee]
            if task is not None and task.assignee
            else members(session, clock.department, "handler")
        )
        for user in recipients or admins(session):
            notify(session, user, "sla_yellow", task, clock_payload(clock), now, clock.instance_id)

    def _escalate_red(
        self,
        session: Session,
        clock: SlaClock,
        task: HumanTask | None,
        instance: Instance,
        now: datetime,
    ) -> None:
        heads = members(session, clock.department, "approver")
        for user in heads or admins(session):
            notify(session, user, "sla_red", task, clock_payload(clock), now, clock.instance_id)
        self._supervise(session, clock, task, instance, RED_GRADE, 0, now)

    def _supervise(
        self,
        session: Session,
        clock: SlaClock,
        task: HumanTask | None,
        instance: Instance,
        grade: str,
        levels_up: int,
        now: datetime,
    ) -> None:
        if not supervises(clock.department):
            return  # the applicant's own step: reminders only
        office = office_for(session, clock.department, instance.region_path, levels_up)
        if office is None:
            log.warning("no leadership-group office above %s", clock.department)
            return
        title = task.title if task is not None else (instance.title or instance.process_id)
        limit_name = KIND_NAMES.get(clock.kind, "")
        due_day = clock.due_at.astimezone(self.zone).strftime("%Y-%m-%d")
        department = (
            session.scalar(select(Department.name).where(Department.code == clock.department))
            if clock.department
            else None
        )
        case_ref = instance.case_no or instance.business_key or instance.id[:8]
        text = (
            f"【督办】{title}（{case_ref}）已超过{limit_name}"
            f"（{due_day}{'，暂定' if clock.provisional else ''}），"
            f"请{department or '相关部门'}立即办理并报告。"
        )
        session.add(
            SupervisionOrder(
                instance_id=instance.id,
                task_id=clock.task_id,
                clock_id=clock.id,
                office=office,
                department=clock.department,
                grade=grade,
                text=text,
                status="open",
                created_at=now,
            )
        )
        for user in members(session, office, "office", "supervisor", "handler"):
            notify(
                session,
                user,
                "supervision_order",
                task,
                {**clock_payload(clock), "grade": grade, "text": text},
                now,
                instance.id,
            )


def office_for(
    session: Session, department: str | None, case_path: str, levels_up: int
) -> str | None:
    """The leadership-group office of the late department's region (or the nearest one above
    it), then `levels_up` offices higher."""
    region = department.split(".", 1)[1] if department else None
    path = session.scalar(select(Region.path).where(Region.code == region)) if region else None
    codes = (path or case_path).strip("/").split("/")
    offices = set(
        session.scalars(
            select(Department.region_code).where(
                Department.dept_type == LEADERSHIP_OFFICE,
                Department.region_code.in_(codes),
                Department.is_active,
            )
        )
    )
    chain = [c for c in reversed(codes) if c in offices]
    if not chain:
        return None
    return department_code(LEADERSHIP_OFFICE, chain[min(levels_up, len(chain) - 1)])


def clock_payload(clock: SlaClock) -> dict[str, Any]:
    return {
        "clock": clock.kind,
        "limit": f"{clock.limit_days}{clock.unit}",
        "due_at": clock.due_at.astimezone(UTC).isoformat() if clock.due_at else None,
        "provisional": clock.provisional,
        "basis": clock.basis,
    }
