"""Administrators' pages for notification delivery: the delivery log (filters, counts by state,
one delivery with its attempts, replay) and the departments' robots and webhooks. The admin
console reuses them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import ValidationFailed
from engine.services.notify.catalogue import CHANNEL_NAMES, EVENTS, GROUP_CHANNELS
from engine.services.notify.delivery_log import STATUSES, LogFilter
from engine.services.notify.endpoints import EndpointChange, default_group_events

from .rendering import ActorDep, check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
DELIVERY_CHANNELS = ("email", "sms", *GROUP_CHANNELS)


@router.get("/admin/deliveries")
def delivery_log(
    request: Request,
    actor: ActorDep,
    status: str = "",
    channel: str = "",
    event: str = "",
    recipient: str = "",
    day: str = "",
    page: int = 1,
) -> HTMLResponse:
    lf = landflow(request)
    since = until = None
    if day:
        try:
            since = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(lf.settings.timezone))
            until = since + timedelta(days=1)
        except ValueError:
            day = ""
    where = LogFilter(
        status=status if status in STATUSES else None,
        channel=channel if channel in DELIVERY_CHANNELS else None,
        event=event or None,
        recipient=recipient.strip()[:120] or None,
        since=since,
        until=until,
        page=max(page, 1),
    )
    log = lf.delivery_log.list(actor, where)
    return render(
        request,
        "admin_deliveries.html",
        actor,
        log=log,
        where=where,
        day=day,
        statuses=STATUSES,
        channels={c: CHANNEL_NAMES[c] for c in DELIVERY_CHANNELS},
        events=EVENTS,
        recipients=_recipient_names(lf, log["items"]),
    )


@router.get("/admin/deliveries/{delivery_id}")
def delivery_page(request: Request, delivery_id: int, actor: ActorDep) -> HTMLResponse:
    lf = landflow(request)
    delivery = lf.delivery_log.get(actor, delivery_id)
    return render(
        request,
        "admin_delivery.html",
        actor,
        d=delivery,
        recipients=_recipient_names(lf, [delivery]),
    )


@router.post("/admin/deliveries/replay")
async def replay(request: Request, actor: ActorDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()]
    if ids:
        landflow(request).delivery_log.replay(actor, ids)
    back = str(form.get("back", ""))
    target = back if back.startswith("/admin/deliveries") else "/admin/deliveries"
    return RedirectResponse(target, status_code=303)


@router.get("/admin/notification-endpoints")
def endpoints_page(request: Request, actor: ActorDep, edit: int = 0) -> HTMLResponse:
    return _endpoints(request, actor, edit=edit)


@router.post("/admin/notification-endpoints")
async def save_endpoint(request: Request, actor: ActorDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    lf = landflow(request)
    endpoint_id = str(form.get("id", ""))
    if form.get("delete") and endpoint_id.isdigit():
        lf.endpoints.delete(actor, int(endpoint_id))
        return RedirectResponse("/admin/notification-endpoints", status_code=303)
    secret = str(form.get("secret", ""))
    change = EndpointChange(
        department=str(form.get("department", "")),
        kind=str(form.get("kind", "")),
        name=str(form.get("name", "")),
        url=str(form.get("url", "")),
        secret=None if (endpoint_id and not secret and not form.get("clear_secret")) else secret,
        events=[str(e) for e in form.getlist("events")] or None,
        enabled=form.get("enabled") == "on",
    )
    try:
        if endpoint_id.isdigit():
            lf.endpoints.update(actor, int(endpoint_id), change)
        else:
            lf.endpoints.create(actor, change)
    except ValidationFailed as exc:
        return _endpoints(
            request,
            actor,
            edit=int(endpoint_id) if endpoint_id.isdigit() else 0,
            draft=change,
            errors={e.field: e.message for e in exc.errors},
            status=422,
        )
    return RedirectResponse("/admin/notification-endpoints", status_code=303)


def _endpoints(
    request: Request,
    actor,
    edit: int = 0,
    draft: EndpointChange | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    lf = landflow(request)
    endpoints = lf.endpoints.list(actor)
    editing = next((e for e in endpoints if e["id"] == edit), None)
    form: dict[str, Any] = (
        {**draft.__dict__, "events": draft.events or default_group_events()}
        if draft
        else editing or {"events": default_group_events(), "enabled": True}
    )
    return render(
        request,
        "admin_endpoints.html",
        actor,
        status=status,
        endpoints=endpoints,
        editing=editing,
        form=form,
        errors=errors or {},
        departments=[
            (d["code"], d["name"]) for d in lf.organisation.departments(actor) if d["is_active"]
        ],
        kinds={k: CHANNEL_NAMES[k] for k in GROUP_CHANNELS},
        group_events=list(EVENTS),
    )


def _recipient_names(lf, rows: list[dict[str, Any]]) -> dict[str, str]:
    names = {}
    for row in rows:
        recipient = row["recipient"]
        if recipient.startswith("dept:"):
            names[recipient] = lf.names.department(recipient[5:])
        else:
            names[recipient] = lf.names.user(recipient)
    return names
