"""Every dashboard number opens the cases behind it: a drill-down names the figure (what kind,
and the process, step, department, area, light or indicator it was counted for) and becomes
one SELECT of case ids over the same rows, in the same scope, as the number itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Select, func, select, union
from sqlalchemy.orm import Session

from engine.bpmn import InstanceStatus
from engine.db.tables import HumanTask, Instance, SupervisionOrder
from engine.errors import BadRequest

from .dashboard_indicators import IndicatorCatalog, counted_cases
from .dashboard_metrics import GREEN, LATE_STATE, PAUSED, RED, YELLOW, light_of
from .dashboard_scope import Scope
from .views import instance_view

TASKS = HumanTask.__table__
INSTANCES = Instance.__table__
ORDERS = SupervisionOrder.__table__
KINDS = ("active", "open", "finished", "late", "supervised", "indicator")
LIGHTS = (GREEN, YELLOW, RED, PAUSED)
UNROUTED = "-"  # the department filter for steps no department could take
MAX_PAGE = 100


@dataclass(frozen=True)
class DrillDown:
    kind: str
    process: str | None = None
    step: str | None = None
    department: str | None = None
    area: str | None = None
    light: str | None = None
    indicator: str | None = None

    def check(self) -> None:
        if self.kind not in KINDS:
            raise BadRequest(f"kind 只能是 {'、'.join(KINDS)} 之一")
        if self.light is not None and self.light not in LIGHTS:
            raise BadRequest(f"light 只能是 {'、'.join(LIGHTS)} 之一")
        if self.kind == "indicator" and not self.indicator:
            raise BadRequest("按指标查看办件时须指明指标（indicator）")


def case_ids(scope: Scope, drill: DrillDown, catalog: IndicatorCatalog) -> Select | CompoundSelect:
    drill.check()
    if drill.kind == "active":
        query = select(INSTANCES.c.id).where(
            INSTANCES.c.status.in_(sorted(InstanceStatus.ACTIVE)),
            scope.within(INSTANCES.c.region_path),
        )
        if drill.process:
            query = query.where(INSTANCES.c.process_id == drill.process)
        if drill.area:
            query = query.where(scope.area_filter(INSTANCES.c.region_path, drill.area))
        return query
    if drill.kind == "supervised":
        query = (
            select(ORDERS.c.instance_id)
            .select_from(ORDERS.join(INSTANCES, INSTANCES.c.id == ORDERS.c.instance_id))
            .where(
                ORDERS.c.created_at >= scope.start,
                ORDERS.c.created_at < scope.end,
                scope.within(INSTANCES.c.region_path),
            )
        )
        if drill.department:
            query = query.where(_department(ORDERS.c.department, drill.department))
        if drill.area:
            query = query.where(scope.area_filter(INSTANCES.c.region_path, drill.area))
        return query
    if drill.kind == "indicator":
        indicator = catalog.get(drill.indicator or "")
        if indicator is None:
            raise BadRequest(f"没有指标 {drill.indicator}")
        parts = [counted_cases(scope, source) for source in indicator.sources]
        if not parts:
            return select(INSTANCES.c.id).where(INSTANCES.c.id.is_(None))
        return union(*parts) if len(parts) > 1 else parts[0]
    query = select(TASKS.c.instance_id).where(scope.within(TASKS.c.region_path))
    if drill.kind == "open":
        query = query.where(TASKS.c.state == "open")
        if drill.light:
            query = query.where(light_of(TASKS.c.sla_state) == drill.light)
    else:
        query = query.where(
            TASKS.c.state == "done",
            TASKS.c.completed_at >= scope.start,
            TASKS.c.completed_at < scope.end,
        )
        if drill.kind == "late":
            query = query.where(TASKS.c.sla_state == LATE_STATE)
    if drill.process:
        query = query.where(TASKS.c.process_id == drill.process)
    if drill.step:
        query = query.where(TASKS.c.task_spec == drill.step)
    if drill.department:
        query = query.where(_department(TASKS.c.department, drill.department))
    if drill.area:
        query = query.where(scope.area_filter(TASKS.c.region_path, drill.area))
    return query


def list_cases(
    session: Session, ids: Select | CompoundSelect, limit: int, offset: int
) -> dict[str, Any]:
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise BadRequest(f"limit 须在 1 到 {MAX_PAGE} 之间，offset 不能小于 0")
    chosen = ids.subquery()
    id_column = next(iter(chosen.c))
    total = session.scalar(select(func.count(id_column.distinct())))
    rows = session.scalars(
        select(Instance)
        .where(Instance.id.in_(select(id_column)))
        .order_by(Instance.created_at.desc(), Instance.id)
        .limit(limit)
        .offset(offset)
    ).all()
    steps = _open_steps(session, [r.id for r in rows])
    items = []
    for row in rows:
        view = instance_view(row)
        view.pop("data")
        view["region_path"] = row.region_path
        view["open_steps"] = steps.get(row.id, [])
        items.append(view)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _department(column, code: str):
    return column.is_(None) if code == UNROUTED else column == code


def _open_steps(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    if not ids:
        return found
    for task in session.execute(
        select(
            TASKS.c.id,
            TASKS.c.instance_id,
            TASKS.c.title,
            TASKS.c.department,
            TASKS.c.due_at,
            TASKS.c.sla_state,
        )
        .where(TASKS.c.instance_id.in_(ids), TASKS.c.state == "open")
        .order_by(TASKS.c.created_at, TASKS.c.id)
    ):
        found.setdefault(task.instance_id, []).append(
            {
                "id": task.id,
                "title": task.title,
                "department": task.department,
                "due_at": task.due_at.isoformat() if task.due_at else None,
                "sla_state": task.sla_state,
            }
        )
    return found
