"""The task page and the actions on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import ValidationFailed

from .form_fields import errors_by_field, fields_of, parse_posted
from .rendering import ActorDep, check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)


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
