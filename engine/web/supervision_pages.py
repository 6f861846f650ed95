"""督办 pages: the orders an office issued (tabs 待反馈, 已反馈, 逾期未反馈, 已办结, 已升级)
and those sent to a department; one order with its steps and the office's actions (办结,
要求补充反馈, 升级督办); the form an office issues an order with, about a case or one of its
steps. The department replies on the reply step's own task page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import Conflict, LandflowError, NotFound, PermissionDenied, ValidationFailed
from engine.services.actor import Actor
from engine.services.supervision import IssueRequest

from .rendering import ActorDep, check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
TABS = (
    ("open", "待反馈"),
    ("answered", "已反馈"),
    ("overdue", "逾期未反馈"),
    ("closed", "已办结"),
    ("escalated", "已升级"),
    ("", "全部"),
)
SCOPES = {"": "我可查看的", "office": "本办公室下达的", "department": "本部门收到的"}


@router.get("/supervision")
def orders_page(
    request: Request, actor: ActorDep, status: str = "open", scope: str = ""
) -> HTMLResponse:
    status = status if status in dict(TABS) else "open"
    scope = scope if scope in SCOPES else ""
    listed = landflow(request).supervision.list(actor, status, scope)
    tabs = [
        {
            "label": label,
            "count": listed["counts"].get(code) if code else None,
            "url": f"/supervision?status={code}&scope={scope}",
            "active": code == status,
        }
        for code, label in TABS
    ]
    return render(
        request,
        "supervision.html",
        actor,
        orders=listed,
        tabs=tabs,
        tab=status,
        scope=scope,
        scopes=SCOPES,
        is_office=_is_office(actor),
    )


@router.get("/supervision/new")
def new_order_page(
    request: Request, actor: ActorDep, instance_id: str = "", task_id: str = ""
) -> HTMLResponse:
    return _new_page(request, actor, instance_id, task_id or None, {})


@router.post("/supervision/new")
async def issue(request: Request, actor: ActorDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    given = {k: str(form.get(k) or "").strip() for k in _ISSUE_FIELDS}
    step = given["step"]
    try:
        order = landflow(request).supervision.issue(
            actor,
            IssueRequest(
                instance_id=given["instance_id"] or None,
                task_id=step if step and step != "case" else None,
                department=given["department"] or None,
                grade=given["grade"],
                text=given["text"],
                reply_days=int(given["reply_days"]) if given["reply_days"].isdigit() else None,
                office=given["office"] or None,
            ),
        )
    except LandflowError as exc:
        errors = {e.field: e.message for e in getattr(exc, "errors", [])}
        return _new_page(
            request, actor, given["instance_id"], None, given, exc.message, errors, _status(exc)
        )
    return RedirectResponse(f"/supervision/{order['id']}?issued=1", status_code=303)


@router.get("/supervision/{order_id}")
def order_page(request: Request, order_id: int, actor: ActorDep) -> HTMLResponse:
    return _order_page(request, actor, order_id)


@router.post("/supervision/{order_id}/{action}")
async def act(request: Request, order_id: int, action: str, actor: ActorDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    lf = landflow(request)
    text = str(form.get("text") or "").strip()
    try:
        if action == "close":
            lf.supervision.close(actor, order_id, text)
        elif action == "send-back":
            days = str(form.get("days") or "")
            lf.supervision.send_back(actor, order_id, text, int(days) if days.isdigit() else 0)
        elif action == "escalate":
            lf.supervision.escalate(actor, order_id, text)
        else:
            return _order_page(request, actor, order_id, "没有这项操作", status=404)
    except LandflowError as exc:
        messages = [e.message for e in getattr(exc, "errors", [])] or [exc.message]
        return _order_page(request, actor, order_id, "；".join(messages), _status(exc), action)
    return RedirectResponse(f"/supervision/{order_id}?done={action}", status_code=303)


_STATUS = ((ValidationFailed, 422), (Conflict, 409), (PermissionDenied, 403), (NotFound, 404))
_ISSUE_FIELDS = ("instance_id", "step", "department", "grade", "text", "reply_days", "office")
DONE = {
    "close": "督办单已办结。",
    "send-back": "已要求补充反馈，被督办部门的待办中已有新的反馈事项。",
    "escalate": "已升级督办，上一级办公室的督办单已下达。",
}


def _order_page(
    request: Request,
    actor: Actor,
    order_id: int,
    message: str = "",
    status: int = 200,
    action: str = "",
) -> HTMLResponse:
    order = landflow(request).supervision.get(actor, order_id)
    done = request.query_params.get("done", "")
    flash = DONE.get(done, "")
    if request.query_params.get("issued"):
        flash = "督办单已下达，被督办部门的待办中已有反馈事项。"
    return render(
        request,
        "supervision_order.html",
        actor,
        status=status,
        order=order,
        message=message,
        action=action,
        flash=flash,
    )


def _new_page(
    request: Request,
    actor: Actor,
    instance_id: str,
    task_id: str | None,
    given: dict[str, str],
    message: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    options = landflow(request).supervision.issue_options(actor, instance_id or None, task_id)
    chosen = given.get("step") or options["task_id"] or ""
    departments: dict[str, str] = {}
    for step in options["steps"]:
        departments.setdefault(step["department"], step["department_name"])
    return render(
        request,
        "supervision_new.html",
        actor,
        status=status,
        options=options,
        given={"grade": "blue", "reply_days": str(options["reply_days"]), **given},
        chosen=chosen,
        departments=departments,
        message=message,
        errors=errors or {},
    )


def _is_office(actor: Actor) -> bool:
    return any(d.startswith("ldxz.") for d in actor.departments)


def _status(exc: LandflowError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400
