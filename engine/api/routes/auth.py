"""One's own sign-ins and password, and an administrator ending a user's sign-ins. Signing in
and out are in engine.api.routes.system."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep, token_from
from engine.api.schemas.errors import Responses
from engine.api.schemas.params import RowId

router = APIRouter(prefix="/api/v1", tags=["sign-in"])
_ADMINS: Responses = {403: {"description": "administrators only"}}


class SignInOut(BaseModel):
    id: int
    kind: str = Field(description="bearer (API) | session (pages)")
    created_at: str
    expires_at: str
    current: bool = Field(description="the sign-in this request came with")


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(
        min_length=1,
        max_length=200,
        description="at least 10 characters, not all digits, not the username",
    )


class PasswordChanged(BaseModel):
    username: str
    ended_sign_ins: int = Field(description="the user's other sign-ins, now ended")


class SignInsRevoked(BaseModel):
    username: str
    revoked: int


@router.get("/auth/tokens", response_model=list[SignInOut])
def my_tokens(request: Request, actor: ActorDep, lf: LandflowDep) -> list[SignInOut]:
    return [SignInOut(**t) for t in lf.auth.tokens(actor, token_from(request))]


@router.delete(
    "/auth/tokens/{token_id}",
    status_code=204,
    responses={404: {"description": "no such sign-in of yours"}},
)
def revoke_my_token(token_id: RowId, actor: ActorDep, lf: LandflowDep) -> Response:
    lf.auth.revoke_token(actor, token_id)
    return Response(status_code=204)


@router.post(
    "/auth/password",
    response_model=PasswordChanged,
    responses={422: {"description": "wrong current password or a password the policy refuses"}},
)
def change_password(
    body: PasswordChange, request: Request, actor: ActorDep, lf: LandflowDep
) -> PasswordChanged:
    changed = lf.auth.change_password(
        actor, body.current_password, body.new_password, token_from(request)
    )
    return PasswordChanged(**changed)


@router.get(
    "/admin/users/{username}/tokens",
    response_model=list[SignInOut],
    responses={**_ADMINS, 404: {"description": "no such user"}},
)
def user_tokens(username: str, actor: ActorDep, lf: LandflowDep) -> list[SignInOut]:
    return [SignInOut(**t) for t in lf.auth.user_tokens(actor, username)]


@router.delete(
    "/admin/users/{username}/tokens",
    response_model=SignInsRevoked,
    responses={**_ADMINS, 404: {"description": "no such user"}},
)
def revoke_user_tokens(username: str, actor: ActorDep, lf: LandflowDep) -> SignInsRevoked:
    return SignInsRevoked(**lf.auth.revoke_user_tokens(actor, username))
