"""Time-limit rows to the JSON shapes of the API: clocks, suspensions, supervision orders and
the acceptance by law of a case."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from engine.db.tables import LegalAcceptance, SlaClock, SlaSuspension, SupervisionOrder
from engine.domain.calendar import WorkCalendar
from engine.domain.sla import ClockState, Limit, Unit, local_day


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def clock_view(
    clock: SlaClock, calendar: WorkCalendar, now: datetime, zone: tzinfo
) -> dict[str, Any]:
    elapsed = None
    if clock.unit == Unit.WORKDAYS:
        end = clock.stopped_at or clock.paused_since or now
        elapsed = calendar.workdays_between(clock.start_day, local_day(end, zone))
        elapsed = max(elapsed - clock.suspended_days, 0)
    limit = Limit(clock.limit_days, clock.unit)
    return {
        "id": clock.id,
        "kind": clock.kind,
        "limit": str(limit),
        "limit_text": limit.in_words(),
        "basis": clock.basis,
        "state": clock.state,
        "provisional": bool(clock.provisional),
        "started_at": iso(clock.started_at),
        "due_at": iso(clock.due_at),
        "yellow_at": iso(clock.yellow_at),
        "yellow_rule": clock.yellow_rule,
        "elapsed_workdays": elapsed,
        "suspended_days": clock.suspended_days,
        "extension_days": clock.extension_days,
        "max_extension": clock.max_extension,
        "extension_state": clock.extension_state,
        "extension_request": clock.extension_request,
        "stopped_at": iso(clock.stopped_at),
        "problem": clock.problem,
    }


def suspension_view(row: SlaSuspension) -> dict[str, Any]:
    return {
        "reason_type": row.reason_type,
        "reason": row.reason,
        "missing_items": row.missing_items,
        "started_at": iso(row.started_at),
        "started_by": row.started_by,
        "ended_at": iso(row.ended_at),
        "ended_by": row.ended_by,
        "days_counted": row.days_counted,
    }


def order_view(row: SupervisionOrder) -> dict[str, Any]:
    return {
        "id": row.id,
        "instance_id": row.instance_id,
        "task_id": row.task_id,
        "office": row.office,
        "department": row.department,
        "grade": row.grade,
        "text": row.text,
        "status": row.status,
        "created_at": iso(row.created_at),
        "issued_by": row.issued_by,
        "order_instance_id": row.order_instance_id,
        "reply_days": row.reply_days,
        "reply_due_at": iso(row.reply_due_at),
        "reply_text": row.reply_text,
        "replied_at": iso(row.replied_at),
        "replied_by": row.replied_by,
        "overdue_at": iso(row.overdue_at),
        "closed_at": iso(row.closed_at),
        "closed_by": row.closed_by,
        "parent_id": row.parent_id,
        "escalated_to": row.escalated_to,
    }


def acceptance_view(row: LegalAcceptance | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "received_on": row.received_on.isoformat(),
        "notice_deadline": row.notice_deadline.isoformat(),
        "accepted_at": iso(row.accepted_at),
        "task_id": row.task_id,
        "basis": row.basis,
    }


def clocks_view(
    clocks: list[SlaClock],
    suspensions: list[SlaSuspension],
    calendar: WorkCalendar,
    now: datetime,
    zone: tzinfo,
) -> dict[str, Any]:
    """Clocks and their suspensions; every running clock of a task holds the same interval,
    so each suspension is listed once."""
    return {
        "clocks": [clock_view(c, calendar, now, zone) for c in clocks],
        "provisional": any(c.provisional and c.state in ClockState.OPEN for c in clocks),
        "suspensions": list(
            {(s.reason_type, s.started_at): suspension_view(s) for s in suspensions}.values()
        ),
    }
