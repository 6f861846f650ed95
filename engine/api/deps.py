"""Request dependencies: the wired Landflow and the signed-in actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from engine.services.actor import Actor
from engine.services.container import Landflow


def get_landflow(request: Request) -> Landflow:
    return request.app.state.landflow


def token_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(request.app.state.landflow.settings.session_cookie)


def current_actor(request: Request, lf: Annotated[Landflow, Depends(get_landflow)]) -> Actor:
    actor = lf.auth.authenticate(token_from(request))
    request.state.actor = actor
    return actor


LandflowDep = Annotated[Landflow, Depends(get_landflow)]
ActorDep = Annotated[Actor, Depends(current_actor)]
