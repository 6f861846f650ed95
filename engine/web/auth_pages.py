"""Sign-in and sign-out pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import AuthenticationRequired

from .rendering import landflow, render
from .session import CSRF_FIELD, csrf_ok, session_token

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", None)


@router.post("/login")
def login(
    request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = ""
) -> Response:
    lf = landflow(request)
    try:
        issued = lf.auth.issue_token(username, password, kind="session")
    except AuthenticationRequired:
        return render(
            request, "login.html", None, status=401, error="用户名或密码错误", username=username
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        lf.settings.session_cookie,
        issued["access_token"],
        httponly=True,
        samesite="lax",
        secure=lf.settings.cookie_secure,
        max_age=lf.settings.token_ttl_hours * 3600,
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    lf = landflow(request)
    if csrf_ok(request, csrf_token):
        lf.auth.revoke(session_token(request) or "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(lf.settings.session_cookie)
    return response
