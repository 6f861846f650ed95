"""The leadership-group office's dispatch dashboard over HTTP: the figures, the cases behind a
figure, the process heatmap, the region and process choices, and the yearly targets. Offices
and administrators only (others: 403)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.params import Day
from engine.services.dashboard_drilldown import KINDS, LIGHTS, DrillDown

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch"])

Region = Annotated[
    str | None, Query(max_length=20, description="a region in your territory (default: your own)")
]
Since = Annotated[Day | None, Query(description="first day of the period (default: the 1st)")]
Until = Annotated[Day | None, Query(description="last day of the period (default: today)")]


class Scope(BaseModel):
    region: str | None
    region_name: str
    since: str
    until: str
    year: int = Field(description="the year whose targets the indicators are compared with")


class Tally(BaseModel):
    active_cases: int
    open_steps: int
    yellow: int
    red: int
    finished: int
    late: int
    on_time_rate: float | None = Field(description="finished on time / finished with a clock")
    supervised: int = Field(description="督办 orders issued in the period")


class AreaTally(Tally):
    code: str
    name: str
    own: bool = Field(description="the region itself (本级), not a region below it")


class DepartmentTally(Tally):
    code: str = Field(description="department code; '-' for steps no department could take")
    name: str


class Stage(BaseModel):
    step: str
    name: str
    open_cases: int
    open_steps: int
    open_red: int
    avg_waited_workdays: float | None


class ProcessWork(BaseModel):
    process_id: str
    name: str
    active_cases: int
    stages: list[Stage]


class StepFigures(BaseModel):
    process_id: str
    step: str
    name: str
    finished: int
    late: int
    overdue_share: float | None
    avg_workdays: float | None
    p90_workdays: int | None
    open_cases: int
    open_steps: int
    open_red: int
    avg_waited_workdays: float | None


class ProcessStep(StepFigures):
    process_name: str


class IndicatorFigure(BaseModel):
    key: str
    name: str
    unit: str
    value: float = Field(description="total of the period")
    year_value: float = Field(description="total of the target year up to the period's end")
    target: float | None
    progress: float | None = Field(description="year_value / target")
    basis: str | None


class Dashboard(BaseModel):
    scope: Scope
    totals: Tally
    processes: list[ProcessWork]
    areas: list[AreaTally]
    departments: list[DepartmentTally]
    steps: list[ProcessStep]
    indicators: list[IndicatorFigure]


class HeatmapElement(StepFigures):
    id: str


class Heatmap(BaseModel):
    scope: Scope
    process_id: str
    process_name: str
    xml: str
    elements: list[HeatmapElement]
    max_avg_workdays: float | None
    max_p90_workdays: int | None


class OpenStep(BaseModel):
    id: str
    title: str
    department: str | None
    due_at: str | None
    sla_state: str | None


class CaseRow(BaseModel):
    id: str
    process_id: str
    version: int
    status: str
    region: str
    business_key: str | None
    case_no: str | None
    title: str | None
    applicant: str | None
    started_by: str
    created_at: str | None
    updated_at: str | None
    ended_at: str | None
    open_steps: list[OpenStep]


class CaseList(BaseModel):
    scope: Scope
    labels: dict[str, str] = Field(description="the filters by name: area, process, step, …")
    items: list[CaseRow]
    total: int
    limit: int
    offset: int


class RegionChoice(BaseModel):
    code: str
    name: str
    level: str


class ProcessChoice(BaseModel):
    process_id: str
    name: str


class IndicatorChoice(BaseModel):
    key: str
    name: str
    unit: str


class Choices(BaseModel):
    regions: list[RegionChoice]
    processes: list[ProcessChoice]
    indicators: list[IndicatorChoice]


class TargetOut(BaseModel):
    indicator: str
    name: str
    unit: str
    target: float | None
    basis: str | None
    updated_by: str | None
    updated_at: str | None


class Targets(BaseModel):
    year: int
    region: str
    region_name: str
    items: list[TargetOut]


class TargetIn(BaseModel):
    year: int = Field(ge=2000, le=2100)
    region: str = Field(min_length=1, max_length=20)
    indicator: str = Field(min_length=1, max_length=60)
    target: float | None = Field(ge=0, description="null clears the target")
    basis: str | None = Field(default=None, max_length=300)


class TargetSet(TargetOut):
    year: int
    region: str


@router.get("", response_model=Dashboard)
def dashboard(
    actor: ActorDep,
    lf: LandflowDep,
    region: Region = None,
    since: Since = None,
    until: Until = None,
) -> Dashboard:
    return Dashboard(**lf.dispatch.dashboard(actor, region, since, until))


@router.get("/heatmap", response_model=Heatmap)
def heatmap(
    actor: ActorDep,
    lf: LandflowDep,
    process_id: Annotated[str | None, Query(max_length=120)] = None,
    region: Region = None,
    since: Since = None,
    until: Until = None,
) -> Heatmap:
    return Heatmap(**lf.dispatch.heatmap(actor, process_id or "", region, since, until))


@router.get("/cases", response_model=CaseList)
def cases(
    actor: ActorDep,
    lf: LandflowDep,
    kind: Annotated[str, Query(description=" | ".join(KINDS))] = "active",
    region: Region = None,
    since: Since = None,
    until: Until = None,
    process: Annotated[str | None, Query(max_length=120)] = None,
    step: Annotated[str | None, Query(max_length=120)] = None,
    department: Annotated[str | None, Query(max_length=60, description="'-': unrouted")] = None,
    area: Annotated[str | None, Query(max_length=20)] = None,
    light: Annotated[str | None, Query(description=" | ".join(LIGHTS))] = None,
    indicator: Annotated[str | None, Query(max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseList:
    drill = DrillDown(kind, process, step, department, area, light, indicator)
    return CaseList(**lf.dispatch.cases(actor, drill, region, since, until, limit, offset))


@router.get("/choices", response_model=Choices)
def choices(actor: ActorDep, lf: LandflowDep) -> Choices:
    return Choices(**lf.dispatch.choices(actor))


@router.get("/targets", response_model=Targets)
def targets(
    actor: ActorDep,
    lf: LandflowDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="default: this year")] = None,
    region: Region = None,
) -> Targets:
    return Targets(**lf.dispatch.targets(actor, year, region))


@router.put("/targets", response_model=TargetSet)
def set_target(body: TargetIn, actor: ActorDep, lf: LandflowDep) -> TargetSet:
    return TargetSet(
        **lf.dispatch.set_target(
            actor, body.year, body.region, body.indicator, body.target, body.basis
        )
    )
