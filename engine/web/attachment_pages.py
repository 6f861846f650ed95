"""Attachments on the pages: upload from the task page (per 材料清单 item), delete, download
and preview. The task page includes templates/attachments_panel.html with the context from
`lf.attachments.for_task(actor, task_id)`."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from engine.services.attachments import REFUSALS, AttachmentService, Download, UploadRefused

from .rendering import TEMPLATES, ActorDep, check_csrf, landflow
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields beside the file


@router.post("/tasks/{task_id}/attachments")
async def upload(request: Request, task_id: str, actor: ActorDep) -> Response:
    attachments = landflow(request).attachments
    back = f"/tasks/{task_id}"
    try:
        material, file_name, data, csrf = await read_upload(request, attachments)
        check_csrf(request, csrf)
        await run_in_threadpool(attachments.upload, actor, task_id, material, file_name, data)
    except UploadRefused as refused:
        return RedirectResponse(f"{back}?attachment_error={refused.reason}#attachments", 303)
    return RedirectResponse(f"{back}#attachments", status_code=303)


@router.post("/attachments/{attachment_id}/delete")
def delete(
    request: Request,
    attachment_id: str,
    actor: ActorDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    removed = landflow(request).attachments.delete(actor, attachment_id)
    return RedirectResponse(f"/tasks/{removed['task_id']}#attachments", status_code=303)


@router.get("/attachments/{attachment_id}")
def download(request: Request, attachment_id: str, actor: ActorDep) -> Response:
    return attachment_response(landflow(request).attachments.download(actor, attachment_id))


@router.get("/attachments/{attachment_id}/preview")
def preview(request: Request, attachment_id: str, actor: ActorDep) -> Response:
    found = landflow(request).attachments.download(actor, attachment_id)
    return attachment_response(found, inline=True)


# ---- shared with the API ------------------------------------------------------------------
async def read_upload(
    request: Request, attachments: AttachmentService
) -> tuple[str | None, str | None, bytes | None, str]:
    """(material, the user's file name, at most max_bytes + 1 bytes of the file, CSRF token)
    from a multipart form; a body that announces more than the limit is not read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > attachments.max_bytes + FORM_OVERHEAD:
        raise UploadRefused("too_large", attachments.refusal_message("too_large") or "")
    try:
        async with request.form(max_files=1, max_fields=20) as form:
            upload = form.get("file")
            material, csrf = form.get("material"), form.get(CSRF_FIELD)
            data, file_name = None, None
            if isinstance(upload, UploadFile):
                data = await upload.read(attachments.max_bytes + 1)
                file_name = upload.filename
                if not data and not file_name:  # the file field was left empty
                    data = None
    except HTTPException:  # a malformed multipart body
        raise UploadRefused("missing", REFUSALS["missing"]) from None
    return (
        material if isinstance(material, str) else None,
        file_name,
        data,
        csrf if isinstance(csrf, str) else "",
    )


def attachment_response(found: Download, inline: bool = False) -> Response:
    """The stored bytes with the sniffed type; shown in the browser only for PDF and images,
    everything else is a download. The browser must not second-guess the type."""
    shown = inline and found.kind.inline
    fallback = f"attachment{found.kind.extension}"
    headers = {
        "Content-Disposition": f"{'inline' if shown else 'attachment'}; "
        f"filename=\"{fallback}\"; filename*=UTF-8''{quote(found.file_name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
        + ("" if found.kind.preview == "pdf" else "; sandbox"),
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    return Response(found.data, media_type=found.kind.mime, headers=headers)


def attachment_problem(request: Request) -> str | None:
    """The refusal to show on the task page after a redirect (?attachment_error=reason)."""
    reason = request.query_params.get("attachment_error")
    if not reason:
        return None
    return request.app.state.landflow.attachments.refusal_message(reason)


TEMPLATES.env.globals["attachment_problem"] = attachment_problem
