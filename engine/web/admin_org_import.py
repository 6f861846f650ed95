"""CSV import in 组织机构: the uploaded file's preview (what each row would add, change or why it
is refused), then its application. With scripts on, the page applies the file slice by slice
through the API and shows the progress; without, the confirm button applies it at once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from engine.errors import BadRequest, ValidationFailed
from engine.services.actor import Actor

from .admin_access import AdminDep
from .rendering import check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
KIND_LABELS = {"regions": "行政区划", "departments": "部门", "users": "用户及角色"}
ACTION_LABELS = {"add": "新增", "change": "修改", "same": "不变", "refused": "拒绝"}
SLICE_ROWS = 50  # rows per request when the page applies a file in slices


@router.post("/admin/org/import")
async def preview(request: Request, actor: AdminDep) -> Response:
    lf = landflow(request)
    lf.access.require_admin(actor)
    form = await request.form(max_files=1, max_fields=5)
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    kind = str(form.get("kind", ""))
    upload = form.get("file")
    text = ""
    if isinstance(upload, UploadFile):
        content = await upload.read(lf.settings.max_upload_bytes + 1)
        if len(content) > lf.settings.max_upload_bytes:
            return _refused(request, actor, kind, "文件太大")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return _refused(request, actor, kind, "CSV 文件须为 UTF-8 编码")
    if not text.strip():
        return _refused(request, actor, kind, "请选择 CSV 文件")
    try:
        plan = lf.organisation.preview(actor, kind, text)
    except (ValidationFailed, BadRequest) as exc:
        return _refused(request, actor, kind, _reason(exc))
    return _render(request, actor, kind, plan=plan, text=text)


@router.post("/admin/org/import/apply")
async def apply(request: Request, actor: AdminDep) -> Response:
    """Without scripts: the whole file in one command."""
    form = await request.form(max_fields=5)
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    kind, text = str(form.get("kind", "")), str(form.get("csv", ""))
    try:
        result = landflow(request).organisation.apply_import(actor, kind, text)
    except (ValidationFailed, BadRequest) as exc:
        return _refused(request, actor, kind, _reason(exc))
    return _render(request, actor, kind, result=result)


def _reason(exc: ValidationFailed | BadRequest) -> str:
    if isinstance(exc, ValidationFailed):
        return exc.message + "：" + "、".join(f"{e.field}（{e.message}）" for e in exc.errors)
    return "请选择导入内容"


def _refused(request: Request, actor: Actor, kind: str, message: str) -> HTMLResponse:
    return _render(request, actor, kind, status=422, message=message)


def _render(
    request: Request, actor: Actor, kind: str, status: int = 200, **context: Any
) -> HTMLResponse:
    return render(
        request,
        "admin_org_import.html",
        actor,
        status=status,
        kind=kind,
        kind_label=KIND_LABELS.get(kind, ""),
        action_labels=ACTION_LABELS,
        slice_rows=SLICE_ROWS,
        **context,
    )
