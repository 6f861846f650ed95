"""Who may see and act on what; every service asks here and nothing else decides access.

- A clerk sees and acts on the tasks of their own departments (and of colleagues they stand in
  for), and on tasks assigned or delegated to them.
- A case is visible to the departments that have or had a task on it, to the leadership-group
  offices of its region's ancestors (read-only), and to admins.
- Anything else does not exist for the user: services raise NotFound, never "forbidden"."""

from __future__ import annotations

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from engine.db.tables import Department, HumanTask, Incident, Instance, Region
from engine.db.types import path_prefix
from engine.domain.organisation import LEADERSHIP_OFFICE
from engine.errors import Conflict, NotFound, PermissionDenied

from .actor import Actor

_STATE_CONFLICT = {
    "done": "该环节已办理完成，请刷新后查看",
    "returned": "该环节已退回，请刷新后查看",
    "cancelled": "该环节已取消，请刷新后查看",
}


class Access:
    def require_admin(self, actor: Actor) -> None:
        if not actor.is_admin:
            raise PermissionDenied("此功能仅限系统管理员使用")

    def require_office(self, actor: Actor) -> None:
        """The figures of a territory (调度看板) are for leadership-group offices and admins."""
        if not (actor.is_admin or actor.territories):
            raise PermissionDenied("调度看板仅供领导小组办公室和管理员使用")

    # ---- cases -----------------------------------------------------------------------------
    def check_can_start(
        self, session: Session, actor: Actor, process_id: str, region: Region
    ) -> None:
        """Cases are started by admins or by departments of the case's region or above it.
        A leadership-group office watches its territory and starts nothing (the steps routed
        to its own department still come to it)."""
        if actor.is_admin:
            return
        if not any(region.path.startswith(path) for path in actor.region_paths):
            raise NotFound(f"没有您可在其中发起办件的区划 {region.code}")
        starting = session.scalars(
            select(Region.path)
            .join(Department, Department.region_code == Region.code)
            .where(
                Department.code.in_(sorted(actor.departments)),
                Department.dept_type != LEADERSHIP_OFFICE,
            )
        ).all()
        if not any(region.path.startswith(path) for path in starting):
            raise PermissionDenied("领导小组办公室可以查看辖区内的办件，但不能发起办件")

    def can_act_on_instance(self, session: Session, actor: Actor, instance: Instance) -> bool:
        """Admins, or departments that have or had a task on the case (watching is not enough)."""
        if actor.is_admin:
            return True
        return (
            session.scalar(
                select(HumanTask.id)
                .where(HumanTask.instance_id == instance.id, self._own_task_clause(actor))
                .limit(1)
            )
            is not None
        )

    def can_see_instance(self, session: Session, actor: Actor, instance: Instance) -> bool:
        return actor.watches(instance.region_path) or self.can_act_on_instance(
            session, actor, instance
        )

    def visible_instances(self, session: Session, actor: Actor) -> Select:
        if actor.is_admin:
            return select(Instance)
        involved = select(HumanTask.instance_id).where(self._own_task_clause(actor))
        return select(Instance).where(
            or_(Instance.id.in_(involved), self._territory_clause(actor, Instance.region_path))
        )

    def instance_for_admin(self, session: Session, actor: Actor, instance_id: str) -> Instance:
        self.require_admin(actor)
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound(f"没有编号为“{instance_id}”的办件")
        return instance

    # ---- tasks -----------------------------------------------------------------------------
    def visible_tasks(self, session: Session, actor: Actor) -> Select:
        if actor.is_admin:
            return select(HumanTask)
        return select(HumanTask).where(
            or_(self._own_task_clause(actor), self._territory_clause(actor, HumanTask.region_path))
        )

    def can_see_task(self, session: Session, actor: Actor, task: HumanTask) -> bool:
        return (
            actor.is_admin
            or self.can_act_on_task(session, actor, task)
            or actor.watches(task.region_path)
        )

    def can_act_on_task(self, session: Session, actor: Actor, task: HumanTask) -> bool:
        if actor.is_admin:
            return True
        principals = actor.principals()
        return (
            task.department in actor.departments
            or task.assignee in principals
            or task.owner in principals
        )

    def visible_task(self, session: Session, actor: Actor, task_id: str) -> HumanTask:
        task = session.get(HumanTask, task_id)
        if task is None or not self.can_see_task(session, actor, task):
            raise NotFound("未找到该环节，或您无权查看")
        return task

    def open_task_to_act_on(self, session: Session, actor: Actor, task_id: str) -> HumanTask:
        """An open task the actor may work on; watchers learn they may only watch."""
        task = self.visible_task(session, actor, task_id)
        if not self.can_act_on_task(session, actor, task):
            raise PermissionDenied("您可以查看该环节，但不能办理")
        if task.state != "open":
            raise Conflict(_STATE_CONFLICT.get(task.state, "该环节已不在办理中，请刷新后查看"))
        self.check_no_incident(session, task.instance_id)
        return task

    def task_to_comment_on(self, session: Session, actor: Actor, task_id: str) -> HumanTask:
        """Comments (意见) come from those who may work on the task; an office watching it
        reads them but does not write any."""
        task = self.visible_task(session, actor, task_id)
        if not self.can_act_on_task(session, actor, task):
            raise PermissionDenied("您可以查看该环节，但不能办理或发表意见")
        return task

    def check_no_incident(self, session: Session, instance_id: str) -> None:
        """While a step of the case has failed, the case stays exactly as it failed: nothing
        but an administrator's retry or cancel moves it."""
        message = session.scalar(
            select(Incident.message)
            .where(Incident.instance_id == instance_id, Incident.status == "open")
            .order_by(Incident.id)
            .limit(1)
        )
        if message is not None:
            raise Conflict(f"此办件有待管理员处理的异常，处理前不能办理。{message}")

    def acting_for(self, actor: Actor, task: HumanTask) -> str | None:
        """Whose behalf an action is on, when the actor stands in for someone absent: the
        task's assignee, or the absent colleague whose department the task belongs to."""
        if task.assignee in actor.stands_in_for:
            return task.assignee
        if task.assignee in (None, actor.username):
            return next((user for dept, user in actor.stand_in if dept == task.department), None)
        return None

    def watch_clause(self, actor: Actor):
        return self._territory_clause(actor, HumanTask.region_path)

    def own_departments_clause(self, actor: Actor):
        if not actor.departments:
            return false()
        return HumanTask.department.in_(actor.departments)

    # ---- internals -------------------------------------------------------------------------
    def _own_task_clause(self, actor: Actor):
        principals = list(actor.principals())
        clauses = [HumanTask.assignee.in_(principals), HumanTask.owner.in_(principals)]
        if actor.departments:
            clauses.append(HumanTask.department.in_(actor.departments))
        return or_(*clauses)

    @staticmethod
    def _territory_clause(actor: Actor, column):
        if not actor.territories:
            return false()
        return or_(*[path_prefix(column, path) for path in actor.territories])
