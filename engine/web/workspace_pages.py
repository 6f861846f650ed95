"""The header every page shows (who is signed in, unread notifications) and the minimal
notifications page with read marks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import pass_context

from engine.services.actor import Actor

from .rendering import TEMPLATES, ActorDep, check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)

SUPERVISION_GRADES = {"blue": "蓝色", "orange": "橙色", "red": "红色"}


def header_for(request: Request, actor: Actor) -> dict[str, Any]:
    """What base.html shows about the signed-in user (computed once per request)."""
    cached = getattr(request.state, "workspace_header", None)
    if cached is None:
        cached = landflow(request).workspace.header(actor)
        request.state.workspace_header = cached
    return cached


@pass_context
def _workspace_header(context, actor: Actor) -> dict[str, Any]:
    return header_for(context["request"], actor)


TEMPLATES.env.globals["workspace_header"] = _workspace_header
TEMPLATES.env.globals["supervision_grades"] = SUPERVISION_GRADES


@router.get("/notifications")
def notifications_page(request: Request, actor: ActorDep, show: str = "all") -> HTMLResponse:
    unread_only = show == "unread"
    items = landflow(request).workspace.notifications(actor, unread_only=unread_only)
    return render(request, "notifications.html", actor, items=items, unread_only=unread_only)


@router.post("/notifications/read")
def mark_read(
    request: Request,
    actor: ActorDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    notification_id: Annotated[str, Form()] = "",
) -> Response:
    """One notification (notification_id) or, without it, all unread ones."""
    check_csrf(request, csrf_token)
    ids = None
    if notification_id:
        ids = [int(notification_id)] if notification_id.isdigit() else []
    landflow(request).workspace.mark_read(actor, ids)
    return RedirectResponse("/notifications", status_code=303)
