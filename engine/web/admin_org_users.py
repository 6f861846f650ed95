"""One user in 组织机构: memberships (add, remove), deactivate and reactivate, and the stand-ins
they are part of."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.domain.organisation import ROLES
from engine.errors import Conflict, LandflowError, NotFound, ValidationFailed
from engine.services.actor import Actor

from .admin_access import AdminDep
from .admin_org import SUBSTITUTION_STATES
from .rendering import check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
DONE = {
    "deactivated": "用户已停用，其登录已全部失效",
    "reactivated": "用户已重新启用",
    "membership_added": "角色已添加",
    "membership_removed": "角色已移除",
    "substitution_ended": "代理已结束",
}


@router.get("/admin/org/users/{username}")
def user_page(
    request: Request, username: str, actor: AdminDep, done: str = "", released: int = 0
) -> HTMLResponse:
    flash = DONE.get(done, "")
    if flash and released:
        flash += f"；其已认领的 {released} 个待办已退回部门待认领"
    return _render(request, actor, username, flash=flash)


@router.post("/admin/org/users/{username}/deactivate")
async def deactivate(request: Request, username: str, actor: AdminDep) -> Response:
    return await _command(request, actor, username, "deactivated")


@router.post("/admin/org/users/{username}/reactivate")
async def reactivate(request: Request, username: str, actor: AdminDep) -> Response:
    return await _command(request, actor, username, "reactivated")


@router.post("/admin/org/users/{username}/memberships")
async def add_membership(request: Request, username: str, actor: AdminDep) -> Response:
    return await _command(request, actor, username, "membership_added")


@router.post("/admin/org/users/{username}/memberships/remove")
async def remove_membership(request: Request, username: str, actor: AdminDep) -> Response:
    return await _command(request, actor, username, "membership_removed")


async def _command(request: Request, actor: Actor, username: str, done: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    organisation = landflow(request).organisation
    department, role = str(form.get("department", "")).strip(), str(form.get("role", "")).strip()
    try:
        if done == "deactivated":
            result = organisation.deactivate_user(actor, username)
        elif done == "reactivated":
            result = organisation.reactivate_user(actor, username)
        elif done == "membership_added":
            result = organisation.add_membership(actor, username, department, role or "handler")
        else:
            result = organisation.remove_membership(actor, username, department, role)
    except (ValidationFailed, Conflict) as exc:
        status = 422 if isinstance(exc, ValidationFailed) else 409
        return _render(request, actor, username, status=status, failed=exc)
    except NotFound as exc:
        if done != "membership_removed":
            raise
        return _render(request, actor, username, status=404, failed=exc)
    query = {"done": done, "released": len(result.get("released_tasks", []))}
    return RedirectResponse(
        f"/admin/org/users/{quote(username)}?{urlencode(query)}", status_code=303
    )


def _render(
    request: Request,
    actor: Actor,
    username: str,
    status: int = 200,
    failed: LandflowError | None = None,
    flash: str = "",
) -> HTMLResponse:
    organisation = landflow(request).organisation
    user = organisation.user(actor, username)
    errors: dict[str, Any] = {}
    if isinstance(failed, ValidationFailed):
        errors = {e.field: e.message for e in failed.errors}
    return render(
        request,
        "admin_org_user.html",
        actor,
        status=status,
        user=user,
        substitutions=organisation.substitutions(actor, username),
        substitution_states=SUBSTITUTION_STATES,
        roles=ROLES,
        flash=flash,
        message=failed.message if failed else "",
        errors=errors,
    )
