"""The case list and search: the cases a user may see (Access.visible_instances), filtered by
process, region, status and start date, and found by case number, matter, business key,
applicant, parcel code or village name (engine.domain.case_search)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import InstanceStatus
from engine.db.tables import HumanTask, Instance, Region
from engine.db.types import path_prefix
from engine.domain.case_search import query_terms, search_text
from engine.errors import BadRequest

from .access import Access
from .actor import Actor
from .recorder import TaskState
from .task_pages import COUNT_CAP, Cursor, Order, capped_count, read_page
from .uow import UnitOfWork
from .views import instance_view

STATUSES = (
    InstanceStatus.RUNNING,
    InstanceStatus.WAITING,
    InstanceStatus.COMPLETED,
    InstanceStatus.ERROR,
    InstanceStatus.TERMINATED,
)
ACTIVE = "active"  # running or waiting
MAX_PAGE = 200
MAX_OFFSET = 5000
NEWEST_FIRST = "-created"  # the one order of the case list, walked on ix_instances_created


@dataclass(frozen=True)
class CaseFilter:
    text: str = ""
    process_id: str | None = None
    region: str | None = None
    status: str | None = None  # one of STATUSES, or "active"
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 20
    offset: int = 0
    cursor: str | None = None  # next_cursor / prev_cursor of a page of the same list

    def check(self) -> None:
        if self.status and self.status not in (*STATUSES, ACTIVE):
            raise BadRequest(f"status 只能是 {'、'.join((*STATUSES, ACTIVE))} 之一")
        for name in ("created_from", "created_to"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise BadRequest(f"{name} needs a UTC offset")
        if not 1 <= self.limit <= MAX_PAGE or not 0 <= self.offset <= MAX_OFFSET:
            raise BadRequest(f"limit 须在 1 到 {MAX_PAGE} 之间，offset 须在 0 到 {MAX_OFFSET} 之间")
        if self.cursor and self.offset:
            raise BadRequest("cursor 与 offset 只能给出一个")


def refresh_search_text(session: Session, instance: Instance) -> None:
    """Called whenever a case is saved (InstanceService), after its matter is named."""
    codes = [c for c in (instance.region_path or "").strip("/").split("/") if c]
    names = dict(
        session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all()
    )
    instance.search_text = search_text(
        instance.case_no,
        instance.title,
        instance.business_key,
        instance.applicant,
        [names.get(code, "") for code in codes],
        instance.data,
    )


class CaseSearch:
    def __init__(self, uow: UnitOfWork, access: Access) -> None:
        self.uow = uow
        self.access = access

    def list(self, actor: Actor, where: CaseFilter) -> dict[str, Any]:
        where.check()
        with self.uow.read() as session:
            cursor = Cursor.decode(where.cursor, NEWEST_FIRST) if where.cursor else None
            query = self._query(session, actor, where)
            total = capped_count(session, [query], Instance.id)
            order = Order(Instance.created_at, Instance.id, descending=True)
            page = read_page(
                session, [query], order, NEWEST_FIRST, where.limit, cursor, where.offset
            )
            steps = _open_steps(session, [r.id for r in page.rows])
            items = []
            for row in page.rows:
                view = instance_view(row)
                view.pop("data")
                view["open_steps"] = steps.get(row.id, [])
                items.append(view)
            return {
                "items": items,
                "total": min(total, COUNT_CAP),
                "count_capped": total > COUNT_CAP,
                "limit": where.limit,
                "offset": where.offset,
                "next_cursor": page.next_cursor,
                "prev_cursor": page.prev_cursor,
            }

    def _query(self, session: Session, actor: Actor, where: CaseFilter):
        query = self.access.visible_instances(session, actor)
        for term in query_terms(where.text):
            query = query.where(Instance.search_text.contains(term, autoescape=True))
        if where.process_id:
            query = query.where(Instance.process_id == where.process_id)
        if where.status == ACTIVE:
            query = query.where(Instance.status.in_(InstanceStatus.ACTIVE))
        elif where.status:
            query = query.where(Instance.status == where.status)
        if where.region:
            path = session.scalar(select(Region.path).where(Region.code == where.region))
            if path is None:
                raise BadRequest(f"没有区划 {where.region}")
            query = query.where(path_prefix(Instance.region_path, path))
        if where.created_from:
            query = query.where(Instance.created_at >= where.created_from)
        if where.created_to:
            query = query.where(Instance.created_at < where.created_to)
        return query


def _open_steps(session: Session, instance_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The open steps of each case: title, department and due moment."""
    steps: dict[str, list[dict[str, Any]]] = {}
    if not instance_ids:
        return steps
    for task in session.scalars(
        select(HumanTask)
        .where(HumanTask.instance_id.in_(instance_ids), HumanTask.state == TaskState.OPEN)
        .order_by(HumanTask.created_at, HumanTask.id)
    ):
        steps.setdefault(task.instance_id, []).append(
            {
                "id": task.id,
                "title": task.title,
                "department": task.department,
                "due_at": task.due_at.isoformat() if task.due_at else None,
                "sla_state": task.sla_state,
            }
        )
    return steps
