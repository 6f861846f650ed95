"""Incidents: failed steps, for administrators to retry or cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.errors import Responses
from engine.api.schemas.params import RowId

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

_REFUSED: Responses = {
    403: {"description": "administrators only"},
    404: {"description": "no such incident"},
    409: {"description": "already resolved, or the failed step changed"},
}


class IncidentOut(BaseModel):
    id: int
    instance_id: str
    process_id: str
    element_id: str | None
    element_name: str | None
    kind: str = Field(description="expression | calendar | data | merge | engine")
    message: str = Field(description="what the clerk reads (Chinese)")
    detail: str | None = Field(default=None, description="the technical detail (admins)")
    status: str = Field(description="open | resolved | cancelled")
    created_at: str
    resolved_at: str | None
    resolved_by: str | None
    resolution: str | None
    attempts: int
    case_data: dict[str, Any] | None = None


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int


class RetryRequest(BaseModel):
    data: dict[str, Any] = Field(
        default_factory=dict, description="corrections merged into the failed step's data"
    )


class CancelStepRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class IncidentAction(BaseModel):
    incident: IncidentOut
    instance: dict[str, Any]


@router.get("", response_model=IncidentPage, responses={403: _REFUSED[403]})
def list_incidents(
    actor: ActorDep,
    lf: LandflowDep,
    status: str | None = Query("open", pattern="^(open|resolved|cancelled)$"),
    process_id: str | None = Query(None, max_length=120),
    instance_id: str | None = Query(None, max_length=36),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    return lf.incidents.list(actor, status, process_id, instance_id, limit, offset)


@router.get("/counts", response_model=dict[str, int], responses={403: _REFUSED[403]})
def incident_counts(actor: ActorDep, lf: LandflowDep) -> dict[str, int]:
    return lf.incidents.counts(actor)


@router.get("/{incident_id}", response_model=IncidentOut, responses=_REFUSED)
def get_incident(incident_id: RowId, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.incidents.get(actor, incident_id)


@router.post("/{incident_id}/retry", response_model=IncidentAction, responses=_REFUSED)
def retry(
    incident_id: RowId, body: RetryRequest, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.incidents.retry(actor, incident_id, body.data)


@router.post("/{incident_id}/cancel-step", response_model=IncidentAction, responses=_REFUSED)
def cancel_step(
    incident_id: RowId, body: CancelStepRequest, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.incidents.cancel_step(actor, incident_id, body.reason)
