"""Admin pages for incidents: the list (counted by process) and one incident with its
technical detail, the case data to correct, retry and cancel-step. The admin console reuses
them."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import ValidationFailed

from .rendering import ActorDep, check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)

KIND_LABELS = {
    "expression": "表达式计算错误",
    "calendar": "缺少节假日安排",
    "data": "数据不符合要求",
    "merge": "并行分支数据冲突",
    "engine": "引擎执行错误",
    "budget": "超出运行限额",
}
STATUS_LABELS = {"open": "待处理", "resolved": "已重试解决", "cancelled": "已取消环节"}


def process_names(request: Request) -> dict[str, str]:
    names: dict[str, str] = {}
    for version in landflow(request).definitions.list_versions():
        names.setdefault(version["process_id"], version.get("name") or version["process_id"])
    return names


@router.get("/admin/incidents")
def incident_list(
    request: Request, actor: ActorDep, status: str = "open", process: str = ""
) -> HTMLResponse:
    lf = landflow(request)
    status = status if status in STATUS_LABELS else "open"
    page = lf.incidents.list(actor, status=status, process_id=process or None, limit=200)
    return render(
        request,
        "admin_incidents.html",
        actor,
        incidents=page["items"],
        total=page["total"],
        counts=lf.incidents.counts(actor),
        names=process_names(request),
        shown_status=status,
        process=process,
        kind_labels=KIND_LABELS,
        incident_status_labels=STATUS_LABELS,
    )


@router.get("/admin/incidents/{incident_id}")
def incident_page(request: Request, incident_id: int, actor: ActorDep) -> HTMLResponse:
    return _render_incident(request, actor, incident_id)


def _render_incident(
    request: Request,
    actor: Any,
    incident_id: int,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    incident = landflow(request).incidents.get(actor, incident_id)
    data = incident.get("case_data") or {}
    rows = [
        {"name": name, "value": (values or {}).get(name, shown(value)), "original": shown(value)}
        for name, value in sorted(data.items())
    ]
    return render(
        request,
        "admin_incident.html",
        actor,
        status=status,
        incident=incident,
        rows=rows,
        error=error,
        names=process_names(request),
        kind_labels=KIND_LABELS,
        incident_status_labels=STATUS_LABELS,
    )


@router.post("/admin/incidents/{incident_id}/retry")
async def retry(request: Request, incident_id: int, actor: ActorDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    corrections, values = corrections_from(form)
    try:
        landflow(request).incidents.retry(actor, incident_id, corrections)
    except ValidationFailed as exc:
        detail = "；".join(e.message for e in exc.errors)
        return _render_incident(
            request, actor, incident_id, 422, f"{exc.message}：{detail}", values
        )
    return RedirectResponse(f"/admin/incidents/{incident_id}", status_code=303)


@router.post("/admin/incidents/{incident_id}/cancel-step")
async def cancel_step(request: Request, incident_id: int, actor: ActorDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    try:
        landflow(request).incidents.cancel_step(actor, incident_id, str(form.get("reason", "")))
    except ValidationFailed as exc:
        return _render_incident(request, actor, incident_id, 422, exc.errors[0].message)
    return RedirectResponse(f"/admin/incidents/{incident_id}", status_code=303)


def shown(value: Any) -> str:
    """A value as the admin edits it: text as it is, anything else in JSON notation."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def corrections_from(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Only what the admin changed (or added) is corrected."""
    corrections: dict[str, Any] = {}
    values: dict[str, str] = {}
    for key in form:
        if not key.startswith("value:"):
            continue
        name = key.removeprefix("value:")
        text = str(form.get(key, ""))
        values[name] = text
        if text != str(form.get(f"original:{name}", "")):
            original = str(form.get(f"original:{name}", ""))
            corrections[name] = text if _was_text(original, text) else parsed(text)
    new_name = str(form.get("new_name", "")).strip()
    if new_name:
        corrections[new_name] = parsed(str(form.get("new_value", "")))
    return corrections, values


def _was_text(original: str, text: str) -> bool:
    """A variable that held text keeps holding text, even if it now looks like a number."""
    return original != "" and parsed(original) == original
