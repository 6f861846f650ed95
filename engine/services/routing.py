"""Routing a new human task to the department of the right type in the right region, and
re-routing waiting tasks once their department exists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import ReadyTask
from engine.db.tables import Department, HumanTask, Region
from engine.domain.organisation import RouteTarget, route_target


def route(
    session: Session, region_path: str, lanes: dict[str, dict], task: ReadyTask
) -> tuple[RouteTarget, str | None]:
    """The target of a task and the department code it goes to (None: unroutable)."""
    lane = lanes.get(task.process_id, {}).get(task.lane or "", {}).get("properties", {})
    codes = region_path.strip("/").split("/")
    levels = dict(
        session.execute(select(Region.code, Region.level).where(Region.code.in_(codes))).all()
    )
    target = route_target(
        region_path, levels, lane, task.explicit_dept_type, task.explicit_department
    )
    if target.problem:
        return target, None
    department = session.scalar(
        select(Department.code).where(
            Department.dept_type == target.dept_type,
            Department.region_code == target.region,
            Department.is_active,
        )
    )
    if department is None:
        problem = f"no active department '{target.dept_type}' in region {target.region}"
        return RouteTarget(target.dept_type, target.region, problem), None
    return target, department


def reroute_waiting(session: Session, department: Department) -> list[HumanTask]:
    """Give the department the open tasks that waited for it; returns them."""
    waiting = session.scalars(
        select(HumanTask).where(
            HumanTask.state == "open",
            HumanTask.department.is_(None),
            HumanTask.route_dept_type == department.dept_type,
            HumanTask.route_region == department.region_code,
        )
    ).all()
    for task in waiting:
        task.department, task.route_problem = department.code, None
    return list(waiting)
