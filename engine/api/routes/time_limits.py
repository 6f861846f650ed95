"""Time-limit rules for administrators: list, add or change, remove."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.params import RowId
from engine.domain.time_limits import LimitRule

router = APIRouter(prefix="/api/v1", tags=["time limits"])


class RuleIn(BaseModel):
    process_id: str = Field(min_length=1, max_length=120)
    task_spec: str = Field(min_length=1, max_length=120, description="task id, or * for the case")
    region_prefix: str = Field(default="", max_length=20, description="GB/T 2260 prefix; '' = all")
    kind: str = Field(description="statutory | committed | overall")
    limit: str = Field(max_length=10, description="e.g. 5wd (working days) or 20d (days)")
    yellow: str | None = Field(default=None, max_length=10, description="e.g. 1wd or 80%")
    max_extension: int | None = Field(default=None, description="longest extension, in days")
    basis: str | None = Field(default=None, max_length=300)


class RuleOut(BaseModel):
    id: int
    process_id: str
    task_spec: str
    region_prefix: str
    kind: str
    limit: str
    limit_text: str
    yellow: str | None
    max_extension: int | None
    basis: str | None
    updated_by: str
    updated_at: str


class RuleList(BaseModel):
    items: list[RuleOut]
    total: int


class Deleted(BaseModel):
    deleted: int


@router.get("/time-limits", response_model=RuleList)
def list_rules(
    actor: ActorDep, lf: LandflowDep, process_id: str | None = None, task_spec: str | None = None
) -> RuleList:
    items = lf.sla.time_limits.list(actor, process_id, task_spec)
    return RuleList(items=[RuleOut(**i) for i in items], total=len(items))


@router.put("/time-limits", response_model=RuleOut)
def put_rule(body: RuleIn, actor: ActorDep, lf: LandflowDep) -> RuleOut:
    rule = LimitRule(
        process_id=body.process_id.strip(),
        task_spec=body.task_spec.strip(),
        region_prefix=body.region_prefix.strip(),
        kind=body.kind.strip(),
        limit=body.limit.strip(),
        yellow=(body.yellow or "").strip() or None,
        max_extension=body.max_extension,
        basis=(body.basis or "").strip() or None,
    )
    return RuleOut(**lf.sla.time_limits.put(actor, rule))


@router.delete("/time-limits/{rule_id}", response_model=Deleted)
def delete_rule(rule_id: RowId, actor: ActorDep, lf: LandflowDep) -> Deleted:
    lf.sla.time_limits.delete(actor, rule_id)
    return Deleted(deleted=rule_id)
