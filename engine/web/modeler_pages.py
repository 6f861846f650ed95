"""The modeler's pages (administrators only; anyone else is told they do not exist): the list
of processes and forms, the BPMN modeler with our property panel, the version comparison and
the form editor with its live preview (rendered by the task page's own form renderer)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.errors import NotFound, ValidationFailed

from .form_fields import fields_of
from .rendering import TEMPLATES, ActorDep, check_csrf, landflow, page_error, render
from .session import CSRF_HEADER

router = APIRouter(include_in_schema=False)
NOT_FOUND = "页面不存在"


@router.get("/modeler")
def modeler(
    request: Request, actor: ActorDep, process: str = "", draft: int | None = None
) -> HTMLResponse:
    if not actor.is_admin:
        return page_error(request, 404, NOT_FOUND)
    lf = landflow(request)
    if not process:
        return render(
            request,
            "modeler_index.html",
            actor,
            processes=lf.modeler.choices(actor)["processes"],
            forms=lf.form_editor.list(actor),
        )
    try:
        model = lf.modeler.model(actor, process)
    except NotFound:
        return page_error(request, 404, f"流程“{process}”尚未部署")
    return render(
        request,
        "modeler.html",
        actor,
        model=model,
        draft_id=draft,
        csrf_header=CSRF_HEADER,
    )


@router.get("/modeler/diff")
def version_diff(
    request: Request,
    actor: ActorDep,
    process: str,
    base: int | None = None,
    target: int | None = None,
) -> HTMLResponse:
    if not actor.is_admin:
        return page_error(request, 404, NOT_FOUND)
    try:
        diff = landflow(request).modeler.diff(actor, process, base, target)
    except NotFound:
        return page_error(request, 404, f"流程“{process}”没有这些版本")
    return render(request, "modeler_diff.html", actor, diff=diff)


@router.get("/modeler/forms/{form_key}")
def form_editor(request: Request, form_key: str, actor: ActorDep) -> HTMLResponse:
    if not actor.is_admin:
        return page_error(request, 404, NOT_FOUND)
    form = landflow(request).form_editor.get(actor, form_key)
    return render(
        request,
        "modeler_form.html",
        actor,
        form=form,
        preview=_preview(landflow(request), actor, form_key, form["content"]),
        csrf_header=CSRF_HEADER,
    )


@router.post("/modeler/forms/{form_key}/preview")
async def form_preview(request: Request, form_key: str, actor: ActorDep) -> HTMLResponse:
    """The form as the task page would show it, for the JSON Schema being edited (JSON body
    {"content": "…"}, CSRF header as for the API)."""
    if not actor.is_admin:
        return page_error(request, 404, NOT_FOUND)
    check_csrf(request, request.headers.get(CSRF_HEADER, ""))
    try:
        content = str((await request.json()).get("content", ""))
    except (ValueError, AttributeError):
        content = ""
    preview = _preview(landflow(request), actor, form_key, content)
    status = 200 if preview["fields"] is not None else 422
    html = TEMPLATES.get_template("modeler_form_preview.html").render(preview=preview)
    return HTMLResponse(html, status_code=status)


def _preview(lf, actor, form_key: str, content: str) -> dict:
    try:
        schema = lf.form_editor.schema_for_preview(actor, form_key, content)
    except ValidationFailed as refused:
        return {"fields": None, "errors": [e.message for e in refused.errors], "title": ""}
    return {
        "fields": fields_of(schema, {}),
        "errors": [],
        "title": schema.get("title", ""),
        "description": schema.get("description", ""),
    }
