"""Department robots and webhook receivers (per department, hence per region), managed by
administrators. A secret is write-only: it is never handed back, only whether one is set."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.clock import Clock
from engine.db.notify_tables import ChannelEndpoint
from engine.db.tables import Department
from engine.errors import FieldError, NotFound, ValidationFailed

from ..access import Access
from ..actor import Actor
from ..uow import UnitOfWork
from .catalogue import BY_CODE, CHANNEL_NAMES, EVENTS, GROUP_CHANNELS

TOKEN = re.compile(r"([?&](?:access_token|key)=)([^&#]*)")


@dataclass(frozen=True)
class EndpointChange:
    department: str
    kind: str
    name: str
    url: str
    secret: str | None = None  # None: leave as it is; "": remove; "env:NAME": from the env
    events: list[str] | None = None
    enabled: bool = True


class EndpointService:
    def __init__(self, uow: UnitOfWork, clock: Clock, access: Access) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access

    def list(self, actor: Actor, department: str | None = None) -> list[dict[str, Any]]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            query = select(ChannelEndpoint, Department.name).outerjoin(
                Department, Department.code == ChannelEndpoint.department
            )
            if department:
                query = query.where(ChannelEndpoint.department == department)
            rows = session.execute(query.order_by(ChannelEndpoint.department, ChannelEndpoint.id))
            return [_out(endpoint, name) for endpoint, name in rows]

    def create(self, actor: Actor, change: EndpointChange) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            name = self._check(session, change)
            now = self.clock.now()
            endpoint = ChannelEndpoint(created_at=now, updated_at=now, secret=None)
            _apply(endpoint, change)
            session.add(endpoint)
            session.flush()
            return _out(endpoint, name)

    def update(self, actor: Actor, endpoint_id: int, change: EndpointChange) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            endpoint = session.get(ChannelEndpoint, endpoint_id)
            if endpoint is None:
                raise NotFound("没有这个接收端")
            name = self._check(session, change)
            _apply(endpoint, change)
            endpoint.updated_at = self.clock.now()
            return _out(endpoint, name)

    def delete(self, actor: Actor, endpoint_id: int) -> None:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            endpoint = session.get(ChannelEndpoint, endpoint_id)
            if endpoint is None:
                raise NotFound("没有这个接收端")
            session.delete(endpoint)

    @staticmethod
    def _check(session, change: EndpointChange) -> str:
        errors = []
        name = session.scalar(select(Department.name).where(Department.code == change.department))
        if name is None:
            errors.append(FieldError("department", "没有这个部门"))
        if change.kind not in GROUP_CHANNELS:
            errors.append(FieldError("kind", "类型应为钉钉/浙政钉、企业微信或 Webhook"))
        if not change.name.strip():
            errors.append(FieldError("name", "请填写名称"))
        if not change.url.startswith(("https://", "http://")):
            errors.append(FieldError("url", "地址应以 https:// 或 http:// 开头"))
        for code in change.events or []:
            if code not in BY_CODE:
                errors.append(FieldError("events", f"没有这类通知：{code}"))
        if errors:
            raise ValidationFailed("接收端设置有误，请修改后再保存", errors)
        return name or ""


def default_group_events() -> list[str]:
    return [event.code for event in EVENTS if event.to_groups]


def masked(url: str) -> str:
    """A robot URL with its credential (DingTalk access_token, WeCom key) hidden."""
    return TOKEN.sub(lambda m: f"{m.group(1)}{m.group(2)[:4]}****", url)


def _apply(endpoint: ChannelEndpoint, change: EndpointChange) -> None:
    endpoint.department, endpoint.kind = change.department, change.kind
    endpoint.name = change.name.strip()
    if not endpoint.url or change.url.strip() != masked(endpoint.url):
        endpoint.url = change.url.strip()  # an unchanged (masked) URL keeps the real one
    endpoint.events, endpoint.enabled = change.events, change.enabled
    if change.secret is not None:
        endpoint.secret = change.secret or None


def _out(endpoint: ChannelEndpoint, department_name: str | None) -> dict[str, Any]:
    events = endpoint.events if endpoint.events is not None else default_group_events()
    return {
        "id": endpoint.id,
        "department": endpoint.department,
        "department_name": department_name or endpoint.department,
        "kind": endpoint.kind,
        "kind_name": CHANNEL_NAMES.get(endpoint.kind, endpoint.kind),
        "name": endpoint.name,
        "url": masked(endpoint.url),
        "secret_set": bool(endpoint.secret),
        "events": events,
        "event_names": [BY_CODE[c].name for c in events if c in BY_CODE],
        "enabled": endpoint.enabled,
    }
