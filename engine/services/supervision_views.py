"""督办单 as the API and the pages show them: the row with its names (office, department, the
supervised case and step, the order's own case), whether its reply is late, which of its steps
are open, and what the reader may do with it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import HistoryEntry, HumanTask, Instance, SupervisionOrder

from .actor import Actor
from .names import NameBook
from .sla_views import iso, order_view
from .supervision_records import (
    ANSWERED,
    GRADE_NAMES,
    HISTORY_ACTION,
    OPEN,
    STATUS_NAMES,
)
from .supervision_steps import REPLY, REVIEW


def is_overdue(order: SupervisionOrder, now: datetime) -> bool:
    """Waiting for a reply past its deadline: the ladder marked the reply step late, or, for an
    order without a case, its deadline passed."""
    if order.status != OPEN:
        return False
    if order.overdue_at is not None:
        return True
    return order.order_instance_id is None and bool(order.reply_due_at and order.reply_due_at < now)


def views(
    session: Session,
    names: NameBook,
    actor: Actor,
    orders: Iterable[SupervisionOrder],
    now: datetime,
) -> list[dict[str, Any]]:
    """Each order with what the list and the detail page show of it, read in a few queries."""
    rows = list(orders)
    case_ids = {o.instance_id for o in rows} | {o.order_instance_id for o in rows}
    cases = {
        c.id: c
        for c in session.execute(
            select(Instance.id, Instance.case_no, Instance.title, Instance.status).where(
                Instance.id.in_([i for i in case_ids if i])
            )
        )
    }
    titles = dict(
        session.execute(
            select(HumanTask.id, HumanTask.title).where(
                HumanTask.id.in_([o.task_id for o in rows if o.task_id])
            )
        ).all()
    )
    steps: dict[str, dict[str, HumanTask]] = {}
    for task in session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id.in_([o.order_instance_id for o in rows if o.order_instance_id]),
            HumanTask.state == "open",
        )
    ):
        steps.setdefault(task.instance_id, {})[task.task_spec] = task
    return [_view(o, names, actor, cases, titles, steps, now) for o in rows]


def _view(
    order: SupervisionOrder,
    names: NameBook,
    actor: Actor,
    cases: dict[str, Any],
    titles: dict[str, str],
    steps: dict[str, dict[str, HumanTask]],
    now: datetime,
) -> dict[str, Any]:
    supervised, own = cases.get(order.instance_id), cases.get(order.order_instance_id or "")
    open_steps = steps.get(order.order_instance_id or "", {})
    reply, review = open_steps.get(REPLY), open_steps.get(REVIEW)
    runs = actor.is_admin or order.office in actor.departments
    case_status = own.status if own is not None else None
    return {
        **order_view(order),
        "grade_name": GRADE_NAMES.get(order.grade, order.grade),
        "status_name": STATUS_NAMES.get(order.status, order.status),
        "overdue": is_overdue(order, now),
        "office_name": names.department(order.office),
        "department_name": names.department(order.department),
        "issued_by_name": (
            "系统（时限预警）" if order.issued_by == "system" else names.user(order.issued_by)
        ),
        "case_no": supervised.case_no if supervised is not None else None,
        "case_title": supervised.title if supervised is not None else None,
        "task_title": titles.get(order.task_id or ""),
        "order_case_no": own.case_no if own is not None else None,
        "order_case_status": case_status,
        "reply_task_id": reply.id if reply is not None else None,
        "reply_task_due_at": iso(reply.due_at) if reply is not None else None,
        "review_task_id": review.id if review is not None else None,
        "replied_by_name": names.user(order.replied_by),
        "closed_by_name": names.user(order.closed_by),
        "can_reply": order.status == OPEN
        and reply is not None
        and (actor.is_admin or order.department in actor.departments),
        "can_close": runs and order.status == ANSWERED and review is not None,
        "can_send_back": runs and order.status == ANSWERED and review is not None,
        "can_escalate": runs
        and order.status in (OPEN, ANSWERED)
        and (own is None or case_status in ("running", "waiting")),
    }


def steps_on_case(session: Session, order: SupervisionOrder) -> list[dict[str, Any]]:
    """The order's entries on the supervised case's history: issued, answered, sent back,
    overdue, closed, escalated."""
    entries = session.scalars(
        select(HistoryEntry)
        .where(
            HistoryEntry.instance_id == order.instance_id,
            HistoryEntry.action == HISTORY_ACTION,
        )
        .order_by(HistoryEntry.id)
    )
    return [
        {
            "at": iso(e.at),
            "actor": e.actor,
            "event": (e.details or {}).get("event"),
            "text": (e.details or {}).get("text"),
        }
        for e in entries
        if (e.details or {}).get("order_id") == order.id
    ]
