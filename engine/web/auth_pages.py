"""Sign-in and sign-out pages (local accounts, and the unified identity platform when one is
configured), one's own sign-ins and password (/account), and an administrator's view of a
user's sign-ins."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import AuthenticationRequired, ValidationFailed
from engine.services.auth_oidc import OidcConfig, OidcRefused, OidcSignIn, PendingSignIn
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
OIDC_FLOW_COOKIE = "_oidc_flow"  # after the session cookie's name; state, nonce, PKCE verifier
OIDC_MARK_COOKIE = "_oidc"  # this browser signed in through the platform


def _oidc(request: Request) -> OidcSignIn | None:
    """The unified identity platform's sign-in, when configured (built once per app)."""
    state = request.app.state
    if not hasattr(state, "oidc_sign_in"):
        lf = landflow(request)
        config = OidcConfig.from_settings(lf.settings)
        state.oidc_sign_in = OidcSignIn(config, lf.auth) if config else None
    return state.oidc_sign_in


def _login_form(
    request: Request,
    status: int = 200,
    error: str = "",
    username: str = "",
    notice: str = "",
    platform_sign_out: str | None = None,
) -> HTMLResponse:
    token = login_csrf_token(request)
    response = render(
        request,
        "login.html",
        None,
        status=status,
        error=error,
        notice=notice,
        username=username,
        login_csrf=token,
        oidc=_oidc(request) is not None,
        platform_sign_out=platform_sign_out,
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
    through_platform = request.cookies.get(lf.settings.session_cookie + OIDC_MARK_COOKIE)
    target = "/login/oidc/signed-out" if through_platform and _oidc(request) else "/login"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(lf.settings.session_cookie)
    response.delete_cookie(lf.settings.session_cookie + OIDC_MARK_COOKIE)
    return response


# ---- the unified identity platform (OpenID Connect) -----------------------------------------
def _site_url(request: Request) -> str:
    return landflow(request).settings.public_url or str(request.base_url)


@router.get("/login/oidc")
def oidc_start(request: Request) -> Response:
    oidc = _oidc(request)
    if oidc is None:
        return _login_form(request, 404, "未配置统一身份认证登录，请使用本系统账号登录")
    try:
        url, pending = oidc.begin(_site_url(request))
    except OidcRefused as exc:
        return _login_form(request, exc.status, exc.message)
    lf = landflow(request)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        lf.settings.session_cookie + OIDC_FLOW_COOKIE,
        pending.cookie(),
        httponly=True,
        samesite="lax",  # sent when the platform sends the browser back
        secure=lf.settings.cookie_secure,
        max_age=600,
        path="/login/oidc",
    )
    return response


@router.get("/login/oidc/callback")
def oidc_callback(request: Request) -> Response:
    oidc = _oidc(request)
    if oidc is None:
        return _login_form(request, 404, "未配置统一身份认证登录，请使用本系统账号登录")
    lf = landflow(request)
    flow_cookie = lf.settings.session_cookie + OIDC_FLOW_COOKIE
    params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    try:
        issued = oidc.finish(
            PendingSignIn.from_cookie(request.cookies.get(flow_cookie)),
            params,
            _site_url(request),
            client_address(request),
        )
    except OidcRefused as exc:
        refused = _login_form(request, exc.status, exc.message)
        refused.delete_cookie(flow_cookie, path="/login/oidc")
        return refused
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(flow_cookie, path="/login/oidc")
    for name, value in (
        (lf.settings.session_cookie, issued["access_token"]),
        (lf.settings.session_cookie + OIDC_MARK_COOKIE, "1"),
    ):
        response.set_cookie(
            name,
            value,
            httponly=True,
            samesite="lax",
            secure=lf.settings.cookie_secure,
            max_age=lf.settings.token_ttl_hours * 3600,
        )
    return response


@router.get("/login/oidc/signed-out")
def oidc_signed_out(request: Request) -> HTMLResponse:
    oidc = _oidc(request)
    platform = oidc.end_session_url(_site_url(request)) if oidc else None
    return _login_form(request, notice="已退出本系统。", platform_sign_out=platform)


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
