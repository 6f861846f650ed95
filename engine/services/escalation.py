"""Running the escalation ladder: the job handler that fires one rung of a clock exactly once,
and what each rung does — yellow warns the handlers, red tells the department head and issues a
blue 督办, the later rungs issue 督办 from offices higher up. A 督办 is a case of its own
(engine/services/supervision_orders.py); on that case's own clocks red means a late reply,
never a 督办 of the 督办."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import (
    Department,
    HumanTask,
    Instance,
    Job,
    SlaClock,
    SlaEscalation,
    SupervisionOrder,
)
from engine.domain.escalation import RED, RED_GRADE, YELLOW, Rung, step, supervises
from engine.domain.sla import ClockState
from engine.domain.time_limits import KIND_NAMES

from .actor import SYSTEM, Actor
from .notify.audience import admins, members
from .notify.outbox import Outbox
from .recorder import record_history
from .sla_clocks import ClockKeeper
from .supervision_records import (
    OrderSpec,
    add_order,
    note_on_case,
    office_chain,
    tell_issued,
)

log = logging.getLogger(__name__)


class OrderBook(Protocol):
    """What the ladder asks of the 督办单 (engine.services.supervision_orders)."""

    def is_order_case(self, instance: Instance | None) -> bool: ...

    def default_reply_days(self, session: Session, office: str) -> int: ...

    def issue(
        self,
        session: Session,
        actor: Actor,
        spec: OrderSpec,
        now: datetime,
        about: dict[str, Any] | None = None,
    ) -> SupervisionOrder: ...

    def late(
        self,
        session: Session,
        clock: SlaClock,
        task: HumanTask | None,
        instance: Instance,
        now: datetime,
    ) -> None: ...


class Escalation:
    def __init__(self, keeper: ClockKeeper, clock: Clock, zone: tzinfo, outbox: Outbox) -> None:
        self.keeper = keeper
        self.clock = clock
        self.zone = zone
        self.outbox = outbox
        self.orders: OrderBook | None = None  # set by engine.services.supervision

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
        instance = session.get_one(Instance, clock.instance_id)
        if task is not None:
            clock.department = task.department  # it may have been routed since the clock began
        orders = self.orders
        if orders is not None and not orders.is_order_case(instance):
            orders = None  # only an order's case is left to the order book
        if rung == YELLOW:
            clock.state = ClockState.YELLOW
            self._warn_handlers(session, clock, task, now)
        elif rung == RED:
            clock.state = ClockState.RED
            if orders is not None:
                orders.late(session, clock, task, instance, now)
            else:
                self._escalate_red(session, clock, task, instance, now)
        elif orders is None:
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
        """Yellow: whoever holds the task, or the department's handlers while it is unclaimed."""
        recipients = handlers_of(session, clock, task)
        self.outbox.emit(
            session,
            "sla_yellow",
            recipients or admins(session),
            now,
            task=task,
            instance_id=clock.instance_id,
            department=clock.department,
            payload=clock_payload(clock),
            key=f"sla_yellow:{clock.id}",
        )

    def _escalate_red(
        self,
        session: Session,
        clock: SlaClock,
        task: HumanTask | None,
        instance: Instance,
        now: datetime,
    ) -> None:
        """Red: the holder (or the handlers) and the department's heads, and its robots."""
        recipients = {
            *handlers_of(session, clock, task),
            *members(session, clock.department, "approver"),
        }
        self.outbox.emit(
            session,
            "sla_red",
            recipients or admins(session),
            now,
            task=task,
            instance_id=clock.instance_id,
            department=clock.department,
            payload=clock_payload(clock),
            key=f"sla_red:{clock.id}",
        )
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
        assert clock.due_at is not None  # fire() leaves clocks without a due time alone
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
        reply_days = self.orders.default_reply_days(session, office) if self.orders else 5
        spec = OrderSpec(instance, task, clock, office, clock.department, grade, text, reply_days)
        if self.orders is not None:
            self.orders.issue(session, SYSTEM, spec, now, clock_payload(clock))
            return
        # without the order service (an engine built without it): the row and its notice
        order = add_order(session, spec, SYSTEM.username, now)
        tell_issued(self.outbox, session, order, spec, now, self.zone, clock_payload(clock))
        note_on_case(session, order, SYSTEM, now, "issued", text)


def office_for(
    session: Session, department: str | None, case_path: str, levels_up: int
) -> str | None:
    """The leadership-group office of the late department's region (or the nearest one above
    it), then `levels_up` offices higher."""
    chain = office_chain(session, department, case_path)
    return chain[min(levels_up, len(chain) - 1)] if chain else None


def handlers_of(session: Session, clock: SlaClock, task: HumanTask | None) -> list[str]:
    """Whoever holds the clock's task, or the department's handlers while nobody does."""
    if task is not None and task.assignee:
        return [task.assignee]
    return members(session, clock.department, "handler")


def clock_payload(clock: SlaClock) -> dict[str, Any]:
    return {
        "clock": clock.kind,
        "limit": f"{clock.limit_days}{clock.unit}",
        "due_at": clock.due_at.astimezone(UTC).isoformat() if clock.due_at else None,
        "provisional": clock.provisional,
        "basis": clock.basis,
    }
