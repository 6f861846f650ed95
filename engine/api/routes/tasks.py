from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


class Completion(BaseModel):
    data: dict[str, Any] = Field(default_factory=dict)


class NewComment(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


@router.get("")
def list_tasks(
    actor: ActorDep,
    lf: LandflowDep,
    scope: str = "all",
    state: str = "open",
    process_id: str | None = None,
    region: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    sort: str = "due",
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    return lf.tasks.list(
        actor, scope, state, process_id, region, created_from, created_to, sort, limit, offset
    )


@router.get("/{task_id}")
def get_task(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.get(actor, task_id)


@router.post("/{task_id}/claim")
def claim(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.claim(actor, task_id)


@router.post("/{task_id}/unclaim")
def unclaim(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.unclaim(actor, task_id)


@router.post("/{task_id}/complete")
def complete(task_id: str, body: Completion, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.complete(actor, task_id, body.data)


@router.post("/{task_id}/comments", status_code=201)
def comment(task_id: str, body: NewComment, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.comment(actor, task_id, body.text)
