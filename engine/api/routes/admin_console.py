"""The admin console over HTTP: the home figures, deployments and versions with their cases, a
version's diagram, jobs (with retry) and the history log. Administrators only."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.errors import Responses
from engine.api.schemas.params import RowId
from engine.services.admin_audit import AuditQuery
from engine.services.admin_console import admin_console
from engine.services.admin_jobs import GROUPS

router = APIRouter(prefix="/api/v1/admin", tags=["admin console"])
_ADMINS: Responses = {403: {"description": "administrators only"}}


class Overview(BaseModel):
    open_incidents: int
    dead_deliveries: int
    failed_jobs: int
    unroutable_tasks: int
    running_cases: int = Field(description="running or waiting")
    error_cases: int
    calendar_years_missing: list[int] = Field(
        description="this year, next year or an alerted year without the holiday notice"
    )
    this_year: int


class CaseCounts(BaseModel):
    running: int = Field(description="running or waiting")
    completed: int
    terminated: int
    error: int


class VersionOut(BaseModel):
    version: int
    name: str
    file_name: str
    deployed_at: str
    deployed_by: str
    source: str = Field(description="startup | api | console")
    cases: CaseCounts


class ProcessOut(BaseModel):
    process_id: str
    name: str
    versions: list[VersionOut]


class ProcessList(BaseModel):
    items: list[ProcessOut]
    total: int


class WaitingStep(BaseModel):
    id: str
    name: str
    state: str = "active"
    departments: list[dict[str, str]] = Field(default_factory=list)
    open_tasks: int


class VersionDiagram(BaseModel):
    process_id: str
    version: int
    name: str
    xml: str
    elements: list[WaitingStep] = Field(description="steps where cases of the version wait")


class JobOut(BaseModel):
    id: int
    kind: str = Field(description="timer | sla | digest | deliver")
    status: str = Field(description="pending | running | held | done | failed")
    instance_id: str | None
    case_no: str | None
    process_id: str | None
    target: str
    payload: dict[str, Any]
    due_at: str | None
    attempts: int
    last_error: str | None
    locked_by: str | None
    locked_until: str | None
    created_at: str | None
    done_at: str | None


class JobPage(BaseModel):
    group: str
    items: list[JobOut]
    total: int
    page: int
    per_page: int
    counts: dict[str, int] = Field(description="jobs per group")


class HistoryOut(BaseModel):
    id: int
    at: str
    instance_id: str
    case_no: str | None
    process_id: str
    task_id: str | None
    task_title: str | None
    actor: str
    on_behalf_of: str | None
    action: str
    details: dict[str, Any]


class HistoryPage(BaseModel):
    items: list[HistoryOut]
    total: int
    page: int
    per_page: int


@router.get("/overview", response_model=Overview, responses=_ADMINS)
def overview(actor: ActorDep, lf: LandflowDep) -> Overview:
    return Overview(**admin_console(lf).overview.figures(actor))


@router.get("/definitions", response_model=ProcessList, responses=_ADMINS)
def definitions(actor: ActorDep, lf: LandflowDep) -> ProcessList:
    items = admin_console(lf).definitions.processes(actor)
    return ProcessList(items=[ProcessOut(**p) for p in items], total=len(items))


@router.get(
    "/definitions/{process_id}/versions/{version}/diagram",
    response_model=VersionDiagram,
    responses={**_ADMINS, 404: {"description": "no such version"}},
)
def version_diagram(
    process_id: str, version: int, actor: ActorDep, lf: LandflowDep
) -> VersionDiagram:
    return VersionDiagram(
        **admin_console(lf).definitions.version_diagram(actor, process_id, version)
    )


@router.get("/jobs", response_model=JobPage, responses=_ADMINS)
def jobs(
    actor: ActorDep,
    lf: LandflowDep,
    group: str = Query(default="due", description=" | ".join(GROUPS)),
    kind: str | None = Query(default=None, max_length=20),
    page: int = Query(default=1, ge=1, le=100_000),
) -> JobPage:
    console = admin_console(lf)
    listed = console.jobs.list(actor, group, kind, page)
    return JobPage(**listed, counts=console.jobs.counts(actor))


@router.post(
    "/jobs/{job_id}/retry",
    response_model=JobOut,
    responses={**_ADMINS, 404: {"description": "no such job"}, 409: {"description": "not failed"}},
)
def retry_job(job_id: RowId, actor: ActorDep, lf: LandflowDep) -> JobOut:
    """Run a failed job again, due now, with its attempts counted from zero."""
    return JobOut(**admin_console(lf).jobs.retry(actor, job_id))


@router.get("/audit", response_model=HistoryPage, responses=_ADMINS)
def audit(
    actor: ActorDep,
    lf: LandflowDep,
    case_no: str = Query(default="", max_length=40, description="a case number or its start"),
    user: str = Query(default="", max_length=80, description="who acted (or for whom)"),
    action: str = Query(default="", max_length=40),
    since: date | None = None,
    until: date | None = None,
    page: int = Query(default=1, ge=1, le=100_000),
) -> HistoryPage:
    query = AuditQuery(case_no, user, action, since, until, page)
    return HistoryPage(**admin_console(lf).audit.search(actor, query))
