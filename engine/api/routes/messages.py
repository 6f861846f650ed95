from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.cases import InstanceOut

router = APIRouter(prefix="/api/v1/messages", tags=["messages"])


class MessageIn(BaseModel):
    business_key: str | None = Field(default=None, max_length=120)
    instance_id: str | None = Field(default=None, max_length=36)
    payload: Any = None


@router.post("/{name}", response_model=InstanceOut)
def correlate(name: str, body: MessageIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.messages.correlate(actor, name, body.business_key, body.instance_id, body.payload)
