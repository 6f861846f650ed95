"""Sign-in and sign-out pages, one's own sign-ins and password (/account), and an
administrator's view of a user's sign-ins."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import AuthenticationRequired, ValidationFailed
from engine.services.auth_passwords import MIN_LENGTH
from engine.services.auth_throttle import SignInLocked

from .rendering import ActorDep, check_csrf, landflow, render
from .session import (
    CSRF_FIELD,
    client_address,
    csrf_ok,
    login_csrf_cookie,
    login_csrf_ok,
    login_csrf_token,
    session_token,
)

router = APIRouter(include_in_schema=False)
LOGIN_FORM_SECONDS = 2 * 3600


def _login_form(
    request: Request, status: int = 200, error: str = "", username: str = ""
) -> HTMLResponse:
    token = login_csrf_token(request)
    response = render(
        request, "login.html", None, status=status, error=error, username=username, login_csrf=token
    )
    lf = landflow(request)
    response.set_cookie(
        login_csrf_cookie(request),
        token,
        httponly=True,
        samesite="strict",
        secure=lf.settings.cookie_secure,
        max_age=LOGIN_FORM_SECONDS,
        path="/login",
    )
    return response


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return _login_form(request)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    if not login_csrf_ok(request, csrf_token):
        return _login_form(request, 400, "登录页面已过期，请重新输入后登录", username)
    lf = landflow(request)
    try:
        issued = lf.auth.issue_token(
            username, password, kind="session", address=client_address(request)
        )
    except SignInLocked as exc:
        return _login_form(request, 429, exc.message, username)
    except AuthenticationRequired:
        return _login_form(request, 401, "用户名或密码错误", username)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        lf.settings.session_cookie,
        issued["access_token"],
        httponly=True,
        samesite="lax",
        secure=lf.settings.cookie_secure,
        max_age=lf.settings.token_ttl_hours * 3600,
    )
    response.delete_cookie(login_csrf_cookie(request), path="/login")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    lf = landflow(request)
    if csrf_ok(request, csrf_token):
        lf.auth.revoke(session_token(request) or "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(lf.settings.session_cookie)
    return response


# ---- one's own sign-ins and password -------------------------------------------------------
def _account(
    request: Request, actor, status: int = 200, errors: dict | None = None, notice: str = ""
) -> HTMLResponse:
    tokens = landflow(request).auth.tokens(actor, session_token(request))
    return render(
        request,
        "sign_ins.html",
        actor,
        status=status,
        owner=actor.username,
        own=True,
        tokens=tokens,
        errors=errors or {},
        notice=notice,
        min_length=MIN_LENGTH,
    )


@router.get("/account")
def account_page(request: Request, actor: ActorDep, done: str = "") -> HTMLResponse:
    notices = {"password": "密码已修改，其他设备上的登录已全部退出。", "ended": "该登录已退出。"}
    return _account(request, actor, notice=notices.get(done, ""))


@router.post("/account/sign-ins/{token_id}/end")
def end_own_sign_in(
    request: Request,
    token_id: int,
    actor: ActorDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    landflow(request).auth.revoke_token(actor, token_id)
    return RedirectResponse("/account?done=ended", status_code=303)


@router.post("/account/password")
def change_password(
    request: Request,
    actor: ActorDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    new_password_again: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    if new_password != new_password_again:
        return _account(request, actor, 422, {"new_password_again": "两次输入的新密码不一致"})
    try:
        landflow(request).auth.change_password(
            actor, current_password, new_password, session_token(request)
        )
    except ValidationFailed as exc:
        errors: dict[str, str] = {}
        for error in exc.errors:
            errors[error.field] = "；".join(filter(None, (errors.get(error.field), error.message)))
        return _account(request, actor, 422, errors)
    except SignInLocked as exc:
        return _account(request, actor, 429, {"current_password": exc.message})
    return RedirectResponse("/account?done=password", status_code=303)


# ---- an administrator and a user's sign-ins ------------------------------------------------
@router.get("/admin/users/{username}/sign-ins")
def user_sign_ins(request: Request, username: str, actor: ActorDep, done: str = "") -> HTMLResponse:
    tokens = landflow(request).auth.user_tokens(actor, username)
    return render(
        request,
        "sign_ins.html",
        actor,
        owner=username,
        own=False,
        tokens=tokens,
        errors={},
        notice=f"已让 {username} 的全部登录退出。" if done else "",
    )


@router.post("/admin/users/{username}/sign-ins/end")
def end_user_sign_ins(
    request: Request,
    username: str,
    actor: ActorDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    landflow(request).auth.revoke_user_tokens(actor, username)
    return RedirectResponse(f"/admin/users/{quote(username, safe='')}/sign-ins?done=1", 303)
