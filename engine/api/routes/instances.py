from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep

router = APIRouter(prefix="/api/v1/instances", tags=["instances"])


class StartInstance(BaseModel):
    process_id: str = Field(min_length=1, max_length=120)
    region: str = Field(min_length=1, max_length=20)
    business_key: str | None = Field(default=None, max_length=120)
    data: dict[str, Any] = Field(default_factory=dict)


class Termination(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.post("", status_code=201)
def start(body: StartInstance, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.instances.start(actor, body.process_id, body.region, body.business_key, body.data)


@router.get("")
def list_instances(
    actor: ActorDep,
    lf: LandflowDep,
    process_id: str | None = None,
    status: str | None = None,
    business_key: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    return lf.instances.list(
        actor, process_id, status, business_key, min(max(limit, 1), 500), max(offset, 0)
    )


@router.get("/{instance_id}")
def get_instance(instance_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.instances.get(actor, instance_id)


@router.post("/{instance_id}/terminate")
def terminate(
    instance_id: str, body: Termination, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.instances.terminate(actor, instance_id, body.reason)
