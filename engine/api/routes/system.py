from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep, token_from
from engine.services import health as health_check
from engine.web.session import client_address

router = APIRouter(prefix="/api/v1", tags=["system"])


class Health(BaseModel):
    status: str = Field(description="ok")
    database: str = Field(description="sqlite | postgresql")
    time: str = Field(description="the engine clock")


class Me(BaseModel):
    username: str
    display_name: str
    is_admin: bool


class IssuedToken(BaseModel):
    access_token: str
    token_type: str = Field(description="bearer")
    expires_at: str
    user: Me


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


@router.get("/health", response_model=Health)
def health(lf: LandflowDep) -> dict[str, str]:
    return health_check.check(lf.uow, lf.clock)


@router.post("/auth/token", response_model=IssuedToken)
def issue_token(body: Credentials, request: Request, lf: LandflowDep) -> dict[str, Any]:
    return lf.auth.issue_token(body.username, body.password, address=client_address(request))


@router.post("/auth/logout", status_code=204)
def logout(request: Request, actor: ActorDep, lf: LandflowDep) -> Response:
    lf.auth.revoke(token_from(request) or "")
    return Response(status_code=204)


@router.get("/me", response_model=Me)
def me(actor: ActorDep) -> Me:
    return Me(username=actor.username, display_name=actor.display_name, is_admin=actor.is_admin)
