"""The signed-in user's notifications (the in-app channel) and notification preferences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.services.notify.preferences import PreferenceChange

router = APIRouter(prefix="/api/v1", tags=["notifications"])


class NotificationOut(BaseModel):
    id: int
    event: str = Field(description="the event's code (docs/notifications.md)")
    event_name: str
    title: str
    text: str
    link: str | None = Field(description="the task or case page the notification is about")
    instance_id: str | None
    task_id: str | None
    case_no: str | None
    case_title: str | None
    created_at: str
    read: bool


class NotificationList(BaseModel):
    items: list[NotificationOut]
    unread: int


class MarkRead(BaseModel):
    ids: list[int] | None = Field(
        default=None, max_length=500, description="these notifications; omitted: all unread"
    )


class MarkedRead(BaseModel):
    marked: int


class EventChoice(BaseModel):
    code: str
    name: str
    audience: str
    channels: dict[str, bool] = Field(description="channel code → on (inapp is always on)")


class ChannelName(BaseModel):
    code: str
    name: str


class Preferences(BaseModel):
    channels: list[ChannelName]
    events: list[EventChoice]
    email: str | None
    phone: str | None
    quiet_start: str | None = Field(description="local time HH:MM, or null")
    quiet_end: str | None
    digest: bool = Field(description="e-mails come as one daily digest instead of one by one")
    digest_time: str


class PreferencesIn(BaseModel):
    channels: dict[str, dict[str, bool]] = Field(
        default_factory=dict, description="event code → channel code → on"
    )
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30)
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    digest: bool = False
    digest_time: str = Field(default="08:30", max_length=5)


@router.get("/notifications", response_model=NotificationList)
def list_notifications(
    actor: ActorDep, lf: LandflowDep, unread: bool = Query(False)
) -> dict[str, Any]:
    return {
        "items": lf.workspace.notifications(actor, unread_only=unread),
        "unread": lf.workspace.unread(actor),
    }


@router.post("/notifications/read", response_model=MarkedRead)
def mark_read(body: MarkRead, actor: ActorDep, lf: LandflowDep) -> dict[str, int]:
    return {"marked": lf.workspace.mark_read(actor, body.ids)}


@router.get("/me/notification-preferences", response_model=Preferences)
def get_preferences(actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.preferences.get(actor)


@router.put(
    "/me/notification-preferences",
    response_model=Preferences,
    responses={422: {"description": "field errors (address, phone, times, unknown events)"}},
)
def put_preferences(body: PreferencesIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.preferences.update(actor, PreferenceChange(**body.model_dump()))
