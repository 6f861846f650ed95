"""Server-rendered pages (zh-CN). Each concern has its module; this one gathers their routes."""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    admin_console,
    admin_incidents,
    api_docs_pages,
    attachment_pages,
    auth_pages,
    case_list_pages,
    case_pages,
    dispatch_pages,
    inbox_pages,
    modeler_pages,
    notification_admin_pages,
    notification_pages,
    reports_pages,
    spot_check_pages,
    supervision_pages,
    task_pages,
    workspace_pages,
)
from .rendering import LoginRequired, page_error

router = APIRouter(include_in_schema=False)
for _module in (auth_pages, inbox_pages, task_pages, case_pages, admin_incidents):
    router.include_router(_module.router)
router.include_router(case_list_pages.router)
router.include_router(workspace_pages.router)
router.include_router(notification_pages.router)
router.include_router(notification_admin_pages.router)
router.include_router(attachment_pages.router)
router.include_router(api_docs_pages.router)
router.include_router(spot_check_pages.router)
router.include_router(supervision_pages.router)
router.include_router(dispatch_pages.router)
router.include_router(reports_pages.router)
router.include_router(admin_console.router)
router.include_router(modeler_pages.router)

__all__ = ["LoginRequired", "page_error", "router"]
