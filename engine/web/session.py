"""Browser sessions: an opaque token in an HttpOnly cookie, and a CSRF token derived from it.
Before there is a session, the sign-in form carries a random token that must match a cookie
set with the form (so another site cannot sign a browser in to an account of its choosing)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

CSRF_HEADER = "x-landflow-csrf"
CSRF_FIELD = "csrf_token"
LOGIN_CSRF_SUFFIX = "_login"


def csrf_for(session_token: str) -> str:
    return hashlib.sha256(f"landflow-csrf:{session_token}".encode()).hexdigest()[:40]


def session_token(request: Request) -> str | None:
    return request.cookies.get(request.app.state.landflow.settings.session_cookie)


def csrf_ok(request: Request, presented: str | None) -> bool:
    token = session_token(request)
    return bool(token and presented and hmac.compare_digest(csrf_for(token), presented))


def login_csrf_cookie(request: Request) -> str:
    return request.app.state.landflow.settings.session_cookie + LOGIN_CSRF_SUFFIX


def login_csrf_token(request: Request) -> str:
    """The sign-in form's token: the one its cookie already holds, or a new one."""
    held = request.cookies.get(login_csrf_cookie(request), "")
    return held if len(held) >= 32 else secrets.token_urlsafe(32)


def login_csrf_ok(request: Request, presented: str | None) -> bool:
    held = request.cookies.get(login_csrf_cookie(request), "")
    return bool(held and presented and hmac.compare_digest(held, presented))


def client_address(request: Request) -> str | None:
    """The client's address as the server sees it (behind a reverse proxy: as uvicorn's
    --forwarded-allow-ips lets it read X-Forwarded-For)."""
    return request.client.host if request.client else None
