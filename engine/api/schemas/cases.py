"""Cases (办件) and their tasks, as the API shows them (engine/services/views.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .common import Open


class InstanceOut(Open):
    id: str
    process_id: str
    version: int
    status: str = Field(description="running | waiting | completed | terminated | error")
    region: str
    business_key: str | None
    case_no: str | None
    title: str | None
    applicant: str | None
    data: dict[str, Any] | None
    error: str | None
    started_by: str | None
    created_at: str | None
    updated_at: str | None
    ended_at: str | None


class TaskOut(Open):
    id: str
    instance_id: str
    process_id: str
    name: str = Field(description="the task's id in the model")
    title: str | None
    lane: str | None
    department: str | None
    unroutable: str | None
    owner: str | None
    delegation: str | None
    draft: Any = None
    region: str | None
    assignee: str | None
    state: str = Field(description="open | completed | cancelled | returned")
    created_at: str | None
    claimed_at: str | None
    completed_at: str | None
    completed_by: str | None
    due_at: str | None
    sla_state: str | None
    form_key: str | None
    properties: Any = None
    return_targets: list[Any]
    returned: Any = None


class HistoryOut(BaseModel):
    at: str | None
    actor: str | None
    on_behalf_of: str | None
    action: str
    task_id: str | None
    details: Any = None


class CommentOut(BaseModel):
    task_id: str | None
    author: str
    at: str
    text: str


class CaseIncident(Open):
    id: int
    kind: str
    message: str
    status: str


class InstanceDetail(InstanceOut):
    tasks: list[TaskOut]
    history: list[HistoryOut]
    comments: list[CommentOut]
    incidents: list[CaseIncident]


class InstancePage(BaseModel):
    items: list[InstanceOut]
    total: int


class TaskDetail(TaskOut):
    form: Any = Field(default=None, description="the form schema, when the task has one")
    form_problem: str | None = None
    can_act: bool
    instance: InstanceOut


class TaskAction(BaseModel):
    task: TaskOut
    instance: InstanceOut


class ClaimResult(BaseModel):
    id: str
    status: str = Field(description="claimed | refused")
    message: str | None = None


class BulkClaimed(BaseModel):
    results: list[ClaimResult]
    claimed: int
