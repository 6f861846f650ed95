"""Running 督办单 inside the transaction of whatever moves them: issuing one (the ladder's job or
an office's command) starts its case; every save of an order's case brings the order row in
step with it — replied, sent back for a further reply, closed, escalated — and leaves the step on
the supervised case's timeline; a reply that goes late tells the department's heads and the
office. The row is the list offices and the dashboard read; the case holds the work."""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import HumanTask, Instance, Region, SlaClock, SupervisionOrder
from engine.domain.sla import ClockState, Limit, Unit, YellowRule, deadline, local_day
from engine.domain.time_limits import COMMITTED
from engine.errors import Conflict, PermissionDenied

from .actor import Actor
from .notify.outbox import Outbox
from .sla_clocks import of_task
from .supervision_cases import order_process, start_order_case
from .supervision_records import (
    ANSWERED,
    CLOSED,
    DEFAULT_REPLY_DAYS,
    ESCALATED,
    GRADE_NAMES,
    OPEN,
    ORDER_PROCESS,
    OrderSpec,
    add_order,
    department_name,
    escalation_target,
    local_date,
    note_on_case,
    order_name,
    tell_issued,
)
from .supervision_steps import REPLY, answered, closed, sent_back, tell_late

if TYPE_CHECKING:
    from .instances import InstanceService

log = logging.getLogger(__name__)
FURTHER = "补充反馈"


class SupervisionOrders:
    def __init__(self, instances: InstanceService, clock: Clock, outbox: Outbox) -> None:
        self.instances = instances
        self.clock = clock
        self.outbox = outbox

    @property
    def zone(self) -> tzinfo:
        return self.instances.sla.zone

    # ---- issuing -------------------------------------------------------------------------
    def issue(
        self,
        session: Session,
        actor: Actor,
        spec: OrderSpec,
        now: datetime,
        about: dict[str, Any] | None = None,
    ) -> SupervisionOrder:
        """A new order: its row, its case (the reply step in the department's inbox with the
        order's deadline as its committed limit), the notice and the timeline entry. `about`:
        what the notice says of the late clock (the ladder's orders)."""
        order = add_order(session, spec, actor.username, now)
        calendar = self.instances.sla.keeper.calendar_in(session)
        order.reply_due_at = deadline(
            calendar,
            local_day(now, self.zone),
            Limit(spec.reply_days, Unit.WORKDAYS),
            0,
            0,
            YellowRule.parse("1wd"),
            self.zone,
        ).due_at
        version = order_process(session)
        if version is not None:
            case = start_order_case(
                session,
                self.instances,
                version,
                actor,
                self._region_of(session, spec.office, spec.instance),
                f"督办-{order.id}",
                self._case_data(session, order, spec),
                now,
            )
            order.order_instance_id = case.id
            self._fit_reply_clock(session, order, case, now)
        else:
            log.info("process %s is not deployed: order %s has no case", ORDER_PROCESS, order.id)
        tell_issued(self.outbox, session, order, spec, now, self.zone, about or {})
        due = local_date(order.reply_due_at, self.zone)
        note_on_case(
            session,
            order,
            actor,
            now,
            "issued",
            f"{department_name(session, order.office)}下达{order_name(session, order)}，"
            f"要求{department_name(session, order.department)}于{due}前反馈：{order.text}",
            reply_due=due,
        )
        return order

    def default_reply_days(self, session: Session, office: str) -> int:
        """The committed limit of the reply step (processes/time_limits.csv) in the office's
        region, where the order's case lies, in working days."""
        region = office.split(".", 1)[-1]
        rules = self.instances.sla.time_limits.rules_for(session, ORDER_PROCESS, REPLY, region)
        rule = rules.get(COMMITTED)
        limit = rule.parsed() if rule is not None else None
        if limit is None or limit.unit != Unit.WORKDAYS:
            return DEFAULT_REPLY_DAYS
        return limit.days

    # ---- keeping the row in step with its case -------------------------------------------
    def sync(self, session: Session, case: Instance, actor: Actor, now: datetime) -> None:
        """After every save of an order's case: the transition its data says happened."""
        order = session.scalar(
            select(SupervisionOrder).where(SupervisionOrder.order_instance_id == case.id)
        )
        if order is None:
            return  # a case started by hand, outside the order service: nothing to keep
        data = case.data or {}
        state = data.get("order_state")
        if state == ANSWERED and order.status == OPEN:
            answered(self.outbox, session, order, data, actor, now)
        elif state == OPEN and order.status == ANSWERED:
            sent_back(session, order, case, data, actor, now)
        elif state == CLOSED and order.status != CLOSED:
            closed(session, order, data, actor, now)
        elif state == ESCALATED and order.status != ESCALATED:
            reason = data.get("review_opinion") or (data.get("escalation") or {}).get("reason")
            self.escalate(session, order, actor, str(reason or ""), now)
        if state == OPEN:
            self._fit_reply_clock(session, order, case, now)

    def escalate(
        self, session: Session, order: SupervisionOrder, actor: Actor, reason: str, now: datetime
    ) -> SupervisionOrder:
        """升级: a new order from the next office up or of the next grade; this one ends."""
        if not self.may_run(actor, order):
            raise PermissionDenied("只有下达督办的领导小组办公室可以升级督办")
        supervised = session.get_one(Instance, order.instance_id)
        target = escalation_target(session, order, supervised.region_path)
        if target is None:
            raise Conflict("该督办单已是最高一级办公室下达的红色督办，不能再升级")
        office, grade = target
        task = session.get(HumanTask, order.task_id) if order.task_id else None
        said = f"（{reason}）" if reason else ""
        higher = self.issue(
            session,
            actor,
            OrderSpec(
                supervised,
                task,
                session.get(SlaClock, order.clock_id) if order.clock_id else None,
                office,
                order.department,
                grade,
                f"【升级督办】{order.text}{said}"[:2000],
                order.reply_days or DEFAULT_REPLY_DAYS,
                parent_id=order.id,
            ),
            now,
        )
        order.status, order.escalated_to = ESCALATED, higher.id
        order.closed_at, order.closed_by = now, actor.username
        note_on_case(
            session,
            order,
            actor,
            now,
            "escalated",
            f"{order_name(session, order)}升级为{department_name(session, office)}的"
            f"{order_name(session, higher)}{said}",
            escalated_to=higher.id,
        )
        return higher

    def may_run(self, actor: Actor, order: SupervisionOrder) -> bool:
        """Closing, sending back and escalating are for the issuing office (and admins)."""
        return actor.is_admin or order.office in actor.departments

    # ---- a reply that goes late ----------------------------------------------------------
    def is_order_case(self, instance: Instance | None) -> bool:
        return instance is not None and instance.process_id == ORDER_PROCESS

    def late(
        self,
        session: Session,
        clock: SlaClock,
        task: HumanTask | None,
        instance: Instance,
        now: datetime,
    ) -> None:
        """The red rung of a clock of an order's case (no 督办 of a 督办)."""
        tell_late(self.outbox, session, clock, task, instance, now, self.zone)

    def _fit_reply_clock(
        self, session: Session, order: SupervisionOrder, case: Instance, now: datetime
    ) -> None:
        """The open reply step's committed limit is the order's deadline: its reply days, or
        the days the office gave for a further reply."""
        task = session.scalar(
            select(HumanTask).where(
                HumanTask.instance_id == case.id,
                HumanTask.task_spec == REPLY,
                HumanTask.state == "open",
            )
        )
        if task is None:
            return
        data = case.data or {}
        further = data.get("further_reply_days")
        days = (
            further
            if int(data.get("reply_round") or 1) > 1 and isinstance(further, int) and further > 0
            else order.reply_days or DEFAULT_REPLY_DAYS
        )
        basis = f"督办单要求{days}个工作日内反馈（{department_name(session, order.office)}）"
        for clock in of_task(session, task.id):
            if clock.kind != COMMITTED or clock.stopped_at is not None:
                continue
            if (clock.limit_days, clock.unit, clock.basis) != (days, Unit.WORKDAYS, basis):
                clock.limit_days, clock.unit, clock.basis = days, Unit.WORKDAYS, basis
                self.instances.sla.keeper.compute(session, clock, now)
                self.instances.sla.keeper.sync_task(session, task)
            if clock.state in ClockState.OPEN:
                order.reply_due_at = clock.due_at

    @staticmethod
    def _region_of(session: Session, office: str, supervised: Instance) -> Region:
        """The order's case lies in the office's region (not the village of the supervised
        case: its applicants are not told of the order)."""
        code = office.split(".", 1)[1] if "." in office else supervised.region
        return session.get(Region, code) or session.get_one(Region, supervised.region)

    def _case_data(
        self, session: Session, order: SupervisionOrder, spec: OrderSpec
    ) -> dict[str, Any]:
        data = {
            "order_id": order.id,
            "order_grade": order.grade,
            "order_grade_name": GRADE_NAMES.get(order.grade, order.grade),
            "order_text": order.text,
            "office": order.office,
            "office_name": department_name(session, order.office),
            "department": order.department,
            "department_name": department_name(session, order.department),
            "supervised_case_id": spec.instance.id,
            "supervised_case_no": spec.instance.case_no,
            "supervised_case_title": spec.instance.title,
            "supervised_task_id": spec.task.id if spec.task is not None else None,
            "supervised_task_title": spec.task.title if spec.task is not None else None,
            "reply_days": order.reply_days,
            "reply_due_on": local_date(order.reply_due_at, self.zone),
            "parent_order_id": order.parent_id,
        }
        return {k: v for k, v in data.items() if v is not None}
