"""The home page: the inbox (待办) with its tabs, filters, sorting, paging and bulk claim; an
applicant gets the plain view of their own cases instead."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.domain.time_left import LIGHTS
from engine.errors import BadRequest
from engine.services.actor import Actor
from engine.services.inbox import TaskFilter

from .list_filters import PAGE_SIZE, filter_options, read_filters
from .rendering import ActorDep, check_csrf, landflow, render
from .session import CSRF_FIELD
from .workspace_pages import header_for

router = APIRouter(include_in_schema=False)

# (scope, state, label): the tabs in their order; 已办 lists the finished tasks of my own
TABS = (
    ("mine", "open", "我的待办"),
    ("queue", "open", "待认领"),
    ("own", "done", "已办"),
    ("watch", "open", "待阅"),
    ("supervised", "open", "关注督办"),
    ("all", "open", "全部待办"),
    ("unroutable", "open", "无法派发"),
)
LIGHT_LABELS = {
    "green": "正常",
    "yellow": "黄灯",
    "red": "红灯",
    "paused": "已中止计时",
    "provisional": "暂定",
}
SORT_LABELS = {"due": "期限最近的在前", "-created": "最新接收的在前", "created": "最早接收的在前"}
DONE_SORT_LABELS = {"-completed": "最近办结的在前", "-created": "最新接收的在前"}


@router.get("/")
def home(request: Request, actor: ActorDep, scope: str = "mine", state: str = "") -> HTMLResponse:
    lf = landflow(request)
    if header_for(request, actor)["is_applicant"]:
        return render(request, "applicant_home.html", actor, cases=lf.applicant.cases(actor))
    tabs = _tabs(actor)
    scope = scope if any(t[0] == scope for t in tabs) else "mine"
    state = state if state in ("open", "done") else next(t[1] for t in tabs if t[0] == scope)
    filters = read_filters(request, lf, actor, "light", "sort")
    sorts = DONE_SORT_LABELS if state == "done" else SORT_LABELS
    light = filters.extra["light"] if filters.extra["light"] in LIGHTS else None
    sort = filters.extra["sort"] if filters.extra["sort"] in sorts else next(iter(sorts))
    filters.extra.update(light=light or "", sort=sort, scope=scope, state=state)
    zone = ZoneInfo(lf.settings.timezone)
    where = TaskFilter(
        scope=scope,
        state=state,
        process_id=filters.process or None,
        region=filters.region or None,
        created_from=filters.created_from(zone),
        created_to=filters.created_to(zone),
        sort=sort,
        limit=PAGE_SIZE,
        light=light if state == "open" else None,
        cursor=filters.cursor or None,
    )
    try:
        tasks = lf.inbox.list(actor, where)
    except BadRequest:  # a cursor of another list or sort, typed or kept: start over
        filters.cursor = ""
        tasks = lf.inbox.list(actor, replace(where, cursor=None))
    counts = lf.inbox.counts(actor)
    return render(
        request,
        "inbox.html",
        actor,
        tasks=tasks,
        tabs=[
            {
                "label": label,
                "url": "/?" + urlencode({"scope": tab_scope, "state": tab_state}),
                "count": counts["done" if tab_state == "done" else tab_scope],
                "active": tab_scope == scope,
            }
            for tab_scope, tab_state, label in tabs
        ],
        scope=scope,
        state=state,
        filters=filters,
        options=filter_options(lf, actor),
        lights=LIGHT_LABELS,
        sorts=sorts,
        claimable=any(t["can_claim"] for t in tasks["items"]),
        claimed=request.query_params.get("claimed"),
        refused=request.query_params.get("refused"),
    )


@router.post("/inbox/claim")
async def bulk_claim(request: Request, actor: ActorDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    task_ids = [str(v) for v in form.getlist("task_ids") if str(v)][:200]
    result = landflow(request).tasks.claim_many(actor, task_ids) if task_ids else {"claimed": 0}
    refused = len(task_ids) - result["claimed"]
    query = urlencode({"scope": "mine", "claimed": result["claimed"], "refused": refused})
    return RedirectResponse(f"/?{query}", status_code=303)


def _tabs(actor: Actor) -> list[tuple[str, str, str]]:
    shown = []
    for scope, state, label in TABS:
        if scope == "watch" and not (actor.territories or actor.is_admin):
            continue
        if scope == "unroutable" and not actor.is_admin:
            continue
        shown.append((scope, state, label))
    return shown
