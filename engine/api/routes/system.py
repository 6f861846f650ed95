from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

from engine.api.deps import ActorDep, LandflowDep, token_from
from engine.web.session import client_address

router = APIRouter(prefix="/api/v1", tags=["system"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


@router.get("/health")
def health(lf: LandflowDep) -> dict[str, Any]:
    with lf.uow.read() as session:
        session.execute(text("SELECT 1"))
    return {
        "status": "ok",
        "database": lf.uow.engine.dialect.name,
        "time": lf.clock.now().isoformat(),
    }


@router.post("/auth/token")
def issue_token(body: Credentials, request: Request, lf: LandflowDep) -> dict[str, Any]:
    return lf.auth.issue_token(body.username, body.password, address=client_address(request))


@router.post("/auth/logout", status_code=204)
def logout(request: Request, actor: ActorDep, lf: LandflowDep) -> Response:
    lf.auth.revoke(token_from(request) or "")
    return Response(status_code=204)


@router.get("/me")
def me(actor: ActorDep) -> dict[str, Any]:
    return {
        "username": actor.username,
        "display_name": actor.display_name,
        "is_admin": actor.is_admin,
    }
