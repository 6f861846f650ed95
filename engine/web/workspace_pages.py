"""The header every page shows (who is signed in, unread notifications); the notification
pages are in notification_pages.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from jinja2 import pass_context

from engine.services.actor import Actor

from .rendering import TEMPLATES, landflow

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
