"""The 督办单 rows and what goes with them, inside the caller's transaction: the offices above a
department, the grades, a new order row and its notice to the supervised department, and the
entries every step of an order leaves on the supervised case's history (its timeline).

Nothing here starts or moves a process: engine/services/supervision_orders.py runs the order's
case (processes/supervision_order.bpmn) around these rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import Department, HumanTask, Instance, Region, SlaClock, SupervisionOrder
from engine.domain.organisation import LEADERSHIP_OFFICE, department_code

from .actor import Actor
from .notify.audience import members
from .notify.outbox import Outbox
from .recorder import record_history

ORDER_PROCESS = "supervision_order"
GRADES = ("blue", "orange", "red")
GRADE_NAMES = {"blue": "蓝色", "orange": "橙色", "red": "红色"}
OPEN, ANSWERED, CLOSED, ESCALATED = "open", "answered", "closed", "escalated"
STATUS_NAMES = {OPEN: "待反馈", ANSWERED: "已反馈", CLOSED: "已办结", ESCALATED: "已升级"}
HISTORY_ACTION = "supervision_order"  # every step of an order, on the supervised case
DEFAULT_REPLY_DAYS = 5


@dataclass(frozen=True)
class OrderSpec:
    """What an order says: about which case (and step, and clock, for the ladder's orders),
    from which office to which department, how urgent, and how many working days to reply."""

    instance: Instance
    task: HumanTask | None
    clock: SlaClock | None
    office: str
    department: str | None
    grade: str
    text: str
    reply_days: int
    parent_id: int | None = None


def office_chain(session: Session, department: str | None, case_path: str) -> list[str]:
    """The leadership-group offices from the department's region (or the nearest one above it)
    upwards: e.g. ldxz.330702, ldxz.330700, ldxz.330000."""
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
    return [department_code(LEADERSHIP_OFFICE, c) for c in reversed(codes) if c in offices]


def escalation_target(
    session: Session, order: SupervisionOrder, case_path: str
) -> tuple[str, str] | None:
    """The office and grade an order escalates to: the next office up and the next grade, as
    far as each goes; None when the order is already a red one of the highest office."""
    chain = office_chain(session, order.department, case_path)
    position = chain.index(order.office) if order.office in chain else len(chain) - 1
    office = chain[min(position + 1, len(chain) - 1)] if chain else order.office
    grade = GRADES[min(GRADES.index(order.grade) + 1, len(GRADES) - 1)]
    if office == order.office and grade == order.grade:
        return None
    return office, grade


def add_order(session: Session, spec: OrderSpec, issued_by: str, now: datetime) -> SupervisionOrder:
    order = SupervisionOrder(
        instance_id=spec.instance.id,
        task_id=spec.task.id if spec.task is not None else None,
        clock_id=spec.clock.id if spec.clock is not None else None,
        office=spec.office,
        department=spec.department,
        region_path=spec.instance.region_path,
        grade=spec.grade,
        text=spec.text,
        status=OPEN,
        created_at=now,
        issued_by=issued_by,
        reply_days=spec.reply_days,
        parent_id=spec.parent_id,
    )
    session.add(order)
    session.flush()
    return order


def tell_issued(
    outbox: Outbox,
    session: Session,
    order: SupervisionOrder,
    spec: OrderSpec,
    now: datetime,
    zone: tzinfo,
    extra: dict[str, Any],
) -> None:
    """督办单下达: the supervised department's handlers and heads (and whoever holds the step),
    and its robots."""
    holder = [spec.task.assignee] if spec.task is not None and spec.task.assignee else []
    recipients = {*holder, *members(session, order.department, "handler", "approver")}
    outbox.emit(
        session,
        "supervision_order",
        recipients,
        now,
        task=spec.task,
        instance_id=order.instance_id,
        department=order.department,
        payload={
            **extra,
            "order_id": order.id,
            "grade": order.grade,
            "grade_name": GRADE_NAMES.get(order.grade, order.grade),
            "office": order.office,
            "office_name": department_name(session, order.office),
            "text": order.text,
            "reply_due": local_date(order.reply_due_at, zone),
        },
        key=f"supervision_order:{order.id}",
    )


def note_on_case(
    session: Session,
    order: SupervisionOrder,
    actor: Actor,
    now: datetime,
    event: str,
    text: str,
    **details: Any,
) -> None:
    """One step of the order on the supervised case's history, so its timeline shows it."""
    record_history(
        session,
        order.instance_id,
        now,
        actor,
        HISTORY_ACTION,
        task_id=order.task_id,
        order_id=order.id,
        event=event,
        grade=order.grade,
        office=order.office,
        department=order.department,
        text=text,
        **details,
    )


def order_name(session: Session, order: SupervisionOrder) -> str:
    """e.g. 蓝色督办单（督办2026-00003）."""
    number = (
        session.scalar(select(Instance.case_no).where(Instance.id == order.order_instance_id))
        if order.order_instance_id
        else None
    )
    grade = GRADE_NAMES.get(order.grade, "")
    return f"{grade}督办单（{number or f'第{order.id}号'}）"


def department_name(session: Session, code: str | None) -> str:
    if not code:
        return ""
    return session.scalar(select(Department.name).where(Department.code == code)) or code


def local_date(moment: datetime | None, zone: tzinfo) -> str | None:
    return moment.astimezone(zone).strftime("%Y-%m-%d") if moment is not None else None
