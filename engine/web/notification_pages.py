"""The notification centre (the in-app channel: read marks, links to the task or case) and each
user's notification settings (events × channels, mail and mobile, quiet hours, daily digest)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import ValidationFailed
from engine.services.notify.preferences import CHOOSABLE, PreferenceChange

from .rendering import ActorDep, check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)


@router.get("/notifications")
def notifications_page(request: Request, actor: ActorDep, show: str = "all") -> HTMLResponse:
    unread_only = show == "unread"
    items = landflow(request).workspace.notifications(actor, unread_only=unread_only)
    return render(request, "notifications.html", actor, items=items, unread_only=unread_only)


@router.post("/notifications/read")
def mark_read(
    request: Request,
    actor: ActorDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    notification_id: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """One notification (notification_id) or, without it, all unread ones; then back to the
    list, or on to the task or case the notification is about (`next`, a local path)."""
    check_csrf(request, csrf_token)
    ids = None
    if notification_id:
        ids = [int(notification_id)] if notification_id.isdigit() else []
    landflow(request).workspace.mark_read(actor, ids)
    target = next if next.startswith("/") and not next.startswith("//") else "/notifications"
    return RedirectResponse(target, status_code=303)


@router.get("/notifications/settings")
def settings_page(request: Request, actor: ActorDep, saved: str = "") -> HTMLResponse:
    prefs = landflow(request).preferences.get(actor)
    return render(
        request, "notification_settings.html", actor, prefs=prefs, errors={}, saved=bool(saved)
    )


@router.post("/notifications/settings")
async def save_settings(request: Request, actor: ActorDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    lf = landflow(request)
    current = lf.preferences.get(actor)
    change = PreferenceChange(
        channels={
            event["code"]: {c: f"ch.{event['code']}.{c}" in form for c in CHOOSABLE}
            for event in current["events"]
        },
        email=_text(form.get("email")),
        phone=_text(form.get("phone")),
        quiet_start=_text(form.get("quiet_start")),
        quiet_end=_text(form.get("quiet_end")),
        digest=form.get("digest") == "on",
        digest_time=_text(form.get("digest_time")) or "08:30",
    )
    try:
        lf.preferences.update(actor, change)
    except ValidationFailed as exc:
        shown = {
            **current,
            "email": change.email,
            "phone": change.phone,
            "quiet_start": change.quiet_start,
            "quiet_end": change.quiet_end,
            "digest": change.digest,
            "digest_time": change.digest_time,
            "events": [
                {**e, "channels": {"inapp": True, **change.channels[e["code"]]}}
                for e in current["events"]
            ],
        }
        errors = {e.field: e.message for e in exc.errors}
        return render(
            request,
            "notification_settings.html",
            actor,
            status=422,
            prefs=shown,
            errors=errors,
            saved=False,
        )
    return RedirectResponse("/notifications/settings?saved=1", status_code=303)


def _text(value) -> str | None:
    text = str(value or "").strip()
    return text or None
