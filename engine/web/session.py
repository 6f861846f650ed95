"""Browser sessions: an opaque token in an HttpOnly cookie, and a CSRF token derived from it."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

CSRF_HEADER = "x-landflow-csrf"
CSRF_FIELD = "csrf_token"


def csrf_for(session_token: str) -> str:
    return hashlib.sha256(f"landflow-csrf:{session_token}".encode()).hexdigest()[:40]


def session_token(request: Request) -> str | None:
    return request.cookies.get(request.app.state.landflow.settings.session_cookie)


def csrf_ok(request: Request, presented: str | None) -> bool:
    token = session_token(request)
    return bool(token and presented and hmac.compare_digest(csrf_for(token), presented))
