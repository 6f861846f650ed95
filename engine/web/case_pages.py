"""Starting a case, the case page (diagram, labelled data, timeline, time limits, documents,
called decisions) and its 审批表 (printable page and PDF)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import LandflowError
from engine.services.case_summary import next_steps
from engine.services.container import Landflow

from .form_fields import fields_of, parse_posted
from .rendering import ActorDep, check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)


@router.get("/cases/new")
def new_case_page(request: Request, actor: ActorDep, process_id: str = "") -> HTMLResponse:
    lf = landflow(request)
    processes = _latest_processes(lf)
    return render(
        request,
        "new_case.html",
        actor,
        processes=processes,
        fields=_start_fields(lf, processes, process_id),
        form={"process_id": process_id},
    )


@router.post("/cases")
async def start_case(request: Request, actor: ActorDep) -> Response:
    lf = landflow(request)
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    process_id = str(form.get("process_id", ""))
    region, business_key = str(form.get("region", "")), str(form.get("business_key", ""))
    processes = _latest_processes(lf)
    start_form = next(
        (p["start_form_key"] for p in processes if p["process_id"] == process_id), None
    )
    data = parse_posted(lf.forms.schema(start_form), form) if start_form else {}
    try:
        case = lf.instances.start(
            actor, process_id, region.strip(), business_key.strip() or None, data
        )
    except LandflowError as exc:
        errors = [e.message for e in getattr(exc, "errors", [])] or [exc.message]
        return render(
            request,
            "new_case.html",
            actor,
            status=422,
            processes=processes,
            errors=errors,
            fields=_start_fields(lf, processes, process_id, data),
            form={"process_id": process_id, "region": region, "business_key": business_key},
        )
    return RedirectResponse(f"/cases/{case['id']}", status_code=303)


def _start_fields(
    lf: Landflow,
    processes: list[dict[str, Any]],
    process_id: str,
    values: dict[str, Any] | None = None,
):
    key = next((p["start_form_key"] for p in processes if p["process_id"] == process_id), None)
    return fields_of(lf.forms.schema(key), values) if key else []


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, actor: ActorDep, done: str = "") -> HTMLResponse:
    lf = landflow(request)
    record = lf.case_record.page(actor, case_id)
    case = record["case"]
    return render(
        request,
        "case.html",
        actor,
        case=case,
        record=record,
        tasks=sorted(case["tasks"], key=lambda t: (t["created_at"], t["completed_at"] or "~")),
        open_tasks=[t for t in case["tasks"] if t["state"] == "open"],
        submitted=_submitted(case, done),
        attachments=lf.attachments.list_for_case(actor, case_id),
        task=None,
        materials=[],
    )


@router.get("/cases/{case_id}/approval-form")
def approval_form_page(request: Request, case_id: str, actor: ActorDep) -> HTMLResponse:
    form = landflow(request).approval_form.form(actor, case_id)
    return render(request, "approval_form.html", actor, form=form)


@router.get("/cases/{case_id}/approval-form.pdf")
def approval_form_pdf(request: Request, case_id: str, actor: ActorDep) -> Response:
    name, pdf = landflow(request).approval_form.pdf(actor, case_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _submitted(case: dict[str, Any], task_id: str) -> dict[str, Any] | None:
    """After a submission (?done=<task>): the steps it opened, for "已提交，流转至…"."""
    if not task_id:
        return None
    done = next((t for t in case["tasks"] if t["id"] == task_id and t["state"] == "done"), None)
    if done is None:
        return None
    opened = next_steps(case, task_id)
    return {"title": done["title"], "next": opened or [], "known": opened is not None}


def _latest_processes(lf: Landflow) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for version in lf.definitions.list_versions():
        seen.setdefault(version["process_id"], version)
    return list(seen.values())
