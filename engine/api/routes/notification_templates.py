"""Notification templates for administrators: the catalogue, one template with its versions,
save (checked against the event's sample first), reset to the default, preview a draft."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.errors import Responses

router = APIRouter(prefix="/api/v1/admin/notification-templates", tags=["notification templates"])

EventPath = Path(max_length=80, description="event code (catalogue), or digest")
ChannelPath = Path(max_length=20, description="template channel: inapp | email | im | sms")
_REFUSED: Responses = {
    403: {"description": "administrators only"},
    404: {"description": "no such event or template channel"},
}
_INVALID: Responses = {
    422: {"description": "the draft fails its check; `errors` and `problems` give the lines"}
}


class ChannelTemplate(BaseModel):
    channel: str = Field(description="inapp | email | im | sms")
    channel_name: str
    file: str = Field(description="the default's file under notifications/")
    edited: bool = Field(description="an administrator's version is in use")
    version: int | None = Field(description="newest saved version (also a reset), if any")
    updated_by: str | None
    updated_at: str | None


class EventTemplates(BaseModel):
    event: str
    event_name: str
    audience: str
    channels: list[ChannelTemplate]


class TemplateCatalogue(BaseModel):
    items: list[EventTemplates]


class TemplateVersion(BaseModel):
    version: int
    reset: bool = Field(description="this version went back to the folder's default")
    created_by: str
    created_by_name: str
    created_at: str


class TemplateVariable(BaseModel):
    name: str
    sample: Any
    note: str


class TemplateDetail(BaseModel):
    event: str
    event_name: str
    channel: str
    channel_name: str
    file: str
    source: str = Field(description="the source in use")
    default_source: str = Field(description="the folder's default")
    edited: bool
    version: int | None
    versions: list[TemplateVersion]
    blocks: list[str] = Field(description="blocks the template must define")
    variables: list[TemplateVariable]


class SourceIn(BaseModel):
    source: str = Field(max_length=20_000, description="Jinja2 source of the template")


class RenderedOut(BaseModel):
    title: str
    text: str
    html: str | None
    markdown: str | None
    link: str | None


@router.get("", response_model=TemplateCatalogue, responses={403: _REFUSED[403]})
def list_templates(actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.templates.catalogue(actor)


@router.get("/{event}/{channel}", response_model=TemplateDetail, responses=_REFUSED)
def get_template(
    actor: ActorDep, lf: LandflowDep, event: str = EventPath, channel: str = ChannelPath
) -> dict[str, Any]:
    return lf.templates.get(actor, event, channel)


@router.put("/{event}/{channel}", response_model=TemplateDetail, responses={**_REFUSED, **_INVALID})
def save_template(
    body: SourceIn,
    actor: ActorDep,
    lf: LandflowDep,
    event: str = EventPath,
    channel: str = ChannelPath,
) -> dict[str, Any]:
    return lf.templates.save(actor, event, channel, body.source)


@router.post("/{event}/{channel}/reset", response_model=TemplateDetail, responses=_REFUSED)
def reset_template(
    actor: ActorDep, lf: LandflowDep, event: str = EventPath, channel: str = ChannelPath
) -> dict[str, Any]:
    return lf.templates.reset(actor, event, channel)


@router.post(
    "/{event}/{channel}/preview",
    response_model=RenderedOut,
    responses={**_REFUSED, **_INVALID},
)
def preview_template(
    body: SourceIn,
    actor: ActorDep,
    lf: LandflowDep,
    event: str = EventPath,
    channel: str = ChannelPath,
) -> dict[str, Any]:
    return lf.templates.preview(actor, event, channel, body.source)
