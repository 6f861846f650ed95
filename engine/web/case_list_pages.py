"""The case list and search (办件查询): every case the user may see, filtered and found by
case number, matter, applicant, parcel code or village name."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.errors import BadRequest
from engine.services.search import ACTIVE, CaseFilter

from .list_filters import PAGE_SIZE, filter_options, read_filters
from .rendering import ActorDep, landflow, render

router = APIRouter(include_in_schema=False)

STATUS_CHOICES = {
    ACTIVE: "办理中（含等待、异常）",
    "completed": "已办结",
    "terminated": "已终止",
    "error": "异常",
}
MAX_QUERY = 100


@router.get("/cases")
def case_list(request: Request, actor: ActorDep) -> HTMLResponse:
    lf = landflow(request)
    filters = read_filters(request, lf, actor, "q", "status")
    text = filters.extra["q"].strip()[:MAX_QUERY]
    status = filters.extra["status"] if filters.extra["status"] in STATUS_CHOICES else ""
    filters.extra.update(q=text, status=status)
    zone = ZoneInfo(lf.settings.timezone)
    where = CaseFilter(
        text=text,
        process_id=filters.process or None,
        region=filters.region or None,
        status=status or None,
        created_from=filters.created_from(zone),
        created_to=filters.created_to(zone),
        limit=PAGE_SIZE,
        cursor=filters.cursor or None,
    )
    try:
        cases = lf.search.list(actor, where)
    except BadRequest:  # a cursor of another list, typed or kept: start over
        filters.cursor = ""
        cases = lf.search.list(actor, replace(where, cursor=None))
    return render(
        request,
        "cases.html",
        actor,
        cases=cases,
        filters=filters,
        options=filter_options(lf, actor),
        statuses=STATUS_CHOICES,
    )
