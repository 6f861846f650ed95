"""督办单 (supervision orders): the list offices and departments read, issuing one by hand,
the department's reply, and the office's close, further reply and escalation. The reply and the
review are also ordinary tasks of the order's case (/api/v1/tasks/…)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.params import RowId
from engine.services.supervision import IssueRequest

router = APIRouter(prefix="/api/v1", tags=["supervision orders"])


class Order(BaseModel):
    id: int
    instance_id: str = Field(description="the supervised case")
    task_id: str | None = Field(description="the supervised step, if the order names one")
    office: str = Field(description="the issuing leadership-group office (department code)")
    office_name: str
    department: str | None = Field(description="the supervised department")
    department_name: str
    grade: str = Field(description="blue | orange | red (蓝/橙/红)")
    grade_name: str
    text: str
    status: str = Field(description="open | answered | closed | escalated")
    status_name: str
    overdue: bool = Field(description="waiting for a reply past its deadline")
    created_at: str
    issued_by: str | None = Field(description="the office user, or 'system' for the ladder")
    issued_by_name: str
    order_instance_id: str | None = Field(description="the order's own case")
    order_case_no: str | None
    order_case_status: str | None
    case_no: str | None
    case_title: str | None
    task_title: str | None
    reply_days: int | None = Field(description="working days the department has to reply")
    reply_due_at: str | None
    reply_task_id: str | None = Field(description="the open reply step, while it waits")
    reply_task_due_at: str | None
    review_task_id: str | None = Field(description="the office's open review step")
    reply_text: str | None
    replied_at: str | None
    replied_by: str | None
    replied_by_name: str
    overdue_at: str | None = Field(description="when the late reply was reported")
    closed_at: str | None = Field(description="when it was closed or escalated")
    closed_by: str | None
    closed_by_name: str
    parent_id: int | None = Field(description="the order this one escalates")
    escalated_to: int | None
    can_reply: bool
    can_close: bool
    can_send_back: bool
    can_escalate: bool


class Step(BaseModel):
    at: str
    actor: str
    event: str | None = Field(description="issued, answered, sent_back, overdue, closed, …")
    text: str | None


class OrderDetail(Order):
    parent: Order | None
    escalated_order: Order | None
    steps: list[Step] = Field(description="the order's entries on the supervised case")


class OrderList(BaseModel):
    items: list[Order]
    total: int
    counts: dict[str, int] = Field(description="orders per tab: open, answered, overdue, …")


class IssueIn(BaseModel):
    instance_id: str | None = Field(default=None, max_length=36)
    task_id: str | None = Field(default=None, max_length=36)
    department: str | None = Field(
        default=None, max_length=60, description="for an order about a case, not one step"
    )
    grade: str = Field(default="blue", description="blue | orange | red")
    text: str = Field(min_length=1, max_length=2000)
    reply_days: int | None = Field(default=None, ge=1, le=30)
    office: str | None = Field(default=None, max_length=60)


class ReplyIn(BaseModel):
    data: dict[str, Any] = Field(description="the reply form (forms/supervision_reply.json)")


class CloseIn(BaseModel):
    opinion: str = Field(default="", max_length=2000)


class SendBackIn(BaseModel):
    opinion: str = Field(min_length=1, max_length=2000)
    days: int = Field(ge=1, le=30, description="working days for the further reply")


class EscalateIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class Choice(BaseModel):
    code: str
    name: str


class OpenStep(BaseModel):
    task_id: str
    title: str
    department: str | None
    department_name: str
    sla_state: str | None
    due_at: str | None


class IssueOptions(BaseModel):
    instance_id: str
    case_no: str | None
    case_title: str | None
    task_id: str | None
    steps: list[OpenStep]
    offices: list[Choice]
    grades: list[Choice]
    reply_days: int


@router.get("/supervision-orders", response_model=OrderList)
def list_orders(
    actor: ActorDep,
    lf: LandflowDep,
    status: str = "open",
    scope: str = "",
    limit: int = 100,
    offset: int = 0,
) -> OrderList:
    """`status`: open, answered, overdue, closed, escalated, or empty for all; `scope`: office
    (issued by my offices), department (sent to my departments), or empty for all I see."""
    return OrderList(**lf.supervision.list(actor, status, scope, limit, offset))


@router.post("/supervision-orders", response_model=OrderDetail, status_code=201)
def issue(body: IssueIn, actor: ActorDep, lf: LandflowDep) -> OrderDetail:
    return OrderDetail(**lf.supervision.issue(actor, IssueRequest(**body.model_dump())))


@router.get("/instances/{instance_id}/supervision-options", response_model=IssueOptions)
def issue_options(
    instance_id: str, actor: ActorDep, lf: LandflowDep, task_id: str | None = None
) -> IssueOptions:
    """What an office may choose when it issues an order about this case."""
    return IssueOptions(**lf.supervision.issue_options(actor, instance_id, task_id))


@router.get("/supervision-orders/{order_id}", response_model=OrderDetail)
def get_order(order_id: RowId, actor: ActorDep, lf: LandflowDep) -> OrderDetail:
    return OrderDetail(**lf.supervision.get(actor, order_id))


@router.post("/supervision-orders/{order_id}/reply", response_model=OrderDetail)
def reply(order_id: RowId, body: ReplyIn, actor: ActorDep, lf: LandflowDep) -> OrderDetail:
    return OrderDetail(**lf.supervision.reply(actor, order_id, body.data))


@router.post("/supervision-orders/{order_id}/close", response_model=OrderDetail)
def close(order_id: RowId, body: CloseIn, actor: ActorDep, lf: LandflowDep) -> OrderDetail:
    return OrderDetail(**lf.supervision.close(actor, order_id, body.opinion))


@router.post("/supervision-orders/{order_id}/send-back", response_model=OrderDetail)
def send_back(order_id: RowId, body: SendBackIn, actor: ActorDep, lf: LandflowDep) -> OrderDetail:
    return OrderDetail(**lf.supervision.send_back(actor, order_id, body.opinion, body.days))


@router.post("/supervision-orders/{order_id}/escalate", response_model=OrderDetail)
def escalate(order_id: RowId, body: EscalateIn, actor: ActorDep, lf: LandflowDep) -> OrderDetail:
    return OrderDetail(**lf.supervision.escalate(actor, order_id, body.reason))
