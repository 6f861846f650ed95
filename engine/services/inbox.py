"""Inbox queries: my tasks, my departments' queue, what I watch, done work, the unroutable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from engine.db.tables import Comment, HumanTask, Instance, Region
from engine.db.types import path_prefix
from engine.errors import BadRequest, NotFound

from .access import Access
from .actor import Actor
from .forms import FormRegistry
from .recorder import TaskState
from .uow import UnitOfWork
from .views import instance_view, task_view

SCOPES = ("mine", "queue", "watch", "unroutable", "all")
STATES = ("open", "done")
SORTS = ("due", "-due", "created", "-created")
MAX_PAGE = 500


@dataclass(frozen=True)
class TaskFilter:
    scope: str = "all"
    state: str = "open"
    process_id: str | None = None
    region: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    due_before: datetime | None = None
    sort: str = "due"
    limit: int = 50
    offset: int = 0

    def check(self) -> None:
        for name, value, allowed in (
            ("scope", self.scope, SCOPES),
            ("state", self.state, STATES),
            ("sort", self.sort, SORTS),
        ):
            if value not in allowed:
                raise BadRequest(f"{name} must be one of {', '.join(allowed)}")
        for name in ("created_from", "created_to", "due_before"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise BadRequest(f"{name} needs a UTC offset, e.g. 2026-10-16T09:00:00+08:00")
        if not 1 <= self.limit <= MAX_PAGE or self.offset < 0:
            raise BadRequest(f"limit must be 1..{MAX_PAGE} and offset ≥ 0")


class InboxService:
    def __init__(self, uow: UnitOfWork, forms: FormRegistry, access: Access) -> None:
        self.uow = uow
        self.forms = forms
        self.access = access

    def list(self, actor: Actor, where: TaskFilter) -> dict[str, Any]:
        where.check()
        with self.uow.read() as session:
            query = self._query(session, actor, where)
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(
                query.order_by(*_order(where.sort), HumanTask.id)
                .limit(where.limit)
                .offset(where.offset)
            ).all()
            cases = {
                row.id: row
                for row in session.execute(
                    select(Instance.id, Instance.case_no, Instance.title).where(
                        Instance.id.in_({r.instance_id for r in rows})
                    )
                )
            }
            items = []
            for row in rows:
                view = task_view(row)
                case = cases.get(row.instance_id)
                view["case_no"] = case.case_no if case else ""
                view["case_title"] = case.title if case else ""
                items.append(view)
            return {
                "items": items,
                "total": total,
                "limit": where.limit,
                "offset": where.offset,
            }

    def counts(self, actor: Actor) -> dict[str, int]:
        with self.uow.read() as session:
            return {
                scope: session.scalar(
                    select(func.count()).select_from(
                        self._query(session, actor, TaskFilter(scope=scope)).subquery()
                    )
                )
                for scope in SCOPES
            }

    def get(self, actor: Actor, task_id: str) -> dict[str, Any]:
        with self.uow.read() as session:
            task = self.access.visible_task(session, actor, task_id)
            view = task_view(task)
            view["form"], view["form_problem"] = None, None
            if task.form_key:
                try:
                    view["form"] = self.forms.schema(task.form_key)
                except NotFound as missing:
                    view["form_problem"] = missing.message
            view["can_act"] = self.access.can_act_on_task(session, actor, task)
            view["instance"] = instance_view(session.get(Instance, task.instance_id))
            view["case_no"], view["case_title"] = (
                view["instance"]["case_no"],
                view["instance"]["title"],
            )
            view["comments"] = [
                {"author": c.author, "at": c.at.isoformat(), "text": c.text}
                for c in session.scalars(
                    select(Comment).where(Comment.task_id == task.id).order_by(Comment.id)
                )
            ]
            return view

    def _query(self, session: Session, actor: Actor, where: TaskFilter) -> Select:
        query = self.access.visible_tasks(session, actor)
        if where.state == "open":
            query = query.where(HumanTask.state == TaskState.OPEN)
        else:
            query = query.where(
                HumanTask.state.in_([TaskState.DONE, TaskState.RETURNED, TaskState.CANCELLED])
            )
        if where.scope == "mine":
            query = query.where(HumanTask.assignee.in_(list(actor.principals())))
        elif where.scope == "queue":
            query = query.where(
                HumanTask.assignee.is_(None), self.access.own_departments_clause(actor)
            )
        elif where.scope == "watch":
            query = query.where(self.access.watch_clause(actor))
        elif where.scope == "unroutable":
            query = query.where(HumanTask.department.is_(None))
        if where.process_id:
            query = query.where(HumanTask.process_id == where.process_id)
        if where.region:
            path = session.scalar(select(Region.path).where(Region.code == where.region))
            if path is None:
                raise BadRequest(f"no region '{where.region}'")
            query = query.where(path_prefix(HumanTask.region_path, path))
        if where.created_from:
            query = query.where(HumanTask.created_at >= where.created_from)
        if where.created_to:
            query = query.where(HumanTask.created_at < where.created_to)
        if where.due_before:
            query = query.where(
                and_(HumanTask.due_at.is_not(None), HumanTask.due_at < where.due_before)
            )
        return query


def _order(sort: str):
    if sort == "due":
        return (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
    if sort == "-due":
        return (HumanTask.due_at.is_(None), HumanTask.due_at.desc(), HumanTask.created_at)
    if sort == "created":
        return (HumanTask.created_at,)
    return (HumanTask.created_at.desc(),)
