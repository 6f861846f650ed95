"""The leadership-group office's dispatch reports (调度报告): the list with its filters and the
forms to issue a report or a bulletin, one report as issued (its frozen HTML, the bar chart,
the workbook and the PDF). Offices and administrators only; anyone else is told the page does
not exist."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from engine.errors import BadRequest, PermissionDenied, ValidationFailed
from engine.services.actor import Actor
from engine.services.reports_periods import KIND_NAMES, KINDS, SCHEDULED

from .rendering import ActorDep, check_csrf, landflow, page_error, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 30


def _forbidden(request: Request, actor: Actor) -> HTMLResponse | None:
    try:
        landflow(request).access.require_office(actor)
    except PermissionDenied:
        return page_error(request, 404, "页面不存在")
    return None


def _list_page(request: Request, actor: Actor, status: int = 200, **context: Any) -> HTMLResponse:
    params = request.query_params
    kind = params.get("kind") if params.get("kind") in KINDS else None
    period = (params.get("period") or "").strip()[:7] or None
    page_text = params.get("page", "1")
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) <= 1000 else 1
    try:
        listed = landflow(request).reports.list(
            actor, kind, period, None, PAGE_SIZE, (page - 1) * PAGE_SIZE
        )
    except BadRequest as exc:
        listed, context["message"] = {"total": 0, "items": []}, exc.message
    return render(
        request,
        "reports.html",
        actor,
        status=status,
        listed=listed,
        kind=kind,
        period=period or "",
        page=page,
        pages=max(1, -(-listed["total"] // PAGE_SIZE)),
        kinds=[(k, KIND_NAMES[k]) for k in KINDS],
        scheduled=[(k, KIND_NAMES[k]) for k in SCHEDULED],
        given=context.pop("given", {}),
        **context,
    )


@router.get("/reports")
def reports_page(request: Request, actor: ActorDep) -> Response:
    return _forbidden(request, actor) or _list_page(request, actor)


@router.post("/reports")
async def issue_report(request: Request, actor: ActorDep) -> Response:
    refused = _forbidden(request, actor)
    if refused:
        return refused
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    given = {
        k: str(form.get(k) or "").strip() for k in ("kind", "since", "until", "title", "template")
    }
    lf = landflow(request)
    try:
        since, until = _dates(given)
        if given["kind"] == "bulletin":
            issued = lf.reports.bulletin(
                actor, given["title"], given["template"], None, since, until
            )
        else:
            issued = lf.reports.issue(actor, given["kind"], None, since, until)
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        return _list_page(request, actor, 422, message=exc.message, errors=errors, given=given)
    except BadRequest as exc:
        return _list_page(request, actor, 400, message=exc.message, errors={}, given=given)
    return RedirectResponse(f"/reports/{issued['id']}", status_code=303)


def _dates(given: dict[str, str]) -> tuple[date | None, date | None]:
    try:
        return (
            date.fromisoformat(given["since"]) if given["since"] else None,
            date.fromisoformat(given["until"]) if given["until"] else None,
        )
    except ValueError:
        raise BadRequest("日期格式应为 2026-11-01") from None


@router.get("/reports/{report_id}")
def report_page(request: Request, report_id: int, actor: ActorDep) -> Response:
    refused = _forbidden(request, actor)
    if refused:
        return refused
    report = landflow(request).reports.get(actor, report_id)
    # the HTML was rendered (and escaped) by the service when the report was issued
    return render(request, "report.html", actor, report=report, body=Markup(report["html"]))


@router.get("/reports/{report_id}/{fmt}")
def report_file(request: Request, report_id: int, fmt: str, actor: ActorDep) -> Response:
    refused = _forbidden(request, actor)
    if refused:
        return refused
    name, media, data = landflow(request).reports.file(actor, report_id, fmt)
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
