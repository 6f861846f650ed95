"""Inbox queries: my tasks, my departments' queue, what I watch, what is under supervision
(督办), done work, the unroutable; each row with its case, light and working days left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import Comment, HumanTask, Instance, Region, SupervisionOrder
from engine.db.types import path_prefix
from engine.domain.sla import local_day
from engine.domain.time_left import (
    LIGHTS,
    PROVISIONAL,
    light,
    states_of,
    working_days_left,
)
from engine.errors import BadRequest, NotFound

from .access import Access
from .actor import Actor
from .calendar import CalendarService
from .forms import FormRegistry
from .recorder import TaskState
from .uow import UnitOfWork
from .views import instance_view, task_view

# own: tasks of my departments, or assigned to or owned by me (the 已办 tab with state done);
# supervised: tasks with an open supervision order (督办)
COUNT_CAP = 1000  # counts are exact up to this, then shown as 1000+
SCOPES = ("mine", "queue", "watch", "own", "supervised", "unroutable", "all")
STATES = ("open", "done")
SORTS = ("due", "-due", "created", "-created", "-completed")
MAX_PAGE = 500
OPEN_ORDER = "open"


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
    light: str | None = None  # one of LIGHTS

    def check(self) -> None:
        for name, value, allowed in (
            ("scope", self.scope, SCOPES),
            ("state", self.state, STATES),
            ("sort", self.sort, SORTS),
        ):
            if value not in allowed:
                raise BadRequest(f"{name} must be one of {', '.join(allowed)}")
        if self.light is not None and self.light not in LIGHTS:
            raise BadRequest(f"light must be one of {', '.join(LIGHTS)}")
        for name in ("created_from", "created_to", "due_before"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise BadRequest(f"{name} needs a UTC offset, e.g. 2026-10-16T09:00:00+08:00")
        if not 1 <= self.limit <= MAX_PAGE or self.offset < 0:
            raise BadRequest(f"limit must be 1..{MAX_PAGE} and offset ≥ 0")


class InboxService:
    def __init__(
        self,
        uow: UnitOfWork,
        forms: FormRegistry,
        access: Access,
        calendar: CalendarService,
        clock: Clock,
        zone: tzinfo,
    ) -> None:
        self.uow = uow
        self.forms = forms
        self.access = access
        self.calendar = calendar
        self.clock = clock
        self.zone = zone

    def list(self, actor: Actor, where: TaskFilter) -> dict[str, Any]:
        where.check()
        with self.uow.read() as session:
            query = self._query(session, actor, where)
            total = self._count(session, actor, where)
            rows = session.scalars(
                query.order_by(*_order(where.sort), HumanTask.id)
                .limit(where.limit)
                .offset(where.offset)
            ).all()
            items = self._rows(session, actor, rows)
            return {
                "items": items,
                "total": total,
                "limit": where.limit,
                "offset": where.offset,
            }

    def counts(self, actor: Actor) -> dict[str, int]:
        """Open tasks per scope, and `done`: the finished tasks of the 已办 tab (scope own)."""
        with self.uow.read() as session:
            counts = {
                scope: self._count(session, actor, TaskFilter(scope=scope)) for scope in SCOPES
            }
            counts["done"] = self._count(session, actor, TaskFilter(scope="own", state="done"))
            return counts

    def _count(self, session: Session, actor: Actor, where: TaskFilter) -> int:
        """Exact up to COUNT_CAP; COUNT_CAP + 1 means "more than COUNT_CAP" (counting every
        row of a department's 100k tasks would cost more than the page itself)."""
        query = self._query(session, actor, where).limit(COUNT_CAP + 1)
        return session.scalar(select(func.count()).select_from(query.subquery()))

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
        if where.state == "open" and where.scope == "supervised":
            # `|| ''` keeps SQLite from reading all open tasks by the state index when the few
            # supervised task ids are the better way in
            query = query.where(HumanTask.state + "" == TaskState.OPEN)
        elif where.state == "open":
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
        elif where.scope == "own":
            principals = list(actor.principals())
            query = query.where(
                or_(
                    HumanTask.assignee.in_(principals),
                    HumanTask.owner.in_(principals),
                    self.access.own_departments_clause(actor),
                )
            )
        elif where.scope == "supervised":
            # driven by the few open orders (fetched first), not by scanning every open task
            supervised = session.scalars(
                select(SupervisionOrder.task_id)
                .where(SupervisionOrder.status == OPEN_ORDER, SupervisionOrder.task_id.is_not(None))
                .distinct()
            ).all()
            # an empty list would make the planners scan every task: look up an impossible id
            query = query.where(HumanTask.id.in_(supervised or [""]))
        elif where.scope == "unroutable":
            query = query.where(HumanTask.department.is_(None))
        if where.light == PROVISIONAL:
            query = query.where(HumanTask.sla_provisional.is_(True))
        elif where.light:
            query = query.where(HumanTask.sla_state.in_(states_of(where.light)))
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

    def _rows(self, session: Session, actor: Actor, rows: list[HumanTask]) -> list[dict[str, Any]]:
        """Each task with its case (number, matter), its light, working days left or over,
        whether it is under supervision (督办) and whether the user may claim it."""
        cases = {
            row.id: row
            for row in session.execute(
                select(Instance.id, Instance.case_no, Instance.title).where(
                    Instance.id.in_({r.instance_id for r in rows})
                )
            )
        }
        supervised = set(
            session.scalars(
                select(SupervisionOrder.task_id).where(
                    SupervisionOrder.task_id.in_([r.id for r in rows]),
                    SupervisionOrder.status == OPEN_ORDER,
                )
            )
        )
        calendar = self.calendar.current_in(session)
        today = local_day(self.clock.now(), self.zone)
        items = []
        for row in rows:
            view = task_view(row)
            case = cases.get(row.instance_id)
            view["case_no"] = case.case_no if case else ""
            view["case_title"] = case.title if case else ""
            view["light"] = light(row.sla_state) if row.state == TaskState.OPEN else None
            view["sla_provisional"] = bool(row.sla_provisional)
            view["days_left"] = (
                working_days_left(calendar, today, local_day(row.due_at, self.zone))
                if row.due_at is not None and row.state == TaskState.OPEN
                else None
            )
            view["supervised"] = row.id in supervised
            view["can_claim"] = (
                row.state == TaskState.OPEN
                and row.assignee is None
                and (actor.is_admin or row.department in actor.departments)
            )
            items.append(view)
        return items


def _order(sort: str):
    if sort == "due":
        return (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
    if sort == "-due":
        return (HumanTask.due_at.is_(None), HumanTask.due_at.desc(), HumanTask.created_at)
    if sort == "created":
        return (HumanTask.created_at,)
    if sort == "-completed":
        return (HumanTask.completed_at.desc(), HumanTask.created_at.desc())
    return (HumanTask.created_at.desc(),)
