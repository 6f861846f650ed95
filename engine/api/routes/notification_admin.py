"""Administrators: the delivery log with replay, and the departments' robots and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.errors import Responses
from engine.api.schemas.params import RowId
from engine.services.notify.delivery_log import LogFilter
from engine.services.notify.endpoints import EndpointChange

router = APIRouter(prefix="/api/v1/admin", tags=["notification delivery"])
_ADMIN: Responses = {403: {"description": "administrators only"}}
_FOUND: Responses = {**_ADMIN, 404: {"description": "no such delivery or endpoint"}}


class DeliveryOut(BaseModel):
    id: int
    event: str
    event_name: str
    channel: str = Field(description="email | sms | dingtalk | wecom | webhook")
    channel_name: str
    recipient: str = Field(description='a username, or "dept:<department code>" for robots')
    endpoint_name: str | None
    address: str | None
    status: str = Field(description="pending | retrying | sent | dead")
    status_name: str
    attempts: int
    last_error: str | None
    dedupe_key: str
    case_no: str | None
    created_at: str
    due_at: str
    sent_at: str | None


class AttemptOut(BaseModel):
    at: str
    ok: bool
    error: str | None
    worker: str
    duration_ms: int


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = Field(description="deliveries per status")


class ReplayIn(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=500)


class ReplayOut(BaseModel):
    queued: int


class EndpointIn(BaseModel):
    department: str = Field(max_length=60)
    kind: str = Field(description="dingtalk | wecom | webhook", max_length=20)
    name: str = Field(max_length=200)
    url: str = Field(max_length=1000)
    secret: str | None = Field(
        default=None,
        max_length=300,
        description='write-only; null keeps it, "" removes it, "env:NAME" reads the environment',
    )
    events: list[str] | None = Field(default=None, description="null: the default group events")
    enabled: bool = True


class EndpointOut(BaseModel):
    id: int
    department: str
    department_name: str
    kind: str
    kind_name: str
    name: str
    url: str
    secret_set: bool
    events: list[str]
    event_names: list[str]
    enabled: bool


@router.get("/deliveries", response_model=DeliveryPage, responses=_ADMIN)
def list_deliveries(
    actor: ActorDep,
    lf: LandflowDep,
    status: str | None = Query(None, pattern="^(pending|retrying|sent|dead)$"),
    channel: str | None = Query(None, pattern="^(email|sms|dingtalk|wecom|webhook)$"),
    event: str | None = Query(None, max_length=80),
    recipient: str | None = Query(None, max_length=120),
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = Query(1, ge=1, le=100_000),
) -> dict[str, Any]:
    where = LogFilter(status, channel, event, recipient, since, until, page)
    return lf.delivery_log.list(actor, where)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail, responses=_FOUND)
def get_delivery(delivery_id: RowId, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.delivery_log.get(actor, delivery_id)


@router.post("/deliveries/replay", response_model=ReplayOut, responses=_ADMIN)
def replay(body: ReplayIn, actor: ActorDep, lf: LandflowDep) -> dict[str, int]:
    return {"queued": lf.delivery_log.replay(actor, body.ids)}


@router.get("/notification-endpoints", response_model=list[EndpointOut], responses=_ADMIN)
def list_endpoints(
    actor: ActorDep, lf: LandflowDep, department: str | None = Query(None, max_length=60)
) -> list[dict[str, Any]]:
    return lf.endpoints.list(actor, department)


@router.post(
    "/notification-endpoints",
    response_model=EndpointOut,
    status_code=201,
    responses={**_ADMIN, 422: {"description": "field errors"}},
)
def create_endpoint(body: EndpointIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.endpoints.create(actor, EndpointChange(**body.model_dump()))


@router.put(
    "/notification-endpoints/{endpoint_id}",
    response_model=EndpointOut,
    responses={**_FOUND, 422: {"description": "field errors"}},
)
def update_endpoint(
    endpoint_id: RowId, body: EndpointIn, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.endpoints.update(actor, endpoint_id, EndpointChange(**body.model_dump()))


@router.delete("/notification-endpoints/{endpoint_id}", status_code=204, responses=_FOUND)
def delete_endpoint(endpoint_id: RowId, actor: ActorDep, lf: LandflowDep) -> Response:
    lf.endpoints.delete(actor, endpoint_id)
    return Response(status_code=204)
