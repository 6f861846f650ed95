"""The signed-in user's own space: who they are (departments and region by name, what their
role lets them use) and their notifications with read marks (the `notifications` outbox)."""

from __future__ import annotations

from datetime import UTC
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import Department, Instance, Notification
from engine.domain.organisation import LEADERSHIP_OFFICE

from .actor import Actor
from .names import NameBook
from .notify.catalogue import BY_CODE, INAPP
from .notify.deliveries import Renderer
from .uow import UnitOfWork

APPLICANT = "applicant"
PAGE = 50


class Workspace:
    def __init__(self, uow: UnitOfWork, clock: Clock, names: NameBook, templates: Renderer) -> None:
        self.uow = uow
        self.clock = clock
        self.names = names
        self.templates = templates

    def header(self, actor: Actor) -> dict[str, Any]:
        """Name, departments and region by name, unread count, and what the role may use."""
        with self.uow.read() as session:
            own = sorted({code for code, _ in actor.roles})
            departments = session.execute(
                select(
                    Department.code, Department.name, Department.dept_type, Department.region_code
                )
                .where(Department.code.in_(own))
                .order_by(Department.code)
            ).all()
            unread = self._unread(session, actor)
        types = {d.dept_type for d in departments}
        applicant = not actor.is_admin and bool(types) and types == {APPLICANT}
        watcher = not actor.is_admin and bool(types) and types == {LEADERSHIP_OFFICE}
        return {
            "display_name": actor.display_name,
            "departments": [d.name for d in departments],
            "region": self.names.region_full(departments[0].region_code) if departments else "",
            "unread": unread,
            "is_applicant": applicant,
            "is_watcher": watcher,
            "can_start": actor.is_admin or bool(types - {LEADERSHIP_OFFICE, APPLICANT}),
            "is_admin": actor.is_admin,
        }

    def notifications(self, actor: Actor, unread_only: bool = False) -> list[dict[str, Any]]:
        """The user's newest notifications, worded by the in-app templates, with their case."""
        with self.uow.read() as session:
            query = (
                select(Notification, Instance.case_no, Instance.title)
                .outerjoin(Instance, Instance.id == Notification.instance_id)
                .where(Notification.recipient == actor.username)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
                .limit(PAGE)
            )
            if unread_only:
                query = query.where(Notification.read_at.is_(None))
            items = []
            for row, case_no, title in session.execute(query):
                payload = row.payload or {}
                words = self.templates.render(
                    session, row.template, INAPP, payload, actor.display_name
                )
                event = BY_CODE.get(row.template)
                items.append(
                    {
                        "id": row.id,
                        "event": row.template,
                        "event_name": event.name if event else "提醒",
                        "title": words.title,
                        "text": words.text,
                        "link": _relative(words.link),
                        "instance_id": row.instance_id,
                        "task_id": row.task_id,
                        "case_no": case_no,
                        "case_title": title,
                        "created_at": row.created_at.astimezone(UTC).isoformat(),
                        "read": row.read_at is not None,
                    }
                )
            return items

    def unread(self, actor: Actor) -> int:
        with self.uow.read() as session:
            return self._unread(session, actor)

    def mark_read(self, actor: Actor, ids: list[int] | None = None) -> int:
        """Mark the given notifications (or all unread ones) of the user as read."""
        with self.uow.write() as session:
            query = update(Notification).where(
                Notification.recipient == actor.username, Notification.read_at.is_(None)
            )
            if ids is not None:
                query = query.where(Notification.id.in_(ids))
            result = session.execute(query.values(read_at=self.clock.now()))
            return cast(CursorResult[Any], result).rowcount  # an UPDATE's result is a cursor's

    @staticmethod
    def _unread(session: Session, actor: Actor) -> int:
        return session.scalars(
            select(func.count())
            .select_from(Notification)
            .where(Notification.recipient == actor.username, Notification.read_at.is_(None))
        ).one()


def _relative(link: str | None) -> str | None:
    """Pages link within the site even when messages carry the public URL."""
    if not link:
        return None
    parts = urlsplit(link)
    return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
