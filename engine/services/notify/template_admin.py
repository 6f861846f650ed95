"""Administrators' commands on notification templates: the catalogue, one template with its
versions, save (checked first), reset to the folder's default, preview of a draft. Mixed into
`TemplateStore`, whose checks and rendering they use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Template
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db.notify_tables import NotificationTemplate
from engine.db.tables import User
from engine.errors import Conflict, NotFound

from ..actor import Actor
from ..sla_views import iso
from .catalogue import DIGEST, EVENTS, TEMPLATE_CHANNELS
from .template_env import compile_source
from .template_keys import (
    DIGEST_NAME,
    REQUIRED_BLOCKS,
    SAMPLE_RECIPIENT,
    TEMPLATE_CHANNEL_NAMES,
    event_name,
    file_of,
    is_template_key,
    sample_payload,
    variables,
)
from .template_types import Rendered, TemplateInvalid, TemplateProblem

if TYPE_CHECKING:
    from engine.clock import Clock

    from ..access import Access
    from ..uow import UnitOfWork
    from .template_env import Environments


class TemplateAdmin:
    if TYPE_CHECKING:  # provided by TemplateStore, which this is mixed into
        folder: Path
        uow: UnitOfWork
        clock: Clock
        access: Access
        envs: Environments

        def context(
            self, event: str, payload: dict[str, Any], recipient_name: str
        ) -> dict[str, Any]: ...

        def _compose(
            self, load: Callable[[bool], Template], channel: str, context: dict[str, Any]
        ) -> Rendered: ...

        def draft_problems(
            self, event: str, channel: str, source: str
        ) -> list[TemplateProblem]: ...

        def newest_versions(
            self, session: Session
        ) -> dict[tuple[str, str], NotificationTemplate]: ...

    def catalogue(self, actor: Actor) -> dict[str, Any]:
        """Every event with its template channels: edited or the default, and the version."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            newest = self.newest_versions(session)

        def channel(event: str, code: str) -> dict[str, Any]:
            row = newest.get((event, code))
            return {
                "channel": code,
                "channel_name": TEMPLATE_CHANNEL_NAMES[code],
                "file": file_of(event, code),
                "edited": row is not None and row.source is not None,
                "version": row.version if row is not None else None,
                "updated_by": row.created_by if row is not None else None,
                "updated_at": iso(row.created_at) if row is not None else None,
            }

        items = [
            {
                "event": e.code,
                "event_name": e.name,
                "audience": e.audience,
                "channels": [channel(e.code, c) for c in TEMPLATE_CHANNELS],
            }
            for e in EVENTS
        ]
        digest = {"event": DIGEST, "event_name": DIGEST_NAME, "audience": "选择每日汇总的用户"}
        items.append({**digest, "channels": [channel(DIGEST, "email")]})
        return {"items": items}

    def get(self, actor: Actor, event: str, channel: str) -> dict[str, Any]:
        """The source in use, the folder's default and every saved version."""
        self.access.require_admin(actor)
        _known(event, channel)
        with self.uow.read() as session:
            return self._detail(session, event, channel)

    def save(self, actor: Actor, event: str, channel: str, source: str) -> dict[str, Any]:
        """Check the draft against the event's sample, then store it as the newest version."""
        self.access.require_admin(actor)
        _known(event, channel)
        problems = self.draft_problems(event, channel, source)
        if problems:
            raise TemplateInvalid(problems)
        with self.uow.write() as session:
            self._add_version(session, actor, event, channel, source)
            return self._detail(session, event, channel)

    def reset(self, actor: Actor, event: str, channel: str) -> dict[str, Any]:
        """Back to the folder's default (a version without source; nothing when not edited)."""
        self.access.require_admin(actor)
        _known(event, channel)
        with self.uow.write() as session:
            newest = self.newest_versions(session).get((event, channel))
            if newest is not None and newest.source is not None:
                self._add_version(session, actor, event, channel, None)
            return self._detail(session, event, channel)

    def preview(self, actor: Actor, event: str, channel: str, source: str) -> dict[str, Any]:
        """The draft rendered with the event's sample, as each channel would send it."""
        self.access.require_admin(actor)
        _known(event, channel)
        problems = self.draft_problems(event, channel, source)
        if problems:
            raise TemplateInvalid(problems)
        file = file_of(event, channel)

        def load(html: bool) -> Template:
            return compile_source(self.envs.pick(html, strict=True), source, file)

        context = self.context(event, sample_payload(event), SAMPLE_RECIPIENT)
        return self._compose(load, channel, context).as_dict()

    # ---- internals -----------------------------------------------------------------------
    def _add_version(
        self,
        session: Session,
        actor: Actor,
        event: str,
        channel: str,
        source: str | None,
    ) -> None:
        newest = session.scalar(
            select(func.max(NotificationTemplate.version)).where(
                NotificationTemplate.event == event, NotificationTemplate.channel == channel
            )
        )
        session.add(
            NotificationTemplate(
                event=event,
                channel=channel,
                version=(newest or 0) + 1,
                source=source,
                created_by=actor.username,
                created_at=self.clock.now(),
            )
        )
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict("该模板刚刚已被他人修改，请刷新后重试") from exc

    def _detail(self, session: Session, event: str, channel: str) -> dict[str, Any]:
        rows = session.execute(
            select(NotificationTemplate, User.display_name)
            .outerjoin(User, User.username == NotificationTemplate.created_by)
            .where(NotificationTemplate.event == event, NotificationTemplate.channel == channel)
            .order_by(NotificationTemplate.version.desc())
        ).all()
        default = _read(self.folder / file_of(event, channel))
        newest = rows[0][0] if rows else None
        saved = newest.source if newest is not None else None
        edited = saved is not None
        return {
            "event": event,
            "event_name": event_name(event),
            "channel": channel,
            "channel_name": TEMPLATE_CHANNEL_NAMES[channel],
            "file": file_of(event, channel),
            "source": saved if saved is not None else default,
            "default_source": default,
            "edited": edited,
            "version": newest.version if newest is not None else None,
            "versions": [
                {
                    "version": row.version,
                    "reset": row.source is None,
                    "created_by": row.created_by,
                    "created_by_name": name or row.created_by,
                    "created_at": iso(row.created_at),
                }
                for row, name in rows
            ],
            "blocks": list(REQUIRED_BLOCKS[channel]),
            "variables": variables(event),
        }


def _known(event: str, channel: str) -> None:
    if not is_template_key(event, channel):
        raise NotFound(f"没有通知模板 {event}/{channel}")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""
