"""The figures of a dispatch report, read inside the issuing transaction: the dashboard's own
figures (DashboardService.dashboard_in, so a report and the 调度看板 agree to the step), plus
what the rankings need and the dashboard does not show — the average working days of the steps
each county and department finished in the period, and the share of 督办 orders due in the
period that were answered by their due time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from engine.db.tables import HumanTask, SlaClock, SlaSuspension, SupervisionOrder
from engine.domain.sla import Unit

from .actor import Actor
from .dashboard import DashboardService
from .dashboard_metrics import INSTANCES, Metrics
from .dashboard_scope import NO_AREA, Scope
from .reports_rankings import AVG_DAYS, ON_TIME, OVERDUE, SUPERVISION, ranking_rows

TASKS = HumanTask.__table__
ORDERS = SupervisionOrder.__table__
SLOWEST_STEPS = 10
NO_SUPERVISION_NOTE = "本期没有到期的督办单，“督办按时反馈率”未列入排名。"


def report_figures(
    session: Session,
    dashboard: DashboardService,
    actor: Actor,
    region: str | None,
    since: date,
    until: date,
) -> dict[str, Any]:
    """The dashboard's figures of the scope and period (DashboardService.dashboard_in, in this
    transaction), the ten slowest steps among those finished in it, and the rankings."""
    opened = dashboard.open_in(session, actor, region, since, until)
    scope, metrics, _today = opened
    board = dashboard.dashboard_in(session, actor, opened=opened)
    step_list = [s for s in board["steps"] if s["finished"]]
    step_list.sort(key=lambda s: (-s["avg_workdays"], -(s["p90_workdays"] or 0), s["name"]))
    days = _workdays_by_unit(metrics, scope)
    answered = _supervision_by_unit(session, scope)
    area_list = [_with_extras(a, a["code"], days[1], answered[1]) for a in board["areas"]]
    department_list = [
        _with_extras(d, d["code"], days[0], answered[0]) for d in board["departments"]
    ]
    supervision_known = bool(answered[0])
    measures = (ON_TIME, AVG_DAYS, OVERDUE, *((SUPERVISION,) if supervision_known else ()))
    ranked_departments = [d for d in department_list if d["code"] != "-"]
    return {
        "scope": board["scope"],
        "totals": board["totals"],
        "areas": area_list,
        "departments": department_list,
        "steps": step_list[:SLOWEST_STEPS],
        "indicators": board["indicators"],
        "rankings": {
            "measures": [m.key for m in measures],
            "note": None if supervision_known else NO_SUPERVISION_NOTE,
            "areas": ranking_rows([a for a in area_list if a["code"] != NO_AREA], measures),
            "departments": ranking_rows(ranked_departments, measures),
        },
    }


def _with_extras(
    row: dict[str, Any],
    code: str,
    days: dict[str, tuple[int, int]],
    answered: dict[str, tuple[int, int]],
) -> dict[str, Any]:
    taken, finished = days.get(code, (0, 0))
    in_time, due = answered.get(code, (0, 0))
    return {
        **row,
        "avg_workdays": round(taken / finished, 1) if finished else None,
        "supervision_due": due,
        "supervision_in_time": in_time,
        "supervision_in_time_rate": round(in_time / due, 4) if due else None,
    }


def _workdays_by_unit(
    metrics: Metrics, scope: Scope
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Per department and per area: (working days taken, steps) of the steps finished in the
    period, less the working days their clocks were suspended."""
    departments: dict[str, list[int]] = {}
    areas: dict[str, list[int]] = {}
    for _p, _s, department, area, taken, _state, count in metrics.session.execute(
        metrics.finished_query()
    ):
        for unit in (
            departments.setdefault(department or "-", [0, 0]),
            areas.setdefault(area, [0, 0]),
        ):
            unit[0] += int(taken) * count
            unit[1] += count
    for department, area, deducted in _suspended(metrics, scope):
        departments[department or "-"][0] -= deducted
        areas[area][0] -= deducted
    return (
        {k: (v[0], v[1]) for k, v in departments.items()},
        {k: (v[0], v[1]) for k, v in areas.items()},
    )


def _suspended(metrics: Metrics, scope: Scope) -> list[tuple[str | None, str, int]]:
    """(department, area, working days to deduct) of the finished steps whose clock was
    suspended (the dashboard deducts the same days per step)."""
    clocks, suspensions = SlaClock.__table__, SlaSuspension.__table__
    suspended = dict(
        metrics.session.execute(
            select(clocks.c.task_id, func.max(clocks.c.suspended_days))
            .select_from(suspensions.join(clocks, clocks.c.id == suspensions.c.clock_id))
            .where(
                suspensions.c.started_at < scope.end,
                clocks.c.stopped_at >= scope.start,
                clocks.c.unit == Unit.WORKDAYS,
                clocks.c.task_id.is_not(None),
                clocks.c.suspended_days > 0,
            )
            .group_by(clocks.c.task_id)
        ).all()
    )
    if not suspended:
        return []
    ordinal = metrics.index.ordinal_sql
    rows = metrics.session.execute(
        select(
            TASKS.c.id,
            TASKS.c.department,
            scope.area_of(TASKS.c.region_path),
            ordinal(metrics.local_day(TASKS.c.completed_at))
            - ordinal(metrics.local_day(TASKS.c.created_at)),
        ).where(
            TASKS.c.id.in_(sorted(suspended)),
            TASKS.c.state == "done",
            TASKS.c.completed_at >= scope.start,
            TASKS.c.completed_at < scope.end,
            scope.within(TASKS.c.region_path),
        )
    ).all()
    return [
        (department, area, min(int(taken), suspended[task_id]))
        for task_id, department, area, taken in rows
    ]


def _supervision_by_unit(
    session: Session, scope: Scope
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Per department and per area of the case: (answered by the due time, due) of the 督办
    orders whose reply was due in the period."""
    in_time = and_(ORDERS.c.replied_at.is_not(None), ORDERS.c.replied_at <= ORDERS.c.reply_due_at)
    rows = (
        select(
            ORDERS.c.department,
            scope.area_of(INSTANCES.c.region_path).label("area"),
            case((in_time, 1), else_=0).label("in_time"),
        )
        .select_from(ORDERS.join(INSTANCES, INSTANCES.c.id == ORDERS.c.instance_id))
        .where(
            ORDERS.c.reply_due_at >= scope.start,
            ORDERS.c.reply_due_at < scope.end,
            scope.within(INSTANCES.c.region_path),
        )
        .subquery()
    )
    query = select(rows.c.department, rows.c.area, func.sum(rows.c.in_time), func.count()).group_by(
        rows.c.department, rows.c.area
    )
    departments: dict[str, list[int]] = {}
    areas: dict[str, list[int]] = {}
    for department, area, answered, due in session.execute(query):
        for unit in (
            departments.setdefault(department or "-", [0, 0]),
            areas.setdefault(area, [0, 0]),
        ):
            unit[0] += int(answered or 0)
            unit[1] += due
    return (
        {k: (v[0], v[1]) for k, v in departments.items()},
        {k: (v[0], v[1]) for k, v in areas.items()},
    )


def issued_stamp(moment: datetime, zone) -> str:
    local = moment.astimezone(zone)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
