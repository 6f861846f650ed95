"""Attachments and the 材料清单 over HTTP: upload to a task, list a case's files, download
(the sniffed type, `attachment` unless previewable), delete. docs/attachments.md."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.web.attachment_pages import attachment_response, read_upload

router = APIRouter(prefix="/api/v1", tags=["attachments"])


class AttachmentOut(BaseModel):
    id: str
    instance_id: str
    task_id: str = Field(description="the task it was uploaded at")
    task_spec: str
    material: str | None = Field(description="the 材料清单 item, or null for 其他材料")
    file_name: str = Field(description="for display; the stored object is named by sha256")
    kind: str = Field(description="sniffed from the content: pdf, jpeg, png, ofd, doc, …")
    kind_label: str
    content_type: str
    preview: str | None = Field(description="'pdf' or 'image' when the browser may show it")
    size: int
    size_text: str
    sha256: str
    uploaded_by: str
    uploaded_at: str
    can_delete: bool = Field(description="the caller may delete it now")


class AttachmentList(BaseModel):
    items: list[AttachmentOut]


class MaterialOut(BaseModel):
    name: str
    required: bool
    note: str
    present: bool
    attachments: list[AttachmentOut]


class MaterialsOut(BaseModel):
    task_id: str
    materials: list[MaterialOut]
    missing: list[str] = Field(description="required materials the case does not have yet")


class AttachmentUpload(BaseModel):
    """multipart/form-data"""

    file: bytes = Field(json_schema_extra={"format": "binary"})
    material: str | None = Field(
        default=None,
        max_length=60,
        description="one of the task's materials (GET …/materials); empty for 其他材料",
    )


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": AttachmentUpload.model_json_schema()}},
    }
}


@router.get("/tasks/{task_id}/materials", response_model=MaterialsOut)
def task_materials(task_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.attachments.materials_for_task(actor, task_id)


@router.post(
    "/tasks/{task_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    openapi_extra=UPLOAD_BODY,
    responses={422: {"description": "no file, too large, a type not allowed, unknown material"}},
)
async def upload(task_id: str, request: Request, actor: ActorDep, lf: LandflowDep) -> Any:
    await run_in_threadpool(lf.attachments.check_may_upload, actor, task_id)
    material, file_name, data, _ = await read_upload(request, lf.attachments)
    return await run_in_threadpool(lf.attachments.upload, actor, task_id, material, file_name, data)


@router.get("/instances/{instance_id}/attachments", response_model=AttachmentList)
def case_attachments(instance_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return {"items": lf.attachments.list_for_case(actor, instance_id)}


@router.get("/attachments/{attachment_id}", response_model=AttachmentOut)
def attachment(attachment_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.attachments.get(actor, attachment_id)


@router.get(
    "/attachments/{attachment_id}/content",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
)
def content(attachment_id: str, actor: ActorDep, lf: LandflowDep, inline: bool = False) -> Response:
    return attachment_response(lf.attachments.download(actor, attachment_id), inline)


@router.delete("/attachments/{attachment_id}", response_model=AttachmentOut)
def delete(attachment_id: str, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.attachments.delete(actor, attachment_id)
