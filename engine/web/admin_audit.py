"""审计日志: the history log searched by case number, actor, action and date, with the actions
in Chinese. The audit chain's verification is a placeholder until it exists."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.services.admin_audit import AuditQuery
from engine.services.admin_console import admin_console

from .admin_access import AdminDep
from .labels import ACTION_LABELS
from .rendering import landflow, render

router = APIRouter(include_in_schema=False)
SHOWN_DETAILS = 160  # characters of an entry's details shown in the list


@router.get("/admin/audit")
def audit_page(
    request: Request,
    actor: AdminDep,
    case_no: str = "",
    user: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    page: int = 1,
) -> HTMLResponse:
    errors: dict[str, str] = {}
    query = AuditQuery(
        case_no=case_no.strip()[:40],
        actor=user.strip()[:80],
        action=action if action in ACTION_LABELS else "",
        since=_day(since, "since", errors),
        until=_day(until, "until", errors),
        page=max(page, 1),
    )
    found = admin_console(landflow(request)).audit.search(actor, query)
    for entry in found["items"]:
        entry["summary"] = _summary(entry["details"])
    return render(
        request,
        "admin_audit.html",
        actor,
        found=found,
        query=query,
        given={"since": since, "until": until, "user": user, "case_no": case_no},
        errors=errors,
        actions=ACTION_LABELS,
    )


def _day(text: str, field: str, errors: dict[str, str]) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = "日期格式应为 2026-11-02"
        return None


def _summary(details: dict[str, Any]) -> str:
    if not details:
        return ""
    text = json.dumps(details, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= SHOWN_DETAILS else text[:SHOWN_DETAILS] + "…"
