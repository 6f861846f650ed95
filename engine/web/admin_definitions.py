"""流程定义: the deployed processes with their versions and the cases on each, a version's
diagram, and the upload of .bpmn/.dmn files with the problems shown where they are."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from engine.errors import BadRequest, DefinitionInvalid
from engine.services.admin_console import admin_console
from engine.services.admin_definitions import CASE_GROUPS

from .admin_access import AdminDep
from .rendering import check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
SOURCE_LABELS = {"startup": "启动时部署", "api": "接口部署", "console": "管理页面上传"}
MAX_FILES = 20


@router.get("/admin/definitions")
def definitions_page(
    request: Request, actor: AdminDep, created: str = "", unchanged: int = 0
) -> HTMLResponse:
    deployed = [tuple(item.rsplit(":", 1)) for item in created.split(",") if ":" in item]
    return _page(request, actor, deployed=deployed, unchanged=unchanged, submitted=bool(created))


@router.post("/admin/definitions/deploy")
async def deploy(request: Request, actor: AdminDep) -> Response:
    lf = landflow(request)
    lf.access.require_admin(actor)
    form = await request.form(max_files=MAX_FILES, max_fields=5)
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    files: dict[str, bytes] = {}
    for _, value in form.multi_items():
        if isinstance(value, UploadFile) and value.filename:
            files[value.filename] = await value.read(lf.settings.max_upload_bytes + 1)
    try:
        outcome = admin_console(lf).definitions.deploy(actor, files)
    except DefinitionInvalid as exc:
        return _page(request, actor, status=422, problems=_located(exc, files))
    except BadRequest:
        return _page(request, actor, status=400, message="请选择要部署的 .bpmn 或 .dmn 文件")
    created = ",".join(f"{v['process_id']}:{v['version']}" for v in outcome["created"])
    target = (
        f"/admin/definitions?created={created or 'none:0'}&unchanged={len(outcome['unchanged'])}"
    )
    return RedirectResponse(target, status_code=303)


@router.get("/admin/definitions/{process_id}/versions/{version}")
def version_page(request: Request, process_id: str, version: int, actor: AdminDep) -> HTMLResponse:
    diagram = admin_console(landflow(request)).definitions.version_diagram(
        actor, process_id, version
    )
    return render(request, "admin_definition_version.html", actor, diagram=diagram)


def _page(request: Request, actor: Any, status: int = 200, **context: Any) -> HTMLResponse:
    processes = admin_console(landflow(request)).definitions.processes(actor)
    context.setdefault("deployed", [])
    context.setdefault("problems", [])
    return render(
        request,
        "admin_definitions.html",
        actor,
        status=status,
        processes=processes,
        names_now={p["process_id"]: p["name"] for p in processes},
        source_labels=SOURCE_LABELS,
        case_groups=sorted(set(CASE_GROUPS.values())),
        **context,
    )


def _located(exc: DefinitionInvalid, files: dict[str, bytes]) -> list[dict[str, Any]]:
    """Each problem with the lines of the uploaded file around it."""
    located = []
    for problem in exc.problems:
        excerpt: list[tuple[int, str]] = []
        content = files.get(problem.file)
        if content is not None and problem.line:
            lines = content.decode("utf-8", errors="replace").splitlines()
            first = max(problem.line - 2, 0)
            excerpt = [
                (n + 1, lines[n][:300]) for n in range(first, min(problem.line + 1, len(lines)))
            ]
        located.append({**problem.as_dict(), "excerpt": excerpt})
    return located
