"""Rendering shared by every page: templates with their labels and filters, the signed-in
actor, CSRF checks, and the error page."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from engine.errors import AuthenticationRequired
from engine.services.actor import Actor
from engine.services.container import Landflow
from engine.services.inbox import COUNT_CAP
from engine.services.sla import SUSPENSION_TYPES

from .labels import ACTION_LABELS, CLOCK_LABELS, SLA_LABELS, STATE_LABELS, STATUS_LABELS
from .session import csrf_for, csrf_ok, session_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
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


def _names(context) -> Any:
    return context["request"].app.state.landflow.names


def _name_filter(lookup: str):
    @pass_context
    def name_of(context, code: str | None) -> str:
        return getattr(_names(context), lookup)(code)

    return name_of


for _filter, _lookup in (
    ("dept_name", "department"),
    ("region_name", "region"),
    ("region_full", "region_full"),
    ("process_name", "process"),
    ("user_name", "user"),
    ("dept_type_name", "dept_type"),
):
    TEMPLATES.env.filters[_filter] = _name_filter(_lookup)


def _count_text(value: object) -> object:
    return f"{COUNT_CAP}+" if isinstance(value, int) and value > COUNT_CAP else value


TEMPLATES.env.filters["count_text"] = _count_text
