"""工作日历: a year as twelve month grids (holidays and 调休 make-up days marked; a year without
the State Council notice marked 暂定 with its estimated holidays), editing one day, importing
the notice, and who changed what."""

from __future__ import annotations

import calendar as month_calendar
from datetime import date
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from engine.errors import ValidationFailed
from engine.services.actor import Actor

from .admin_access import AdminDep
from .rendering import check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
KIND_LABELS = {"holiday": "放假", "workday": "调休上班", "": "按周末规则"}
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")
DONE = {
    "edited": "日期已修改，进行中的期限已重新计算",
    "imported": "放假安排已导入，进行中的期限已重新计算",
}
NOTICE_MAX_BYTES = 1_000_000


@router.get("/admin/calendar")
def calendar_page(
    request: Request, actor: AdminDep, year: int = 0, day: str = "", done: str = ""
) -> HTMLResponse:
    return _render(request, actor, year, day, flash=DONE.get(done, ""))


@router.post("/admin/calendar/day")
async def edit_day(request: Request, actor: AdminDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    text, kind = str(form.get("day", "")), str(form.get("kind", ""))
    name = str(form.get("name", "")).strip()[:100]
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return _render(request, actor, 0, "", status=422, message="请填写要修改的日期")
    try:
        landflow(request).calendar.set_day(actor, day, kind or None, name)
    except ValidationFailed as exc:
        detail = "；".join(e.message for e in exc.errors)
        return _render(
            request, actor, day.year, text, status=422, message=f"{exc.message}：{detail}"
        )
    query = urlencode({"year": day.year, "day": day.isoformat(), "done": "edited"})
    return RedirectResponse(f"/admin/calendar?{query}", status_code=303)


@router.post("/admin/calendar/import")
async def import_notice(request: Request, actor: AdminDep) -> Response:
    lf = landflow(request)
    lf.access.require_admin(actor)
    form = await request.form(max_files=1, max_fields=5)
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    upload = form.get("file")
    name = (upload.filename or "").lower() if isinstance(upload, UploadFile) else ""
    fmt = "json" if name.endswith(".json") else "csv" if name.endswith(".csv") else None
    if fmt is None or not isinstance(upload, UploadFile):
        return _render(
            request, actor, 0, "", status=422, message="请选择 .json 或 .csv 格式的放假安排文件"
        )
    content = await upload.read(NOTICE_MAX_BYTES + 1)
    try:
        if len(content) > NOTICE_MAX_BYTES:
            raise ValueError("文件太大")
        text = content.decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return _render(request, actor, 0, "", status=422, message="文件须为 1 MB 以内的 UTF-8 文本")
    source = str(form.get("source") or "").strip()[:200] or upload.filename or "导入"
    try:
        imported = lf.calendar.import_notice(actor, text, fmt, source)
    except ValidationFailed as exc:
        detail = "；".join(f"{e.field}：{e.message}" for e in exc.errors)
        return _render(request, actor, 0, "", status=422, message=f"{exc.message}。{detail}")
    query = urlencode({"year": imported["year"], "done": "imported"})
    return RedirectResponse(f"/admin/calendar?{query}", status_code=303)


def _render(
    request: Request,
    actor: Actor,
    year: int,
    day: str,
    status: int = 200,
    message: str = "",
    flash: str = "",
) -> HTMLResponse:
    lf = landflow(request)
    lf.access.require_admin(actor)
    today = lf.clock.now().astimezone(ZoneInfo(lf.settings.timezone)).date()
    year = year if 1990 <= year <= 2100 else today.year
    shown = lf.calendar.year(year)
    marks = {d["day"]: d for d in shown["days"]}
    estimated = set(shown.get("provisional_holidays", []))
    chosen = marks.get(day, {"day": day, "kind": "", "name": ""}) if _is_day(day) else None
    return render(
        request,
        "admin_calendar.html",
        actor,
        status=status,
        year=year,
        shown=shown,
        months=[_month(year, m, marks, estimated, day) for m in range(1, 13)],
        weekdays=WEEKDAYS,
        years=lf.calendar.years(),
        history=[_change(c) for c in lf.calendar.history(actor)],
        chosen=chosen,
        kind_labels=KIND_LABELS,
        message=message,
        flash=flash,
    )


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _month(
    year: int, month: int, marks: dict[str, Any], estimated: set[str], chosen: str
) -> dict[str, Any]:
    weeks = []
    for week in month_calendar.Calendar().monthdatescalendar(year, month):
        cells: list[dict[str, Any] | None] = []
        for d in week:
            if d.month != month:
                cells.append(None)
                continue
            iso = d.isoformat()
            mark = marks.get(iso)
            classes = ["weekend"] if d.weekday() >= 5 else []
            title = ""
            if mark:
                classes.append(mark["kind"])
                title = (
                    f"{KIND_LABELS[mark['kind']]}：{mark['name']}"
                    if mark["name"]
                    else KIND_LABELS[mark["kind"]]
                )
            elif iso in estimated:
                classes.append("estimated")
                title = "估计的法定节假日（暂定）"
            if iso == chosen:
                classes.append("chosen")
            cells.append({"day": d.day, "iso": iso, "classes": " ".join(classes), "title": title})
        weeks.append(cells)
    return {"number": month, "weeks": weeks}


def _change(change: dict[str, Any]) -> dict[str, Any]:
    """A calendar change in words."""
    details = change["details"]
    if change["action"] == "edit":
        what = f"{details['day']}：{_state(details.get('before'))} → {_state(details.get('after'))}"
    elif change["action"] == "import":
        what = (
            f"导入 {details['year']} 年放假安排（{details.get('source') or '未注明来源'}），"
            f"{len(details.get('after', []))} 天，原有 {len(details.get('before', []))} 天"
        )
    else:
        years = details.get("years", [])
        span = f"{years[0]}—{years[-1]} 年" if len(years) > 1 else f"{years[0]} 年" if years else ""
        what = f"载入 chinese-calendar 软件包中的 {span}放假安排"
    return {"at": change["at"], "actor": change["actor"], "action": change["action"], "what": what}


def _state(value: dict[str, Any] | None) -> str:
    if not value or not value.get("kind"):
        return KIND_LABELS[""]
    label = KIND_LABELS.get(value["kind"], value["kind"])
    return f"{label}（{value['name']}）" if value.get("name") else label
