from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from engine.api.deps import ActorDep, LandflowDep
from engine.errors import BadRequest, FeatureDisabled

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


@router.get("/tasks/{task_id}/sla")
def task_clocks(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.sla.task_clocks(actor, task_id)


@router.get("/instances/{instance_id}/sla")
def case_time_limits(instance_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    """The case-wide clock and whether the case was accepted by law (行政许可法 §32)."""
    return lf.sla.case_time_limits(actor, instance_id)


@router.post("/tasks/{task_id}/sla/suspend")
def suspend(task_id: str, body: Suspension, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.sla.suspend(actor, task_id, body.reason_type, body.reason, body.missing_items)


@router.post("/tasks/{task_id}/sla/resume")
def resume(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.sla.resume(actor, task_id)


@router.post("/tasks/{task_id}/sla/extension")
def request_extension(
    task_id: str, body: ExtensionRequest, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.sla.request_extension(actor, task_id, body.days, body.reason, body.kind)


@router.post("/tasks/{task_id}/sla/extension/decision")
def decide_extension(
    task_id: str, body: ExtensionDecision, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.sla.decide_extension(actor, task_id, body.approve, body.note, body.kind)


@router.get("/calendar")
def calendar_years(actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return {"years": lf.calendar.years()}


@router.get("/calendar/history")
def calendar_history(actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return {"items": lf.calendar.history(actor)}


@router.get("/calendar/{year}")
def calendar_year(year: int, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.calendar.year(year)


@router.put("/calendar/days/{day}")
def set_calendar_day(
    day: date, body: CalendarDayIn, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.calendar.set_day(actor, day, body.kind, body.name)


@router.post("/calendar/import")
async def import_calendar(request: Request, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    lf.access.require_admin(actor)
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise BadRequest("send the State Council notice as multipart field 'file' (.csv or .json)")
    name = (upload.filename or "").lower()
    fmt = "json" if name.endswith(".json") else "csv" if name.endswith(".csv") else None
    if fmt is None:
        raise BadRequest("the file must be .csv or .json")
    content = await upload.read(1_000_001)
    if len(content) > 1_000_000:
        raise BadRequest("the file is too large")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the file must be UTF-8") from None
    source = str(form.get("source") or upload.filename or "import")
    return lf.calendar.import_notice(actor, text, fmt, source[:200])


@router.get("/admin/alerts")
def alerts(actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    items = lf.sla.alerts(actor)
    return {"items": items, "total": len(items)}


@router.post("/admin/clock")
def set_clock(body: ClockIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    """Set the engine clock (tests and demos only, like Camunda's ClockUtil)."""
    lf.access.require_admin(actor)
    if not lf.settings.allow_clock_override:
        raise FeatureDisabled("the clock can be set only when LANDFLOW_ALLOW_CLOCK_OVERRIDE is on")
    if body.now.tzinfo is None:
        raise BadRequest("give the time with its offset, e.g. 2026-10-16T09:00:00+08:00")
    lf.clock.set(body.now)
    return {"now": lf.clock.now().isoformat()}


@router.delete("/admin/clock")
def release_clock(actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    lf.access.require_admin(actor)
    if not lf.settings.allow_clock_override:
        raise FeatureDisabled("the clock can be set only when LANDFLOW_ALLOW_CLOCK_OVERRIDE is on")
    lf.clock.release()
    return {"now": lf.clock.now().isoformat()}
