"""Server-rendered pages (zh-CN): sign-in, inbox, task form, case view, start a case."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from engine.errors import AuthenticationRequired, LandflowError, ValidationFailed
from engine.services.actor import Actor
from engine.services.container import Landflow
from engine.services.inbox import SCOPES, TaskFilter
from engine.services.sla import SUSPENSION_TYPES

from .form_fields import errors_by_field, fields_of, parse_posted
from .session import CSRF_FIELD, csrf_for, csrf_ok, session_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)

STATE_LABELS = {"open": "待办", "done": "已办", "returned": "已退回", "cancelled": "已取消"}
STATUS_LABELS = {
    "running": "办理中",
    "waiting": "等待中",
    "completed": "已办结",
    "error": "异常",
    "terminated": "已终止",
}
ACTION_LABELS = {
    "instance_started": "发起办件",
    "task_created": "生成环节",
    "task_claimed": "认领",
    "task_unclaimed": "取消认领",
    "task_completed": "办理完成",
    "task_cancelled": "环节取消",
    "comment": "发表意见",
    "message_received": "收到外部消息",
    "timer_fired": "计时到期",
    "instance_completed": "办结",
    "instance_terminated": "终止办件",
    "task_returned": "退回",
    "task_transferred": "转办",
    "task_delegated": "委托",
    "task_resolved": "受托人办结交回",
    "incident_opened": "发生异常",
    "incident_retried": "管理员重试",
    "incident_step_cancelled": "管理员跳过失败环节",
    "task_rerouted": "重新派发",
    "sla_suspended": "中止计时",
    "sla_resumed": "恢复计时",
    "sla_extension_requested": "申请延期",
    "sla_extension_approved": "批准延期",
    "sla_extension_rejected": "不予延期",
    "sla_escalated": "时限预警/督办",
    "supervision_order": "督办",
    "accepted_by_law": "依法视为受理",
    "deadline_recomputed": "期限重新计算",
}
SLA_LABELS = {
    "normal": "正常",
    "yellow": "黄灯",
    "red": "红灯",
    "paused": "已中止",
    "met": "按期",
    "missed": "超期",
    "cancelled": "已取消",
    "calendar_missing": "缺少日历",
    "provisional": "暂定",
    "requested": "延期待批",
    "approved": "已延期",
    "rejected": "延期未批准",
}
CLOCK_LABELS = {"statutory": "法定时限", "committed": "承诺时限", "overall": "总时限"}
TEMPLATES.env.globals.update(
    state_labels=STATE_LABELS,
    status_labels=STATUS_LABELS,
    action_labels=ACTION_LABELS,
    sla_labels=SLA_LABELS,
    clock_labels=CLOCK_LABELS,
    suspension_types=SUSPENSION_TYPES,
)
TEMPLATES.env.filters["pretty_json"] = lambda value: json.dumps(
    value, ensure_ascii=False, indent=2, sort_keys=True, default=str
)


class LoginRequired(Exception):
    pass


def landflow(request: Request) -> Landflow:
    return request.app.state.landflow


@pass_context
def _local(context, value: str | None, date_only: bool = False) -> str:
    """An API timestamp (UTC ISO) as local wall time (LANDFLOW_TIMEZONE) for the page."""
    if not value:
        return ""
    zone = ZoneInfo(context["request"].app.state.landflow.settings.timezone)
    moment = datetime.fromisoformat(value).astimezone(zone)
    return moment.strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M")


TEMPLATES.env.filters["local"] = _local


def page_actor(request: Request) -> Actor:
    try:
        return landflow(request).auth.authenticate(session_token(request))
    except AuthenticationRequired:
        raise LoginRequired from None


ActorDep = Annotated[Actor, Depends(page_actor)]


def render(
    request: Request, template: str, actor: Actor | None, status: int = 200, **context: Any
) -> HTMLResponse:
    token = session_token(request)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"actor": actor, "csrf": csrf_for(token) if token else "", **context},
        status_code=status,
    )


PAGE_ERROR_TITLES = {
    404: "未找到",
    409: "操作冲突",
    403: "无权操作",
    422: "填写有误",
    400: "请求无效",
}


def page_error(request: Request, status: int, message: str) -> HTMLResponse:
    actor = None
    with contextlib.suppress(AuthenticationRequired):
        actor = landflow(request).auth.authenticate(session_token(request))
    return render(
        request,
        "error.html",
        actor,
        status=status,
        title=PAGE_ERROR_TITLES.get(status, "出错了"),
        message=message,
    )


def check_csrf(request: Request, token: str) -> None:
    if not csrf_ok(request, token):
        raise LoginRequired


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", None)


@router.post("/login")
def login(
    request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = ""
) -> Response:
    lf = landflow(request)
    try:
        issued = lf.auth.issue_token(username, password, kind="session")
    except AuthenticationRequired:
        return render(
            request, "login.html", None, status=401, error="用户名或密码错误", username=username
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        lf.settings.session_cookie,
        issued["access_token"],
        httponly=True,
        samesite="lax",
        secure=lf.settings.cookie_secure,
        max_age=lf.settings.token_ttl_hours * 3600,
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    lf = landflow(request)
    if csrf_ok(request, csrf_token):
        lf.auth.revoke(session_token(request) or "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(lf.settings.session_cookie)
    return response


@router.get("/")
def inbox(
    request: Request, actor: ActorDep, scope: str = "mine", state: str = "open", page: int = 1
) -> HTMLResponse:
    lf = landflow(request)
    page = max(page, 1)
    scope = scope if scope in SCOPES else "mine"
    state = state if state in ("open", "done") else "open"
    tasks = lf.inbox.list(
        actor, TaskFilter(scope=scope, state=state, limit=20, offset=(page - 1) * 20)
    )
    counts = lf.inbox.counts(actor)
    return render(
        request,
        "inbox.html",
        actor,
        tasks=tasks,
        scope=scope,
        state=state,
        page=page,
        counts=counts,
    )


@router.get("/tasks/{task_id}")
def task_page(request: Request, task_id: str, actor: ActorDep) -> HTMLResponse:
    lf = landflow(request)
    task = lf.inbox.get(actor, task_id)
    return render(
        request,
        "task.html",
        actor,
        task=task,
        fields=fields_of(task["form"], task.get("draft") or {}),
        clocks=lf.sla.task_clocks(actor, task_id),
    )


@router.post("/tasks/{task_id}/return")
def return_task(
    request: Request,
    task_id: str,
    actor: ActorDep,
    reason: Annotated[str, Form()] = "",
    target: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    result = landflow(request).tasks.return_task(actor, task_id, reason, target or None)
    return RedirectResponse(f"/cases/{result['task']['instance_id']}", status_code=303)


@router.post("/tasks/{task_id}/suspend")
def suspend(
    request: Request,
    task_id: str,
    actor: ActorDep,
    reason_type: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    missing_items: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    items = [line.strip() for line in missing_items.splitlines() if line.strip()]
    landflow(request).sla.suspend(actor, task_id, reason_type, reason, items or None)
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


@router.post("/tasks/{task_id}/resume")
def resume(
    request: Request,
    task_id: str,
    actor: ActorDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    landflow(request).sla.resume(actor, task_id)
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


@router.post("/tasks/{task_id}/claim")
def claim(
    request: Request,
    task_id: str,
    actor: ActorDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    landflow(request).tasks.claim(actor, task_id)
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


@router.post("/tasks/{task_id}/complete")
async def complete(request: Request, task_id: str, actor: ActorDep) -> Response:
    lf = landflow(request)
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    task = lf.inbox.get(actor, task_id)
    data = parse_posted(task["form"], form)
    try:
        lf.tasks.complete(actor, task_id, data)
    except ValidationFailed as exc:
        fields = fields_of(task["form"], data)
        errors, form_errors = errors_by_field(fields, exc.errors)
        return render(
            request,
            "task.html",
            actor,
            status=422,
            task=task,
            fields=fields,
            errors=errors,
            form_errors=form_errors,
            error_summary=exc.message,
            clocks=lf.sla.task_clocks(actor, task_id),
        )
    return RedirectResponse(f"/cases/{task['instance_id']}?done={task_id}", status_code=303)


@router.get("/cases/new")
def new_case_page(request: Request, actor: ActorDep, process_id: str = "") -> HTMLResponse:
    lf = landflow(request)
    processes = _latest_processes(lf)
    return render(
        request,
        "new_case.html",
        actor,
        processes=processes,
        fields=_start_fields(lf, processes, process_id),
        form={"process_id": process_id},
    )


@router.post("/cases")
async def start_case(request: Request, actor: ActorDep) -> Response:
    lf = landflow(request)
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    process_id = str(form.get("process_id", ""))
    region, business_key = str(form.get("region", "")), str(form.get("business_key", ""))
    processes = _latest_processes(lf)
    start_form = next(
        (p["start_form_key"] for p in processes if p["process_id"] == process_id), None
    )
    data = parse_posted(lf.forms.schema(start_form), form) if start_form else {}
    try:
        case = lf.instances.start(
            actor, process_id, region.strip(), business_key.strip() or None, data
        )
    except LandflowError as exc:
        errors = [e.message for e in getattr(exc, "errors", [])] or [exc.message]
        return render(
            request,
            "new_case.html",
            actor,
            status=422,
            processes=processes,
            errors=errors,
            fields=_start_fields(lf, processes, process_id, data),
            form={"process_id": process_id, "region": region, "business_key": business_key},
        )
    return RedirectResponse(f"/cases/{case['id']}", status_code=303)


def _start_fields(
    lf: Landflow,
    processes: list[dict[str, Any]],
    process_id: str,
    values: dict[str, Any] | None = None,
):
    key = next((p["start_form_key"] for p in processes if p["process_id"] == process_id), None)
    return fields_of(lf.forms.schema(key), values) if key else []


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, actor: ActorDep) -> HTMLResponse:
    case = landflow(request).instances.get(actor, case_id)
    return render(request, "case.html", actor, case=case)


def _latest_processes(lf: Landflow) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for version in lf.definitions.list_versions():
        seen.setdefault(version["process_id"], version)
    return list(seen.values())
