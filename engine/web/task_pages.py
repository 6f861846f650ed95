"""The task page and what its form posts: 提交办理, 暂存 (save the draft) and, for a delegate,
交回委托人 (resolve). The other actions on the page live in task_actions.py."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import LandflowError, NotFound

from . import task_actions
from .form_fields import parse_posted
from .rendering import ActorDep, check_csrf, landflow
from .session import CSRF_FIELD
from .task_actions import status_of
from .task_context import task_page

router = APIRouter(include_in_schema=False)
router.include_router(task_actions.router)


@router.get("/tasks/{task_id}")
def show_task(request: Request, task_id: str, actor: ActorDep) -> HTMLResponse:
    return task_page(request, actor, task_id)


@router.post("/tasks/{task_id}/complete")
async def complete(request: Request, task_id: str, actor: ActorDep) -> Response:
    return await _submit(request, task_id, actor, "complete")


@router.post("/tasks/{task_id}/draft")
async def save_draft(request: Request, task_id: str, actor: ActorDep) -> Response:
    return await _submit(request, task_id, actor, "draft")


@router.post("/tasks/{task_id}/resolve")
async def resolve(request: Request, task_id: str, actor: ActorDep) -> Response:
    return await _submit(request, task_id, actor, "resolve")


async def _submit(request: Request, task_id: str, actor: ActorDep, action: str) -> Response:
    lf = landflow(request)
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    task = lf.inbox.get(actor, task_id)
    data = parse_posted(task["form"], form)
    try:
        if action == "complete":
            lf.tasks.complete(actor, task_id, data)
        elif action == "draft":
            lf.tasks.save_draft(actor, task_id, data)
        else:
            lf.tasks.resolve(actor, task_id, data, str(form.get("note", "")).strip() or None)
    except NotFound:
        raise
    except LandflowError as refused:
        return task_page(
            request, actor, task_id, status_of(refused), values=data, refused=refused, action=action
        )
    if action == "complete":
        return RedirectResponse(f"/cases/{task['instance_id']}?done={task_id}", status_code=303)
    return RedirectResponse(f"/tasks/{task_id}?done={action}", status_code=303)
