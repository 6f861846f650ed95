"""The inbox (待办)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.services.inbox import SCOPES, TaskFilter

from .rendering import ActorDep, landflow, render

router = APIRouter(include_in_schema=False)


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
