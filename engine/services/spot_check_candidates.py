"""Which consolidation projects a spot-check draw chooses from: the projects of a territory
whose joint acceptance (联合验收) passed in a given year.

A project's joint acceptance has passed when its case reaches 新增耕地认定
(`certify_new_farmland`): the diagram goes there only from 验收合格? with no department
answering 不合格 (processes/consolidation_project.bpmn, gw_acceptance → split_certification).
The moment that task was first created is the acceptance; its local year is the year."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn import InstanceStatus
from engine.db.tables import HumanTask, Instance
from engine.db.types import path_prefix
from engine.domain.spot_checks import candidate_order

PROJECT_PROCESS = "consolidation_project"
ACCEPTED_AT_STEP = "certify_new_farmland"


def year_bounds(year: int, zone: tzinfo) -> tuple[datetime, datetime]:
    """From 1 January 00:00 local time to the next 1 January."""
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def accepted_projects(
    session: Session, territory_path: str, year: int, zone: tzinfo
) -> list[dict[str, Any]]:
    """The projects under `territory_path` accepted in `year` (local time), in draw order.
    Terminated cases are left out: an administrator ended them."""
    start, end = year_bounds(year, zone)
    accepted = (
        select(
            HumanTask.instance_id.label("instance_id"),
            func.min(HumanTask.created_at).label("accepted_at"),
        )
        .where(HumanTask.process_id == PROJECT_PROCESS, HumanTask.task_spec == ACCEPTED_AT_STEP)
        .group_by(HumanTask.instance_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Instance.id,
            Instance.case_no,
            Instance.business_key,
            Instance.title,
            Instance.region,
            Instance.data,
            accepted.c.accepted_at,
        )
        .join(accepted, accepted.c.instance_id == Instance.id)
        .where(
            Instance.process_id == PROJECT_PROCESS,
            Instance.status != InstanceStatus.TERMINATED,
            path_prefix(Instance.region_path, territory_path),
            accepted.c.accepted_at >= start,
            accepted.c.accepted_at < end,
        )
    ).all()
    found = [
        {
            "instance_id": row.id,
            "case_no": row.case_no,
            "business_key": row.business_key,
            "project_name": str((row.data or {}).get("project_name") or row.title or ""),
            "region": row.region,
            "accepted_at": row.accepted_at.astimezone(UTC).isoformat(),
        }
        for row in rows
    ]
    return sorted(found, key=candidate_order)
