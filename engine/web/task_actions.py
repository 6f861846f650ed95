"""The actions on the task page besides its form: 认领, 取消认领, 转办, 委托, 退回, 中止计时
(挂起/补正), 恢复计时, 申请延期 and a head's decision on it. Each calls one service command;
a refusal comes back on the task page next to that action's inputs, in Chinese."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.domain.time_limits import STATUTORY
from engine.errors import (
    BadRequest,
    Conflict,
    FieldError,
    LandflowError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from engine.services.container import Landflow

from .rendering import ActorDep, check_csrf, landflow
from .session import CSRF_FIELD
from .task_context import task_page

router = APIRouter(include_in_schema=False)

Command = Callable[[Landflow, Any, Any], Any]  # (lf, actor, posted form) → result


def status_of(refused: LandflowError) -> int:
    for kind, status in (
        (ValidationFailed, 422),
        (Conflict, 409),
        (PermissionDenied, 403),
        (BadRequest, 400),
    ):
        if isinstance(refused, kind):
            return status
    return 422


async def _act(
    request: Request, actor: Any, task_id: str, action: str, command: Command, done: str
) -> Response:
    lf = landflow(request)
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    try:
        result = command(lf, actor, form)
    except NotFound:
        raise
    except LandflowError as refused:
        return task_page(
            request, actor, task_id, status_of(refused), refused=refused, action=action, posted=form
        )
    if action == "return":  # the step is closed: show the case, where it went back to
        return RedirectResponse(f"/cases/{result['task']['instance_id']}", status_code=303)
    return RedirectResponse(f"/tasks/{task_id}?done={done}", status_code=303)


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


@router.post("/tasks/{task_id}/claim")
async def claim(request: Request, task_id: str, actor: ActorDep) -> Response:
    return await _act(
        request, actor, task_id, "claim", lambda lf, a, f: lf.tasks.claim(a, task_id), "claim"
    )


@router.post("/tasks/{task_id}/unclaim")
async def unclaim(request: Request, task_id: str, actor: ActorDep) -> Response:
    return await _act(
        request, actor, task_id, "unclaim", lambda lf, a, f: lf.tasks.unclaim(a, task_id), "unclaim"
    )


@router.post("/tasks/{task_id}/transfer")
async def transfer(request: Request, task_id: str, actor: ActorDep) -> Response:
    def command(lf: Landflow, a: Any, form: Any) -> Any:
        return lf.tasks.transfer(a, task_id, _person_picked(form))

    return await _act(request, actor, task_id, "transfer", command, "transfer")


@router.post("/tasks/{task_id}/delegate")
async def delegate(request: Request, task_id: str, actor: ActorDep) -> Response:
    def command(lf: Landflow, a: Any, form: Any) -> Any:
        return lf.tasks.delegate(a, task_id, _person_picked(form))

    return await _act(request, actor, task_id, "delegate", command, "delegate")


@router.post("/tasks/{task_id}/return")
async def return_task(request: Request, task_id: str, actor: ActorDep) -> Response:
    def command(lf: Landflow, a: Any, form: Any) -> Any:
        return lf.tasks.return_task(
            a, task_id, _text(form, "reason"), _text(form, "target") or None
        )

    return await _act(request, actor, task_id, "return", command, "return")


@router.post("/tasks/{task_id}/suspend")
async def suspend(request: Request, task_id: str, actor: ActorDep) -> Response:
    def command(lf: Landflow, a: Any, form: Any) -> Any:
        items = [line.strip() for line in _text(form, "missing_items").splitlines() if line.strip()]
        reason_type, reason = _text(form, "reason_type"), _text(form, "reason")
        return lf.sla.suspend(a, task_id, reason_type, reason, items or None)

    return await _act(request, actor, task_id, "suspend", command, "suspend")


@router.post("/tasks/{task_id}/resume")
async def resume(request: Request, task_id: str, actor: ActorDep) -> Response:
    return await _act(
        request, actor, task_id, "resume", lambda lf, a, f: lf.sla.resume(a, task_id), "resume"
    )


@router.post("/tasks/{task_id}/extension")
async def request_extension(request: Request, task_id: str, actor: ActorDep) -> Response:
    def command(lf: Landflow, a: Any, form: Any) -> Any:
        days = _days(form)
        kind = _text(form, "kind") or STATUTORY
        return lf.sla.request_extension(a, task_id, days, _text(form, "reason"), kind=kind)

    return await _act(request, actor, task_id, "extension", command, "extension")


@router.post("/tasks/{task_id}/extension/decision")
async def decide_extension(request: Request, task_id: str, actor: ActorDep) -> Response:
    form = await request.form()
    approve = _text(form, "decision") == "approve"

    def command(lf: Landflow, a: Any, posted: Any) -> Any:
        kind = _text(posted, "kind") or STATUTORY
        return lf.sla.decide_extension(a, task_id, approve, _text(posted, "note"), kind=kind)

    done = "approved" if approve else "rejected"
    return await _act(request, actor, task_id, "decision", command, done)


def _person_picked(form: Any) -> str:
    username = _text(form, "to")
    if not username:
        raise ValidationFailed("请选择人员", [FieldError("to", "请选择本部门的一位同事")])
    return username


def _days(form: Any) -> int:
    raw = _text(form, "days")
    if not raw.isdigit():
        raise ValidationFailed("延期天数无效", [FieldError("days", "请填写延期的天数（整数）")])
    return int(raw)
