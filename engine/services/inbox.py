"""Inbox queries: my tasks, my departments' queue, what I watch, what is under supervision
(督办), done work, the unroutable; each row with its case, light and working days left."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Select, and_, func, select, true
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
from .task_pages import COUNT_CAP, Cursor, Order, capped_count, read_page
from .uow import UnitOfWork
from .views import instance_view, task_view

# own: tasks of my departments, or assigned to or owned by me (the 已办 tab with state done);
# supervised: tasks with an open supervision order (督办)
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)  # sort_due of a task without a time limit
SCOPES = ("mine", "queue", "watch", "own", "supervised", "unroutable", "all")
STATES = ("open", "done")
SORTS = ("due", "-due", "created", "-created", "-completed")
MAX_PAGE = 500
MAX_OFFSET = 5000  # deeper pages are reached with cursors, whose cost does not grow
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
    cursor: str | None = None  # next_cursor / prev_cursor of a page in the same sort

    def check(self) -> None:
        for name, value, allowed in (
            ("scope", self.scope, SCOPES),
            ("state", self.state, STATES),
            ("sort", self.sort, SORTS),
        ):
            if value not in allowed:
                raise BadRequest(f"{name} must be one of {', '.join(allowed)}")
        if self.light is not None and self.light not in LIGHTS:
            raise BadRequest(f"light 只能是 {'、'.join(LIGHTS)} 之一")
        for name in ("created_from", "created_to", "due_before"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise BadRequest(f"{name} needs a UTC offset, e.g. 2026-10-16T09:00:00+08:00")
        if not 1 <= self.limit <= MAX_PAGE or not 0 <= self.offset <= MAX_OFFSET:
            raise BadRequest(f"limit 须在 1 到 {MAX_PAGE} 之间，offset 须在 0 到 {MAX_OFFSET} 之间")
        if self.cursor and self.offset:
            raise BadRequest("cursor 与 offset 只能给出一个")


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
        cursor = Cursor.decode(where.cursor, where.sort) if where.cursor else None
        with self.uow.read() as session:
            total = self._count(session, actor, where)
            page = read_page(
                session,
                # a territory with few tasks is read by its path and sorted (≤ COUNT_CAP rows);
                # a larger one is walked in due order
                self._branches(session, actor, where, walk=total > COUNT_CAP),
                _order(where.sort),
                where.sort,
                where.limit,
                cursor,
                where.offset,
                key_of=_key_of(where.sort),
            )
            return {
                "items": self._rows(session, actor, page.rows),
                "total": min(total, COUNT_CAP),
                "count_capped": total > COUNT_CAP,
                "limit": where.limit,
                "offset": where.offset,
                "next_cursor": page.next_cursor,
                "prev_cursor": page.prev_cursor,
            }

    def counts(self, actor: Actor) -> dict[str, int]:
        """Open tasks per scope, and `done`: the finished tasks of the 已办 tab (scope own);
        exact up to COUNT_CAP, COUNT_CAP + 1 meaning more."""
        with self.uow.read() as session:
            counts = {
                scope: self._count(session, actor, TaskFilter(scope=scope)) for scope in SCOPES
            }
            counts["done"] = self._count(session, actor, TaskFilter(scope="own", state="done"))
            return counts

    def _count(self, session: Session, actor: Actor, where: TaskFilter) -> int:
        branches = self._branches(session, actor, where, walk=False)
        return capped_count(session, branches, HumanTask.id)

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
            view["instance"] = instance_view(session.get_one(Instance, task.instance_id))
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

    def _branches(
        self, session: Session, actor: Actor, where: TaskFilter, walk: bool = True
    ) -> builtins.list[Select]:
        """The scope as a union of queries, each served in order by one index (see
        task_pages); every branch lies within what the actor may see. `walk`: territories
        are walked in due order rather than found by their path range."""
        # the supervised scope is driven by the few task ids of open orders: `|| ''` keeps
        # the planners from walking every open task on the state index instead
        by_id = where.scope == "supervised"
        base = select(HumanTask).where(*self._filters(session, where, by_id))
        principals = sorted(actor.principals())
        departments = sorted(actor.departments)
        # SQLite: `|| ''` hides the path index, so the territory is walked on
        # ix_tasks_state_sort (which carries the path) instead of gathered by its path range
        # and sorted whole; PostgreSQL weighs both by its statistics of the path
        hide = walk and session.get_bind().dialect.name == "sqlite"
        watched = HumanTask.region_path + "" if hide else HumanTask.region_path
        territories = [path_prefix(watched, p) for p in sorted(actor.territories)]
        visible = None if actor.is_admin else self.access.visible_tasks(session, actor)
        own = [
            *(HumanTask.assignee == p for p in principals),
            *(HumanTask.owner == p for p in principals),
            *(HumanTask.department == d for d in departments),
        ]
        if where.scope == "mine":
            clauses = [HumanTask.assignee == p for p in principals]
        elif where.scope == "queue":
            clauses = [
                and_(HumanTask.department == d, HumanTask.assignee.is_(None)) for d in departments
            ]
        elif where.scope == "watch":
            clauses = territories
        elif where.scope == "own":
            clauses = own
        elif where.scope == "all":
            clauses = [true()] if visible is None else [*own, *territories]
        else:  # supervised, unroutable: one branch, narrowed to what the actor may see
            if where.scope == "supervised":
                clause = HumanTask.id.in_(self._supervised(session) or [""])
            else:
                clause = HumanTask.department.is_(None)
            query = base.where(clause)
            if visible is not None and visible.whereclause is not None:
                query = query.where(visible.whereclause)
            return [query]
        return [base.where(clause) for clause in clauses]

    @staticmethod
    def _supervised(session: Session) -> builtins.list[str]:
        """Tasks with an open order (few): the supervised scope is driven by them."""
        return list(
            session.scalars(
                select(SupervisionOrder.task_id)
                .where(SupervisionOrder.status == OPEN_ORDER, SupervisionOrder.task_id.is_not(None))
                .distinct()
            )
        )

    def _filters(self, session: Session, where: TaskFilter, by_id: bool) -> builtins.list[Any]:
        if where.state == "open":
            filters = [(HumanTask.state + "" if by_id else HumanTask.state) == TaskState.OPEN]
        else:
            filters = [
                HumanTask.state.in_([TaskState.DONE, TaskState.RETURNED, TaskState.CANCELLED])
            ]
        if where.light == PROVISIONAL:
            filters.append(HumanTask.sla_provisional.is_(True))
        elif where.light:
            filters.append(HumanTask.sla_state.in_(states_of(where.light)))
        if where.process_id:
            filters.append(HumanTask.process_id == where.process_id)
        if where.region:
            path = session.scalar(select(Region.path).where(Region.code == where.region))
            if path is None:
                raise BadRequest(f"没有区划 {where.region}")
            filters.append(path_prefix(HumanTask.region_path, path))
        if where.created_from:
            filters.append(HumanTask.created_at >= where.created_from)
        if where.created_to:
            filters.append(HumanTask.created_at < where.created_to)
        if where.due_before:
            filters.append(HumanTask.sort_due < where.due_before)
        return filters

    def _rows(
        self, session: Session, actor: Actor, rows: builtins.list[HumanTask]
    ) -> builtins.list[dict[str, Any]]:
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


def _order(sort: str) -> Order:
    """Every order has a non-null key; "due" and "-due" are walked by the indexes (tasks
    without a time limit sort last, then first), the others read the filtered rows."""
    if sort in ("due", "-due"):
        return Order(HumanTask.sort_due, HumanTask.id, descending=sort == "-due")
    if sort == "-completed":
        return Order(_COMPLETED, HumanTask.id, descending=True)
    return Order(HumanTask.created_at, HumanTask.id, descending=sort == "-created")


def _key_of(sort: str):
    if sort in ("due", "-due"):
        return lambda row: row.due_at or NO_DUE
    if sort == "-completed":
        return lambda row: row.completed_at or row.created_at
    return lambda row: row.created_at


_COMPLETED = func.coalesce(HumanTask.completed_at, HumanTask.created_at)
