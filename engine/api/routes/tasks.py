from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.cases import (
    BulkClaimed,
    CommentOut,
    TaskAction,
    TaskDetail,
    TaskOut,
)
from engine.services.inbox import TaskFilter
from engine.services.task_pages import COUNT_CAP

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


class Completion(BaseModel):
    data: dict[str, Any] = Field(default_factory=dict)


class NewComment(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class Handover(BaseModel):
    to: str = Field(min_length=1, max_length=80)


class Resolution(BaseModel):
    data: dict[str, Any] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=2000)


class ReturnRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    target: str | None = Field(
        default=None,
        max_length=120,
        description="the step to return to; one of the task's return_targets "
        "(may be left out when there is only one)",
    )


class ReturnResult(BaseModel):
    task: dict[str, Any] = Field(description="the task that was returned (state 'returned')")
    reopened: dict[str, Any] | None = Field(description="the earlier step, open again")
    instance: dict[str, Any]


class BulkClaim(BaseModel):
    task_ids: list[str] = Field(min_length=1, max_length=200)


class TaskPage(BaseModel):
    items: list[dict[str, Any]]
    total: int = Field(description=f"exact up to {COUNT_CAP}; see count_capped")
    count_capped: bool = Field(description=f"true when there are more than {COUNT_CAP}")
    limit: int
    offset: int
    next_cursor: str | None = Field(description="pass as cursor for the next page; null at the end")
    prev_cursor: str | None = Field(
        description="pass as cursor for the page before; null at the start"
    )


@router.get("", response_model=TaskPage)
def list_tasks(
    actor: ActorDep,
    lf: LandflowDep,
    scope: str = "all",
    state: str = "open",
    process_id: str | None = None,
    region: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    due_before: datetime | None = None,
    sort: str = "due",
    limit: int = 50,
    offset: int = Query(0, description="deprecated: use cursor; at most 5000"),
    cursor: str | None = Query(None, max_length=400, description="next_cursor or prev_cursor"),
) -> dict[str, Any]:
    where = TaskFilter(
        scope,
        state,
        process_id,
        region,
        created_from,
        created_to,
        due_before,
        sort,
        limit,
        offset,
        cursor=cursor,
    )
    return lf.inbox.list(actor, where)


@router.get("/counts", response_model=dict[str, int])
def counts(actor: ActorDep, lf: LandflowDep) -> dict[str, int]:
    return lf.inbox.counts(actor)


@router.post("/claim", response_model=BulkClaimed)
def bulk_claim(body: BulkClaim, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.claim_many(actor, body.task_ids)


@router.get("/{task_id}", response_model=TaskDetail)
def get_task(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.inbox.get(actor, task_id)


@router.post("/{task_id}/claim", response_model=TaskOut)
def claim(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.claim(actor, task_id)


@router.post("/{task_id}/unclaim", response_model=TaskOut)
def unclaim(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.unclaim(actor, task_id)


@router.post("/{task_id}/transfer", response_model=TaskOut)
def transfer(task_id: str, body: Handover, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.transfer(actor, task_id, body.to)


@router.post("/{task_id}/delegate", response_model=TaskOut)
def delegate(task_id: str, body: Handover, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.delegate(actor, task_id, body.to)


@router.post("/{task_id}/resolve", response_model=TaskOut)
def resolve(task_id: str, body: Resolution, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.resolve(actor, task_id, body.data, body.note)


@router.post(
    "/{task_id}/return",
    response_model=ReturnResult,
    responses={409: {"description": "not returnable, stale, or the case has an incident"}},
)
def return_task(
    task_id: str, body: ReturnRequest, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.tasks.return_task(actor, task_id, body.reason, body.target)


@router.post("/{task_id}/complete", response_model=TaskAction)
def complete(task_id: str, body: Completion, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.complete(actor, task_id, body.data)


@router.post("/{task_id}/comments", status_code=201, response_model=CommentOut)
def comment(task_id: str, body: NewComment, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.tasks.comment(actor, task_id, body.text)
