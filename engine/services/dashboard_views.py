"""The dashboard's figures as the JSON shapes of the API and the pages: per process and stage,
per area and department, per step (average and 90th-percentile working days), the indicators
against their targets, and the heatmap's elements."""

from __future__ import annotations

from typing import Any

from .dashboard_metrics import StepFigures, Tally
from .dashboard_scope import NO_AREA, Scope
from .dashboard_workdays import percentile
from .names import NameBook

UNROUTED_NAME = "未分派（无对应部门）"
OTHER_AREA_NAME = "其他"


def scope_view(scope: Scope) -> dict[str, Any]:
    return {
        "region": scope.region,
        "region_name": scope.region_name,
        "since": scope.since.isoformat(),
        "until": scope.until.isoformat(),
        "year": scope.year,
    }


def step_view(figures: StepFigures, name: str) -> dict[str, Any]:
    finished = figures.finished
    taken = sum(days * count for days, count in figures.histogram.items())
    return {
        "process_id": figures.process_id,
        "step": figures.step,
        "name": name,
        "finished": finished,
        "late": figures.late,
        "overdue_share": round(figures.late / finished, 4) if finished else None,
        "avg_workdays": round(taken / finished, 1) if finished else None,
        "p90_workdays": percentile(figures.histogram),
        "open_cases": figures.open_cases,
        "open_steps": figures.open_steps,
        "open_red": figures.open_red,
        "avg_waited_workdays": (
            round(figures.waited_sum / figures.open_steps, 1) if figures.open_steps else None
        ),
    }


def merge_steps(
    opened: dict[tuple[str, str], StepFigures], finished: dict[tuple[str, str], StepFigures]
) -> dict[tuple[str, str], StepFigures]:
    merged = dict(finished)
    for key, figures in opened.items():
        into = merged.setdefault(key, StepFigures(*key))
        into.open_cases, into.open_steps = figures.open_cases, figures.open_steps
        into.open_red, into.waited_sum = figures.open_red, figures.waited_sum
    return merged


def area_views(scope: Scope, areas: dict[str, Tally]) -> list[dict[str, Any]]:
    """Every area of the scope in tree order (the region's own cases last, shown only when it
    has any); cases outside every area, if the tree is inconsistent, as 其他."""
    views = []
    for area in scope.areas:
        tally = areas.get(area.code, Tally())
        if area.own and not any(tally.view().values()):
            continue
        views.append({"code": area.code, "name": area.name, "own": area.own, **tally.view()})
    if NO_AREA in areas:
        views.append(
            {"code": NO_AREA, "name": OTHER_AREA_NAME, "own": False, **areas[NO_AREA].view()}
        )
    return views


def department_views(departments: dict[str, Tally], names: NameBook) -> list[dict[str, Any]]:
    """Most urgent first: red, then yellow, then late finishes, then 督办."""
    views = [
        {
            "code": code or "-",
            "name": names.department(code) if code else UNROUTED_NAME,
            **tally.view(),
        }
        for code, tally in departments.items()
    ]
    views.sort(key=lambda d: (-d["red"], -d["yellow"], -d["late"], -d["supervised"], d["code"]))
    return views


def process_views(
    active: list[tuple[str, str, int]],
    steps: dict[tuple[str, str], StepFigures],
    process_names: dict[str, str],
    step_names: dict[str, dict[str, str]],
) -> list[dict[str, Any]]:
    """Active cases per process, with the stages (open steps) they stand at."""
    cases: dict[str, int] = {}
    for process_id, _area, count in active:
        cases[process_id] = cases.get(process_id, 0) + count
    processes = sorted(set(cases) | {p for (p, _s), f in steps.items() if f.open_steps})
    views = []
    for process_id in processes:
        names = step_names.get(process_id, {})
        order = list(names)
        stages = [
            {
                "step": step,
                "name": names.get(step, step),
                "open_cases": figures.open_cases,
                "open_steps": figures.open_steps,
                "open_red": figures.open_red,
                "avg_waited_workdays": (
                    round(figures.waited_sum / figures.open_steps, 1)
                    if figures.open_steps
                    else None
                ),
            }
            for (process, step), figures in steps.items()
            if process == process_id and figures.open_steps
        ]
        stages.sort(key=lambda s: order.index(s["step"]) if s["step"] in order else 999)
        views.append(
            {
                "process_id": process_id,
                "name": process_names.get(process_id, process_id),
                "active_cases": cases.get(process_id, 0),
                "stages": stages,
            }
        )
    return views


def indicator_views(
    indicators, totals: dict[str, float], year_totals: dict[str, float], targets: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each indicator in the period and in its target year so far, against the year's target."""
    views = []
    for indicator in indicators:
        year_value = year_totals.get(indicator.key, 0.0)
        target = targets.get(indicator.key)
        goal = target.target if target is not None else None
        views.append(
            {
                "key": indicator.key,
                "name": indicator.name,
                "unit": indicator.unit,
                "value": totals.get(indicator.key, 0.0),
                "year_value": year_value,
                "target": goal,
                "progress": round(year_value / goal, 4) if goal else None,
                "basis": target.basis if target is not None else None,
            }
        )
    return views
