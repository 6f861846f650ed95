"""Request dependencies: the wired Landflow and the signed-in actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from engine.services.actor import Actor
from engine.services.container import Landflow
from engine.web.session import CSRF_HEADER, csrf_ok, session_token


def get_landflow(request: Request) -> Landflow:
    return request.app.state.landflow


def token_from(request: Request) -> str | None:
    """A bearer token, or the browser session cookie. A cookie only counts for reads or when
    the request carries the session's CSRF header, so other sites cannot act with it."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    cookie = session_token(request)
    if cookie and (
        request.method in ("GET", "HEAD") or csrf_ok(request, request.headers.get(CSRF_HEADER))
    ):
        return cookie
    return None


def current_actor(request: Request, lf: Annotated[Landflow, Depends(get_landflow)]) -> Actor:
    actor = lf.auth.authenticate(token_from(request))
    request.state.actor = actor
    return actor


LandflowDep = Annotated[Landflow, Depends(get_landflow)]
ActorDep = Annotated[Actor, Depends(current_actor)]
