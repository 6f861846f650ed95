"""时限设置: the time-limit rules (法定/承诺/办理总时限 per process, task and region, with their
legal basis) listed by process with Chinese step names; add, change and remove a rule."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.domain.time_limits import CASE_WIDE, KIND_NAMES, LimitRule
from engine.errors import FieldError, ValidationFailed
from engine.services.actor import Actor
from engine.services.admin_console import admin_console

from .admin_access import AdminDep
from .rendering import check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
FIELDS = (
    "process_id",
    "task_spec",
    "region_prefix",
    "kind",
    "limit",
    "yellow",
    "max_extension",
    "basis",
)
DONE = {"saved": "时限规则已保存，此后开始计时的环节按新规则计算", "deleted": "时限规则已删除"}


@router.get("/admin/time-limits")
def time_limits_page(
    request: Request, actor: AdminDep, process: str = "", edit: int = 0, done: str = ""
) -> HTMLResponse:
    return _render(request, actor, process, edit=edit, flash=DONE.get(done, ""))


@router.post("/admin/time-limits")
async def save_rule(request: Request, actor: AdminDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    given = {name: str(form.get(name, "")).strip() for name in FIELDS}
    try:
        rule = LimitRule(
            process_id=given["process_id"],
            task_spec=given["task_spec"],
            region_prefix=given["region_prefix"],
            kind=given["kind"],
            limit=given["limit"],
            yellow=given["yellow"] or None,
            max_extension=_whole(given["max_extension"]),
            basis=given["basis"] or None,
        )
        landflow(request).sla.time_limits.put(actor, rule)
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        return _render(
            request,
            actor,
            given["process_id"],
            status=422,
            given=given,
            errors=errors,
            message=exc.message,
            edit=int(str(form.get("id"))) if str(form.get("id", "")).isdigit() else 0,
        )
    query = urlencode({"process": given["process_id"], "done": "saved"})
    return RedirectResponse(f"/admin/time-limits?{query}", status_code=303)


@router.post("/admin/time-limits/{rule_id}/delete")
async def delete_rule(request: Request, rule_id: int, actor: AdminDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    try:
        landflow(request).sla.time_limits.delete(actor, rule_id)
    except ValidationFailed as exc:
        process = str(form.get("process", ""))
        return _render(request, actor, process, status=422, message=exc.errors[0].message)
    query = urlencode({"process": str(form.get("process", "")), "done": "deleted"})
    return RedirectResponse(f"/admin/time-limits?{query}", status_code=303)


def _whole(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise ValidationFailed("时限规则无效", [FieldError("max_extension", "最长延期应为天数")])
    return int(text)


def _render(
    request: Request,
    actor: Actor,
    process: str,
    status: int = 200,
    edit: int = 0,
    **context: Any,
) -> HTMLResponse:
    lf = landflow(request)
    console = admin_console(lf)
    processes = {p["process_id"]: p["name"] for p in console.definitions.processes(actor)}
    rules = lf.sla.time_limits.list(actor, process or None)
    by_process: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        by_process.setdefault(rule["process_id"], []).append(rule)
    steps = {pid: console.definitions.step_names(actor, pid) for pid in by_process}
    for pid, group in by_process.items():
        group.sort(key=_diagram_order(steps[pid]))
    if process and process not in steps:
        steps[process] = console.definitions.step_names(actor, process)
    editing = next((r for r in rules if r["id"] == edit), None)
    given = context.pop("given", None) or _form_values(editing, process)
    return render(
        request,
        "admin_time_limits.html",
        actor,
        status=status,
        process=process,
        processes=processes,
        by_process=by_process,
        steps=steps,
        editing=editing,
        given=given,
        kind_names=KIND_NAMES,
        case_wide=CASE_WIDE,
        region_names={r["region_prefix"]: _region_name(lf, r["region_prefix"]) for r in rules},
        errors=context.pop("errors", {}),
        message=context.pop("message", ""),
        flash=context.pop("flash", ""),
    )


def _diagram_order(step_ids: Iterable[str]) -> Callable[[dict[str, Any]], tuple[int, str]]:
    """Sort key for a process's rules: case-wide first, then the steps in diagram order."""
    order = {spec: n for n, spec in enumerate([CASE_WIDE, *step_ids])}
    return lambda rule: (order.get(rule["task_spec"], len(order)), rule["region_prefix"])


def _form_values(rule: dict[str, Any] | None, process: str) -> dict[str, str]:
    if rule is None:
        return {name: "" for name in FIELDS} | {"process_id": process, "kind": "committed"}
    values = {name: "" if rule.get(name) is None else str(rule[name]) for name in FIELDS}
    values["yellow"] = rule["yellow"] or ""
    return values


def _region_name(lf, prefix: str) -> str:
    if not prefix:
        return "全部地区"
    code = prefix.ljust(6, "0") if len(prefix) < 6 else prefix
    name = lf.names.region(code)
    return f"{name}（{prefix}）" if name != code else prefix
