"""The tamper-evident audit log: checking the chain, and reading it for export. Administrators
only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.errors import Responses

router = APIRouter(prefix="/api/v1/admin/audit", tags=["audit"])
_ADMINS: Responses = {403: {"description": "administrators only"}}


class BrokenLink(BaseModel):
    seq: int = Field(description="the first entry where the chain does not hold")
    problem: str = Field(description="missing | link | content | time | head")
    message: str


class HistoryProblem(BaseModel):
    history_id: int
    instance_id: str
    seq: int | None = Field(description="the audit entry of the history row, if any")
    problem: str = Field(description="unrecorded | changed | deleted")
    message: str


class HistoryCheck(BaseModel):
    checked: int
    problems: list[HistoryProblem] = Field(description="the first 20")
    total_problems: int


class ChainHead(BaseModel):
    seq: int
    hash: str


class Verification(BaseModel):
    ok: bool
    entries: int = Field(description="entries checked before the first broken link")
    head: ChainHead
    first_broken: BrokenLink | None
    history: HistoryCheck


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    action_at: str | None = Field(description="the action's own time when earlier than `at`")
    actor: str
    on_behalf_of: str | None
    action: str
    instance_id: str | None
    task_id: str | None
    history_id: int | None
    subject: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditEntries(BaseModel):
    items: list[AuditEntryOut]


@router.get("/verify", response_model=Verification, responses=_ADMINS)
def verify(actor: ActorDep, lf: LandflowDep) -> Verification:
    return Verification(**lf.audit.verify(actor))


@router.get("/chain", response_model=AuditEntries, responses=_ADMINS)
def chain(
    actor: ActorDep,
    lf: LandflowDep,
    after: int = Query(0, ge=0, le=2**62, description="entries after this seq"),
    limit: int = Query(100, ge=1, le=1000),
    instance_id: str | None = Query(None, max_length=36),
) -> AuditEntries:
    return AuditEntries(**lf.audit.entries(actor, after, limit, instance_id))
