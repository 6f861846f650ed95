from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.datastructures import UploadFile

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.definitions import Deployed, VersionList

router = APIRouter(prefix="/api/v1/definitions", tags=["definitions"])


@router.get("", response_model=VersionList)
def list_definitions(
    actor: ActorDep,
    lf: LandflowDep,
    process_id: Annotated[str | None, Query(max_length=120)] = None,
) -> dict[str, Any]:
    items = lf.definitions.list_versions(process_id)
    return {"items": items, "total": len(items)}


@router.post("", status_code=201, response_model=Deployed)
async def deploy(request: Request, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    form = await request.form(max_files=50, max_fields=10)
    uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    files = {}
    for upload in uploads:
        content = await upload.read(lf.settings.max_upload_bytes + 1)
        files[upload.filename or "unnamed"] = content
    return lf.definitions.deploy(files, actor).as_dict()


@router.get("/files/{file_name}", response_class=PlainTextResponse)
def definition_file(file_name: str, actor: ActorDep, lf: LandflowDep) -> str:
    return lf.definitions.file_content(file_name)
