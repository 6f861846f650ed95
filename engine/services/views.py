"""Rows to the JSON shapes of the API contract."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.db.tables import HistoryEntry, HumanTask, Incident, Instance


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def instance_view(row: Instance) -> dict[str, Any]:
    return {
        "id": row.id,
        "process_id": row.process_id,
        "version": row.version,
        "status": row.status,
        "region": row.region,
        "business_key": row.business_key,
        "case_no": row.case_no,
        "title": row.title,
        "applicant": row.applicant,
        "data": row.data,
        "error": row.error,
        "started_by": row.started_by,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "ended_at": _iso(row.ended_at),
    }


def task_view(row: HumanTask) -> dict[str, Any]:
    return {
        "id": row.id,
        "instance_id": row.instance_id,
        "process_id": row.process_id,
        "name": row.task_spec,
        "title": row.title,
        "lane": row.lane,
        "department": row.department,
        "unroutable": row.route_problem,
        "owner": row.owner,
        "delegation": row.delegation,
        "draft": row.draft,
        "region": row.region,
        "assignee": row.assignee,
        "state": row.state,
        "created_at": _iso(row.created_at),
        "claimed_at": _iso(row.claimed_at),
        "completed_at": _iso(row.completed_at),
        "completed_by": row.completed_by,
        "due_at": _iso(row.due_at),
        "sla_state": row.sla_state,
        "form_key": row.form_key,
        "properties": row.properties,
        "return_targets": row.return_targets or [],
        "returned": row.returned,
    }


def incident_view(row: Incident, technical: bool) -> dict[str, Any]:
    """Clerks read the message; administrators also get the technical detail."""
    view = {
        "id": row.id,
        "instance_id": row.instance_id,
        "process_id": row.process_id,
        "element_id": row.element_id,
        "element_name": row.element_name,
        "kind": row.kind,
        "message": row.message,
        "status": row.status,
        "created_at": _iso(row.created_at),
        "resolved_at": _iso(row.resolved_at),
        "resolved_by": row.resolved_by,
        "resolution": row.resolution,
        "attempts": row.attempts,
    }
    if technical:
        view["detail"] = row.detail
    return view


def history_view(row: HistoryEntry) -> dict[str, Any]:
    return {
        "at": _iso(row.at),
        "actor": row.actor,
        "on_behalf_of": row.on_behalf_of,
        "action": row.action,
        "task_id": row.task_id,
        "details": row.details,
    }
