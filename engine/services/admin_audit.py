"""The history log (the engine's append-only `history` table) searched by administrators: by
case number, actor, action and local date, newest first. The tamper-evident audit chain and
its verification are not part of this version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from engine.clock import Clock
from engine.db.tables import HistoryEntry, HumanTask, Instance

from .access import Access
from .actor import Actor
from .sla_views import iso
from .uow import UnitOfWork

PAGE = 50


@dataclass(frozen=True)
class AuditQuery:
    case_no: str = ""  # a case number, or its beginning
    actor: str = ""  # a username (also matches who it was done on behalf of)
    action: str = ""
    since: date | None = None  # local dates, inclusive
    until: date | None = None
    page: int = 1


class AuditLog:
    def __init__(self, uow: UnitOfWork, clock: Clock, access: Access, zone: tzinfo) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.zone = zone

    def search(self, actor: Actor, query: AuditQuery) -> dict[str, Any]:
        self.access.require_admin(actor)
        page = max(query.page, 1)
        where: list[ColumnElement[bool]] = []
        if query.case_no.strip():
            where.append(Instance.case_no.like(f"{_escaped(query.case_no.strip())}%", escape="\\"))
        if query.actor.strip():
            who = query.actor.strip()
            where.append(or_(HistoryEntry.actor == who, HistoryEntry.on_behalf_of == who))
        if query.action:
            where.append(HistoryEntry.action == query.action)
        if query.since:
            where.append(HistoryEntry.at >= self._start_of(query.since))
        if query.until:
            where.append(HistoryEntry.at < self._start_of(query.until + timedelta(days=1)))
        with self.uow.read() as session:
            found = (
                select(HistoryEntry, Instance.case_no, Instance.process_id, HumanTask.title)
                .join(Instance, Instance.id == HistoryEntry.instance_id)
                .outerjoin(HumanTask, HumanTask.id == HistoryEntry.task_id)
                .where(*where)
            )
            total = session.scalar(
                select(func.count())
                .select_from(HistoryEntry)
                .join(Instance, Instance.id == HistoryEntry.instance_id)
                .where(*where)
            )
            rows = session.execute(
                found.order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
                .limit(PAGE)
                .offset((page - 1) * PAGE)
            ).all()
            return {
                "items": [
                    {
                        "id": entry.id,
                        "at": iso(entry.at),
                        "instance_id": entry.instance_id,
                        "case_no": case_no,
                        "process_id": process_id,
                        "task_id": entry.task_id,
                        "task_title": title,
                        "actor": entry.actor,
                        "on_behalf_of": entry.on_behalf_of,
                        "action": entry.action,
                        "details": entry.details,
                    }
                    for entry, case_no, process_id, title in rows
                ],
                "total": total,
                "page": page,
                "per_page": PAGE,
            }

    def _start_of(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.zone)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
