"""组织机构: the regions tree with each region's departments, the users (search, paging), the
stand-ins, and the CSV import form. A user's own page is in admin_org_users, the import preview
in admin_org_import."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.domain.organisation import DEPARTMENT_TYPES, LEVEL_NAMES, LEVELS, ROLES, level_rank
from engine.errors import Conflict, FieldError, NotFound, ValidationFailed
from engine.services.actor import Actor
from engine.services.organisation import DepartmentSpec

from .admin_access import AdminDep
from .rendering import check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
TABS = {"regions": "区划与部门", "users": "用户", "substitutions": "代理", "import": "批量导入"}
SUBSTITUTION_STATES = {
    "upcoming": "未开始",
    "running": "代理中",
    "ended": "已结束",
    "cancelled": "已撤销",
}
DONE = {
    "department": "部门已保存",
    "substitution_added": "代理已登记",
    "substitution_ended": "代理已结束",
}


@router.get("/admin/org")
def org_page(
    request: Request,
    actor: AdminDep,
    tab: str = "regions",
    depth: str = "county",
    region: str = "",
    q: str = "",
    department: str = "",
    page: int = 1,
    done: str = "",
) -> HTMLResponse:
    return _render(
        request,
        actor,
        tab=tab,
        depth=depth,
        region=region,
        q=q[:100],
        department=department[:60],
        page=max(page, 1),
        flash=DONE.get(done, ""),
    )


@router.post("/admin/org/departments")
async def add_department(request: Request, actor: AdminDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    region = str(form.get("region", "")).strip()
    spec = DepartmentSpec(
        str(form.get("dept_type", "")).strip(), region, str(form.get("name", "")).strip() or None
    )
    try:
        created = landflow(request).organisation.create_department(actor, spec)
    except ValidationFailed as exc:
        return _render(request, actor, tab="regions", region=region, status=422, failed=exc)
    rerouted = len(created["rerouted_tasks"])
    query = {"tab": "regions", "region": region, "done": "department", "rerouted": rerouted}
    return RedirectResponse(f"/admin/org?{urlencode(query)}", status_code=303)


@router.post("/admin/org/substitutions")
async def add_substitution(request: Request, actor: AdminDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    given = {k: str(form.get(k, "")).strip() for k in SUBSTITUTION_FIELDS}
    try:
        landflow(request).organisation.add_substitution(
            actor,
            given["absent"],
            given["substitute"],
            _day(given["starts_on"], "starts_on", "开始日期"),
            _day(given["ends_on"], "ends_on", "结束日期"),
            given["reason"] or _missing("reason", "请填写代理事由"),
        )
    except (ValidationFailed, NotFound) as exc:
        return _render(request, actor, tab="substitutions", status=422, failed=exc, given=given)
    return RedirectResponse("/admin/org?tab=substitutions&done=substitution_added", 303)


@router.post("/admin/org/substitutions/{substitution_id}/end")
async def end_substitution(request: Request, substitution_id: int, actor: AdminDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    try:
        landflow(request).organisation.end_substitution(actor, substitution_id)
    except Conflict as exc:
        return _render(request, actor, tab="substitutions", status=409, failed=exc)
    back = str(form.get("back", ""))
    target = back if back.startswith("/admin/org") else "/admin/org?tab=substitutions"
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}done=substitution_ended", 303)


SUBSTITUTION_FIELDS = ("absent", "substitute", "starts_on", "ends_on", "reason")


def _day(text: str, field: str, label: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{label}无效", [FieldError(field, f"{label}应为日期")]) from None


def _missing(field: str, message: str) -> str:
    raise ValidationFailed(message, [FieldError(field, message)])


def _render(
    request: Request,
    actor: Actor,
    tab: str = "regions",
    status: int = 200,
    failed: Exception | None = None,
    **context: Any,
) -> HTMLResponse:
    lf = landflow(request)
    lf.access.require_admin(actor)
    tab = tab if tab in TABS else "regions"
    context.setdefault("flash", "")
    if context["flash"] and request.query_params.get("rerouted", "0") not in ("", "0"):
        context["flash"] += f"，{request.query_params['rerouted']} 个等待派发的环节已派给该部门"
    if tab == "regions":
        context.update(
            _regions_tab(lf, actor, context.get("depth", "county"), context.get("region", ""))
        )
    elif tab == "users":
        context["found"] = lf.organisation.find_users(
            actor, context.get("q", ""), context.get("department") or None, context.get("page", 1)
        )
    elif tab == "substitutions":
        context["substitutions"] = lf.organisation.substitutions(actor)
    errors = {}
    message = ""
    if failed is not None:
        message = getattr(failed, "message", str(failed))
        errors = {e.field: e.message for e in getattr(failed, "errors", [])}
    return render(
        request,
        "admin_org.html",
        actor,
        status=status,
        tab=tab,
        tabs=TABS,
        roles=ROLES,
        dept_types=DEPARTMENT_TYPES,
        level_names=LEVEL_NAMES,
        substitution_states=SUBSTITUTION_STATES,
        message=message,
        errors=errors,
        given=context.pop("given", {}),
        **context,
    )


def _regions_tab(lf, actor: Actor, depth: str, selected: str) -> dict[str, Any]:
    """The tree of regions, opened down to `depth` and along the way to the selected one."""
    depth = depth if depth in LEVELS else "county"
    regions = lf.organisation.regions(actor)
    by_code = {r["code"]: {**r, "children": []} for r in regions}
    roots: list[dict[str, Any]] = []
    for node in by_code.values():
        parent = by_code.get(node["parent"] or "")
        (parent["children"] if parent else roots).append(node)
    chosen = by_code.get(selected)
    on_way = set(chosen["path"].strip("/").split("/")) if chosen else set()
    for node in by_code.values():
        node["open"] = level_rank(node["level"]) < level_rank(depth) or (
            node["code"] in on_way and node["code"] != selected
        )
    return {
        "tree": roots,
        "depth": depth,
        "levels": LEVELS,
        "region": selected if chosen else "",
        "chosen": chosen,
        "departments": lf.organisation.departments(actor, selected) if chosen else [],
    }
