"""The FastAPI application: REST API under /api/v1, pages under /, OpenAPI at /openapi.json
(shown to administrators at /docs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from engine import scheduler
from engine.services.container import Landflow
from engine.settings import Settings
from engine.web import pages
from engine.web.security_headers import SecurityHeaders

from . import errors
from .contract import ContractApp
from .routes import (
    admin_console,
    attachments,
    audit,
    auth,
    case_diagram,
    definitions,
    dispatch,
    incidents,
    instances,
    messages,
    migrations,
    modeler,
    modeler_forms,
    notification_admin,
    notification_templates,
    notifications,
    organisation,
    reports,
    sla,
    spot_checks,
    supervision,
    system,
    tasks,
    time_limits,
)
from .text_guard import TextGuard

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"


def create_app(
    landflow: Landflow | None = None,
    settings: Settings | None = None,
    start_scheduler: bool | None = None,
) -> FastAPI:
    lf = landflow or Landflow.build(settings or Settings())
    run_jobs = lf.settings.scheduler_enabled if start_scheduler is None else start_scheduler

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lf.start_up()
        jobs = background(lf) if run_jobs else None
        try:
            yield
        finally:
            if jobs is not None:
                jobs.shutdown(wait=True)

    app = ContractApp(
        title="Landflow",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # /docs is served by engine/web/api_docs_pages.py (admins, local assets)
        redoc_url=None,
        description="农村土地审批协同平台接口：流程定义、办件、待办、时限、组织机构与材料。",
    )
    app.state.landflow = lf
    app.add_middleware(TextGuard)
    app.add_middleware(SecurityHeaders)  # outermost: refusals get the headers too
    errors.install(app)
    for module in (
        dispatch,
        system,
        auth,
        audit,
        attachments,
        case_diagram,
        definitions,
        instances,
        tasks,
        messages,
        organisation,
        sla,
        time_limits,
        incidents,
        notifications,
        notification_admin,
        notification_templates,
        spot_checks,
        supervision,
        admin_console,
        modeler,
        modeler_forms,
        migrations,
        reports,
    ):
        app.include_router(module.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def background(lf: Landflow):
    return scheduler.background(lf.runners(), lf.settings.scheduler_interval_seconds)
