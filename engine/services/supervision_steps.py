"""What each step of a 督办单 does to its row, inside the transaction of the command that took
the step: the reply (the office is told), a further reply asked for, the close, and a reply or
review gone late (the red rung of the order case's clocks)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import HistoryEntry, HumanTask, Instance, SlaClock, SupervisionOrder

from .actor import SYSTEM, Actor
from .escalation import clock_payload
from .notify.audience import members
from .notify.outbox import Outbox
from .supervision_records import (
    ANSWERED,
    CLOSED,
    GRADE_NAMES,
    OPEN,
    department_name,
    local_date,
    note_on_case,
    order_name,
)

REPLY, REVIEW = "reply", "review"  # the user tasks of processes/supervision_order.bpmn


def tell_late(
    outbox: Outbox,
    session: Session,
    clock: SlaClock,
    task: HumanTask | None,
    instance: Instance,
    now: datetime,
    zone: tzinfo,
) -> None:
    """The red rung of a clock of an order's case: a late reply tells the department's
    heads and the office (supervision_overdue); a late review tells the office. No 督办 of
    a 督办."""
    order = session.scalar(
        select(SupervisionOrder).where(SupervisionOrder.order_instance_id == instance.id)
    )
    if order is None:
        return
    office = members(session, order.office)
    if task is None or task.task_spec != REPLY:
        holder = [task.assignee] if task is not None and task.assignee else []
        outbox.emit(
            session,
            "sla_red",
            holder or office,
            now,
            task=task,
            instance_id=instance.id,
            department=clock.department,
            payload=clock_payload(clock),
            key=f"sla_red:{clock.id}",
        )
        return
    order.overdue_at = now
    reply_due = local_date(clock.due_at, zone)
    supervised_task = session.get(HumanTask, order.task_id) if order.task_id else None
    outbox.emit(
        session,
        "supervision_overdue",
        {*members(session, order.department, "approver"), *office},
        now,
        task=supervised_task,
        instance_id=order.instance_id,
        department=order.department,
        payload={
            "order_id": order.id,
            "order_case_id": instance.id,
            "grade": order.grade,
            "grade_name": GRADE_NAMES.get(order.grade, order.grade),
            "office": order.office,
            "office_name": department_name(session, order.office),
            "reply_due": reply_due,
        },
        key=f"supervision_overdue:{order.id}:{clock.id}",
    )
    note_on_case(
        session,
        order,
        SYSTEM,
        now,
        "overdue",
        f"{order_name(session, order)}逾期未反馈（反馈期限{reply_due}），"
        f"已通知{department_name(session, order.department)}负责人和督办单位",
        reply_due=reply_due,
    )


def answered(
    outbox: Outbox,
    session: Session,
    order: SupervisionOrder,
    data: dict,
    actor: Actor,
    now: datetime,
) -> None:
    """反馈: the office is told; the answer is kept on the order."""
    progress, text = str(data.get("reply_progress") or ""), str(data.get("reply_text") or "")
    expected = data.get("reply_expected_on")
    answer = "：".join(p for p in (progress, text) if p)
    if progress == "正在办理" and expected:
        answer += f"（预计{expected}办结）"
    order.status, order.reply_text = ANSWERED, answer[:4000]
    order.replied_at, order.replied_by = now, actor.username
    task = session.get(HumanTask, order.task_id) if order.task_id else None
    outbox.emit(
        session,
        "supervision_answered",
        [u for u in members(session, order.office) if u != actor.username],
        now,
        task=task,
        instance_id=order.instance_id,
        department=order.department,
        payload={
            "order_id": order.id,
            "order_case_id": order.order_instance_id,
            "grade": order.grade,
            "grade_name": GRADE_NAMES.get(order.grade, order.grade),
            "office": order.office,
            "office_name": department_name(session, order.office),
            "answer": answer,
        },
        key=f"supervision_answered:{order.id}:{now.isoformat()}",
    )
    note_on_case(
        session,
        order,
        actor,
        now,
        "answered",
        f"{department_name(session, order.department)}反馈{order_name(session, order)}：{answer}",
    )


def sent_back(
    session: Session,
    order: SupervisionOrder,
    case: Instance,
    data: dict,
    actor: Actor,
    now: datetime,
) -> None:
    """补充反馈 (or the review returned to the reply step): the order waits again."""
    reason = str(data.get("review_opinion") or "") if data.get("review_decision") else ""
    if not reason:
        reason = _last_return_reason(session, case.id)
    order.status, order.overdue_at = OPEN, None
    note_on_case(
        session,
        order,
        actor,
        now,
        "sent_back",
        f"{department_name(session, order.office)}要求补充反馈{order_name(session, order)}"
        + (f"：{reason}" if reason else ""),
    )


def closed(
    session: Session, order: SupervisionOrder, data: dict, actor: Actor, now: datetime
) -> None:
    opinion = str(data.get("review_opinion") or "")
    order.status, order.closed_at, order.closed_by = CLOSED, now, actor.username
    note_on_case(
        session,
        order,
        actor,
        now,
        "closed",
        f"{department_name(session, order.office)}办结{order_name(session, order)}"
        + (f"：{opinion}" if opinion else ""),
    )


def _last_return_reason(session: Session, instance_id: str) -> str:
    details = session.scalar(
        select(HistoryEntry.details)
        .where(HistoryEntry.instance_id == instance_id, HistoryEntry.action == "task_returned")
        .order_by(HistoryEntry.id.desc())
        .limit(1)
    )
    return str((details or {}).get("reason") or "")
