"""The daily digest: one e-mail with a day's items for a user who chose it instead of single
mails. The emitter marks such items and arms a "digest" job at the user's digest time; the job
(run by the ordinary job runner, in its transaction) turns them into one delivery."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import Job, Notification, User

from .catalogue import BY_CODE, DIGEST, EMAIL
from .deliveries import Renderer
from .outbox import AWAITING_DIGEST, add_delivery

DIGESTED = "digested"


class DigestCollector:
    def __init__(self, templates: Renderer, zone: ZoneInfo) -> None:
        self.templates = templates
        self.zone = zone

    def __call__(self, session: Session, job: Job) -> None:
        username = job.payload.get("user", "")
        now = job.due_at
        user = session.scalar(select(User).where(User.username == username))
        items = session.scalars(
            select(Notification)
            .where(Notification.recipient == username, Notification.status == AWAITING_DIGEST)
            .order_by(Notification.created_at, Notification.id)
        ).all()
        if user is None or not items:
            return
        if not user.email:
            for item in items:
                item.status = DIGESTED
            return
        day = now.astimezone(self.zone).date().isoformat()
        payload = {
            "day": day,
            "recipient_name": user.display_name,
            "items": [self._item(session, item, user.display_name) for item in items],
        }
        delivery = add_delivery(
            session,
            f"digest:{username}:{_stamp(now)}",
            DIGEST,
            EMAIL,
            username,
            payload,
            now,
            now,
            address=user.email,
        )
        for item in items:
            item.status = DIGESTED
            item.digest_id = delivery.id if delivery is not None else None

    def _item(self, session: Session, item: Notification, name: str) -> dict[str, str]:
        rendered = self.templates.render(session, item.template, "inapp", item.payload or {}, name)
        event = BY_CODE.get(item.template)
        return {
            "event_name": event.name if event else "",
            "title": rendered.title,
            "text": rendered.text,
            "link": rendered.link or "",
            "at": item.created_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M"),
        }


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M")
