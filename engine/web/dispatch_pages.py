"""The leadership-group office's pages: the dispatch dashboard (调度看板) with its charts, the
cases behind any number, the process heatmap and the yearly targets. Offices and administrators
only; anyone else is told the page does not exist."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.domain.sla import local_day
from engine.errors import BadRequest, PermissionDenied, ValidationFailed
from engine.services.actor import Actor
from engine.services.dashboard_drilldown import KINDS, LIGHTS, DrillDown

from .dispatch_links import (
    KIND_LABELS,
    LIGHT_LABELS,
    DispatchFilters,
    charts,
    percent,
    quick_links,
    read_dispatch_filters,
)
from .rendering import TEMPLATES, ActorDep, check_csrf, landflow, page_error, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
MAX_PAGE = 1000
TEMPLATES.env.filters["percent"] = percent


def _forbidden(request: Request, actor: Actor) -> HTMLResponse | None:
    """Anyone but an office or an administrator is told the page does not exist."""
    try:
        landflow(request).access.require_office(actor)
    except PermissionDenied:
        return page_error(request, 404, "页面不存在")
    return None


def _filters(request: Request) -> DispatchFilters:
    lf = landflow(request)
    today = local_day(lf.clock.now(), lf.dispatch.zone)
    return read_dispatch_filters(request, today)


def _scope_args(filters: DispatchFilters) -> tuple[str | None, Any, Any]:
    return filters.region or None, filters.since, filters.until


@router.get("/dispatch")
def dashboard_page(request: Request, actor: ActorDep) -> Response:
    refused = _forbidden(request, actor)
    if refused:
        return refused
    lf = landflow(request)
    filters = _filters(request)
    figures = lf.dispatch.dashboard(actor, *_scope_args(filters))
    links = _pinned(filters, figures)
    return render(
        request,
        "dispatch.html",
        actor,
        figures=figures,
        filters=filters,
        links=links,
        choices=lf.dispatch.choices(actor),
        quick_links=quick_links("/dispatch", links.region),
        charts={"charts": charts(figures, links)},
        year_start=f"{figures['scope']['year']}-01-01",
    )


@router.get("/dispatch/cases")
def cases_page(request: Request, actor: ActorDep) -> Response:
    refused = _forbidden(request, actor)
    if refused:
        return refused
    lf = landflow(request)
    filters = _filters(request)
    params = request.query_params
    drill = DrillDown(
        kind=params.get("kind", "") if params.get("kind") in KINDS else "active",
        process=params.get("process") or None,
        step=params.get("step") or None,
        department=params.get("department") or None,
        area=params.get("area") or None,
        light=params.get("light") if params.get("light") in LIGHTS else None,
        indicator=params.get("indicator") or None,
    )
    page_text = params.get("page", "1")
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) <= MAX_PAGE else 1
    listed = lf.dispatch.cases(
        actor, drill, *_scope_args(filters), PAGE_SIZE, (page - 1) * PAGE_SIZE
    )
    links = _pinned(filters, listed)
    same = {
        k: v
        for k, v in {
            "kind": drill.kind,
            "process": drill.process,
            "step": drill.step,
            "department": drill.department,
            "area": drill.area,
            "light": drill.light,
            "indicator": drill.indicator,
        }.items()
        if v
    }
    return render(
        request,
        "dispatch_cases.html",
        actor,
        listed=listed,
        drill=drill,
        heading=_heading(drill, listed),
        links=links,
        page=page,
        pages=max((listed["total"] + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        page_url=lambda n: links.url("/dispatch/cases", page=n, **same),
    )


@router.get("/dispatch/heatmap")
def heatmap_page(request: Request, actor: ActorDep, process: str = "") -> Response:
    refused = _forbidden(request, actor)
    if refused:
        return refused
    lf = landflow(request)
    filters = _filters(request)
    choices = lf.dispatch.choices(actor)
    known = [p["process_id"] for p in choices["processes"]]
    process = process if process in known else (known[0] if known else "")
    if not process:
        return page_error(request, 404, "尚未部署任何流程")
    heat = lf.dispatch.heatmap(actor, process, *_scope_args(filters))
    links = _pinned(filters, heat)
    for element in heat["elements"]:
        element["link"] = links.cases("finished", process=process, step=element["id"])
        element["late_link"] = links.cases("late", process=process, step=element["id"])
        element["open_link"] = links.cases("open", process=process, step=element["id"])
    return render(
        request,
        "dispatch_heatmap.html",
        actor,
        heat=heat,
        process=process,
        filters=filters,
        links=links,
        choices=choices,
        quick_links=quick_links("/dispatch/heatmap", links.region, process=process),
        diagram={k: heat[k] for k in ("xml", "elements", "max_avg_workdays", "max_p90_workdays")},
    )


@router.get("/dispatch/targets")
def targets_page(
    request: Request, actor: ActorDep, year: int = 0, region: str = "", saved: str = ""
) -> Response:
    refused = _forbidden(request, actor)
    if refused:
        return refused
    lf = landflow(request)
    year = year if 2000 <= year <= 2100 else local_day(lf.clock.now(), lf.dispatch.zone).year
    choices = lf.dispatch.choices(actor)
    if not region and not actor.territories and choices["regions"]:
        region = choices["regions"][0]["code"]  # an administrator starts at the first province
    targets = lf.dispatch.targets(actor, year, region or None)
    return render(
        request,
        "dispatch_targets.html",
        actor,
        targets=targets,
        choices=choices,
        saved=saved == "1",
        errors=[],
    )


@router.post("/dispatch/targets")
async def save_targets(request: Request, actor: ActorDep) -> Response:
    refused = _forbidden(request, actor)
    if refused:
        return refused
    lf = landflow(request)
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    year, region = str(form.get("year", "")), str(form.get("region", ""))
    if not year.isdigit():
        return page_error(request, 400, "年度无效")
    errors = []
    for indicator in lf.dispatch.choices(actor)["indicators"]:
        key, name = indicator["key"], indicator["name"]
        typed = str(form.get(f"target_{key}", "")).strip().replace(",", "")
        basis = str(form.get(f"basis_{key}", "")).strip() or None
        unchanged = typed == str(form.get(f"before_{key}", "")).strip() and basis == (
            str(form.get(f"basis_before_{key}", "")).strip() or None
        )
        if unchanged:
            continue
        try:
            value = float(typed) if typed else None
            lf.dispatch.set_target(actor, int(year), region, key, value, basis)
        except ValueError:
            errors.append(f"{name}：请填写数字")
        except (ValidationFailed, BadRequest) as exc:
            details = [e.message for e in getattr(exc, "errors", [])] or [exc.message]
            errors.append(f"{name}：{'；'.join(details)}")
    if errors:
        targets = lf.dispatch.targets(actor, int(year), region or None)
        return render(
            request,
            "dispatch_targets.html",
            actor,
            status=422,
            targets=targets,
            choices=lf.dispatch.choices(actor),
            saved=False,
            errors=errors,
        )
    return RedirectResponse(
        f"/dispatch/targets?year={year}&region={region}&saved=1", status_code=303
    )


def _pinned(filters: DispatchFilters, answer: dict[str, Any]) -> DispatchFilters:
    """The filters as the service resolved them (default region and period filled in), so
    every link opens exactly the rows its number counted."""
    scope = answer["scope"]
    return DispatchFilters(
        region=scope["region"] or "",
        since=date.fromisoformat(scope["since"]),
        until=date.fromisoformat(scope["until"]),
        problems=filters.problems,
        typed=filters.typed,
    )


def _heading(drill: DrillDown, listed: dict[str, Any]) -> str:
    """What the list shows, in words: 金华市 · 婺城区 · 红灯 · 在办环节 …"""
    labels = listed["labels"]
    parts = [listed["scope"]["region_name"]]
    parts += [labels[k] for k in ("area", "process", "step", "department") if k in labels]
    if drill.light:
        parts.append(LIGHT_LABELS.get(drill.light, drill.light))
    if "indicator" in labels:
        parts.append(labels["indicator"])
    parts.append(KIND_LABELS.get(drill.kind, drill.kind))
    return " · ".join(parts)
