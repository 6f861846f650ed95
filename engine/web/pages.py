"""Server-rendered pages (zh-CN). Each concern has its module; this one gathers their routes."""

from __future__ import annotations

from fastapi import APIRouter

from . import admin_incidents, auth_pages, case_pages, inbox_pages, task_pages
from .rendering import LoginRequired, page_error

router = APIRouter(include_in_schema=False)
for _module in (auth_pages, inbox_pages, task_pages, case_pages, admin_incidents):
    router.include_router(_module.router)

__all__ = ["LoginRequired", "page_error", "router"]
