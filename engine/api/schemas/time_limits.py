"""Time-limit clocks (时限) and the working calendar, as the API shows them
(engine/services/sla_views.py, engine/services/calendar.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ClockOut(BaseModel):
    id: int
    kind: str = Field(description="statutory | committed | overall")
    limit: str
    limit_text: str
    basis: str | None
    state: str
    provisional: bool = Field(description="counted on an estimated calendar (暂定)")
    started_at: str | None
    due_at: str | None
    yellow_at: str | None
    yellow_rule: str | None
    elapsed_workdays: int | None
    suspended_days: int
    extension_days: int
    max_extension: int | None
    extension_state: str | None
    extension_request: Any = None
    stopped_at: str | None
    problem: str | None


class SuspensionOut(BaseModel):
    reason_type: str
    reason: str
    missing_items: list[str] | None
    started_at: str | None
    started_by: str | None
    ended_at: str | None
    ended_by: str | None
    days_counted: int | None


class AcceptanceOut(BaseModel):
    received_on: str
    notice_deadline: str
    accepted_at: str | None
    task_id: str | None
    basis: str | None


class TaskClocks(BaseModel):
    task_id: str
    due_at: str | None
    sla_state: str | None
    clocks: list[ClockOut]
    provisional: bool
    suspensions: list[SuspensionOut]
    accepted_by_law: AcceptanceOut | None


class CaseClocks(BaseModel):
    instance_id: str
    clocks: list[ClockOut]
    provisional: bool
    accepted_by_law: AcceptanceOut | None


class CalendarYearOut(BaseModel):
    year: int
    source: str | None
    updated_at: str


class CalendarYears(BaseModel):
    years: list[CalendarYearOut]


class CalendarChange(BaseModel):
    at: str
    actor: str
    action: str
    details: Any = None


class CalendarHistory(BaseModel):
    items: list[CalendarChange]


class CalendarDay(BaseModel):
    day: str
    kind: str | None = Field(description="holiday | workday; null for an ordinary day")
    name: str


class CalendarYearDays(BaseModel):
    year: int
    covered: bool = Field(description="the State Council notice for the year is imported")
    source: str | None
    days: list[CalendarDay]
    provisional_holidays: list[str] | None = Field(
        default=None, description="estimated holidays while the notice is missing (暂定)"
    )


class CalendarImported(BaseModel):
    year: int
    days: int
    resolved_alerts: int


class AlertOut(BaseModel):
    key: str
    message: str
    created_at: str | None
    resolved_at: str | None


class AlertList(BaseModel):
    items: list[AlertOut]
    total: int


class ClockNow(BaseModel):
    now: str
