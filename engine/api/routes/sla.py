from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.params import FIRST_DAY, LAST_DAY, CalendarYear
from engine.api.schemas.time_limits import (
    AlertList,
    CalendarDay,
    CalendarHistory,
    CalendarImported,
    CalendarYearDays,
    CalendarYears,
    CaseClocks,
    ClockNow,
    TaskClocks,
)
from engine.services import admin_uploads, clock_control

router = APIRouter(prefix="/api/v1", tags=["time limits"])


class Suspension(BaseModel):
    reason_type: str
    reason: str = Field(min_length=1, max_length=1000)
    missing_items: list[str] | None = Field(default=None, max_length=100)


class ExtensionRequest(BaseModel):
    days: int = Field(ge=1, le=60)
    reason: str = Field(min_length=1, max_length=1000)
    kind: str = "statutory"


class ExtensionDecision(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=1000)
    kind: str = "statutory"


class CalendarDayIn(BaseModel):
    kind: str | None = Field(description="holiday, workday, or null for an ordinary day")
    name: str = Field(default="", max_length=100)


class ClockIn(BaseModel):
    now: datetime


@router.get("/tasks/{task_id}/sla", response_model=TaskClocks)
def task_clocks(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.sla.task_clocks(actor, task_id)


@router.get("/instances/{instance_id}/sla", response_model=CaseClocks)
def case_time_limits(instance_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    """The case-wide clock and whether the case was accepted by law (行政许可法 §32)."""
    return lf.sla.case_time_limits(actor, instance_id)


@router.post("/tasks/{task_id}/sla/suspend", response_model=TaskClocks)
def suspend(task_id: str, body: Suspension, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.sla.suspend(actor, task_id, body.reason_type, body.reason, body.missing_items)


@router.post("/tasks/{task_id}/sla/resume", response_model=TaskClocks)
def resume(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.sla.resume(actor, task_id)


@router.post("/tasks/{task_id}/sla/extension", response_model=TaskClocks)
def request_extension(
    task_id: str, body: ExtensionRequest, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.sla.request_extension(actor, task_id, body.days, body.reason, body.kind)


@router.post("/tasks/{task_id}/sla/extension/decision", response_model=TaskClocks)
def decide_extension(
    task_id: str, body: ExtensionDecision, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.sla.decide_extension(actor, task_id, body.approve, body.note, body.kind)


@router.get("/calendar", response_model=CalendarYears)
def calendar_years(actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return {"years": lf.calendar.years()}


@router.get("/calendar/history", response_model=CalendarHistory)
def calendar_history(actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return {"items": lf.calendar.history(actor)}


@router.get("/calendar/{year}", response_model=CalendarYearDays, response_model_exclude_unset=True)
def calendar_year(year: CalendarYear, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.calendar.year(year)


@router.put("/calendar/days/{day}", response_model=CalendarDay)
def set_calendar_day(
    day: Annotated[date, Path(ge=FIRST_DAY, le=LAST_DAY)],
    body: CalendarDayIn,
    actor: ActorDep,
    lf: LandflowDep,
) -> dict[str, Any]:
    return lf.calendar.set_day(actor, day, body.kind, body.name)


@router.post("/calendar/import", response_model=CalendarImported)
async def import_calendar(request: Request, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    name, content = None, None
    if isinstance(upload, UploadFile):
        name = upload.filename
        content = await upload.read(admin_uploads.CALENDAR_MAX_BYTES + 1)
    source = str(form.get("source") or name or "import")
    return admin_uploads.import_calendar(lf.access, lf.calendar, actor, name, content, source)


@router.get("/admin/alerts", response_model=AlertList)
def alerts(actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    items = lf.sla.alerts(actor)
    return {"items": items, "total": len(items)}


@router.post("/admin/clock", response_model=ClockNow)
def set_clock(body: ClockIn, actor: ActorDep, lf: LandflowDep) -> ClockNow:
    """Set the engine clock (tests and demos only, like Camunda's ClockUtil)."""
    now = clock_control.set_clock(
        lf.access, lf.settings.allow_clock_override, lf.clock, actor, body.now
    )
    return ClockNow(now=now.isoformat())


@router.delete("/admin/clock", response_model=ClockNow)
def release_clock(actor: ActorDep, lf: LandflowDep) -> ClockNow:
    now = clock_control.release_clock(lf.access, lf.settings.allow_clock_override, lf.clock, actor)
    return ClockNow(now=now.isoformat())
