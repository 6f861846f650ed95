"""The admin console (系统管理): its home with what needs an administrator now, and the routes of
its pages (each in its own module). Every page is for administrators only; anyone else gets
the usual 403 page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.services.admin_console import admin_console

from . import (
    admin_audit,
    admin_calendar,
    admin_definitions,
    admin_jobs,
    admin_org,
    admin_org_import,
    admin_org_users,
    admin_time_limits,
)
from .admin_access import AdminDep
from .rendering import landflow, render

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def home(request: Request, actor: AdminDep) -> HTMLResponse:
    figures = admin_console(landflow(request)).overview.figures(actor)
    return render(request, "admin_home.html", actor, figures=figures)


for _module in (
    admin_definitions,
    admin_org_import,
    admin_org,
    admin_org_users,
    admin_calendar,
    admin_time_limits,
    admin_jobs,
    admin_audit,
):
    router.include_router(_module.router)
