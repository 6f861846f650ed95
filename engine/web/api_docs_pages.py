"""The API documentation (Swagger UI) for administrators, served with the project's own copy of
Swagger UI (static/vendor, built by `make install`) so it works without internet access.
Anyone else is told the page does not exist."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .rendering import ActorDep, page_error, render
from .session import CSRF_HEADER

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def api_docs(request: Request, actor: ActorDep) -> HTMLResponse:
    if not actor.is_admin:
        return page_error(request, 404, "页面不存在")
    return render(
        request,
        "api_docs.html",
        actor,
        openapi_url=request.app.openapi_url,
        csrf_header=CSRF_HEADER,
    )
