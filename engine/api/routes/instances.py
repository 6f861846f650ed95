from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.cases import InstanceDetail, InstancePage
from engine.api.schemas.params import Limit, Offset

router = APIRouter(prefix="/api/v1/instances", tags=["instances"])


class StartInstance(BaseModel):
    process_id: str = Field(min_length=1, max_length=120)
    region: str = Field(min_length=1, max_length=20)
    business_key: str | None = Field(default=None, max_length=120)
    data: dict[str, Any] = Field(default_factory=dict)


class Termination(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.post("", status_code=201, response_model=InstanceDetail)
def start(body: StartInstance, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.instances.start(actor, body.process_id, body.region, body.business_key, body.data)


@router.get("", response_model=InstancePage)
def list_instances(
    actor: ActorDep,
    lf: LandflowDep,
    process_id: Annotated[str | None, Query(max_length=120)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    business_key: Annotated[str | None, Query(max_length=120)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    return lf.instances.list(actor, process_id, status, business_key, limit, offset)


@router.get("/{instance_id}", response_model=InstanceDetail)
def get_instance(instance_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.instances.get(actor, instance_id)


@router.post("/{instance_id}/terminate", response_model=InstanceDetail)
def terminate(
    instance_id: str, body: Termination, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.instances.terminate(actor, instance_id, body.reason)
