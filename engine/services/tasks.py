"""Human tasks: inbox queries and the claim / unclaim / complete / comment commands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn import TaskNotReady
from engine.clock import Clock
from engine.db.tables import Comment, HumanTask, Instance
from engine.errors import BadRequest, Conflict, FieldError, NotFound, ValidationFailed

from .access import Access
from .actor import Actor
from .forms import FormRegistry
from .instances import InstanceService
from .recorder import TaskState, record_history
from .uow import UnitOfWork
from .views import instance_view, task_view

SCOPES = ("mine", "queue", "all")
STATES = ("open", "done")


class TaskService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        forms: FormRegistry,
        instances: InstanceService,
        access: Access,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.forms = forms
        self.instances = instances
        self.access = access

    def list(
        self,
        actor: Actor,
        scope: str = "all",
        state: str = "open",
        process_id: str | None = None,
        region: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        sort: str = "due",
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        if scope not in SCOPES:
            raise BadRequest(f"scope must be one of {', '.join(SCOPES)}")
        if state not in STATES:
            raise BadRequest(f"state must be one of {', '.join(STATES)}")
        with self.uow.read() as session:
            query = self.access.visible_tasks(session, actor)
            if state == "open":
                query = query.where(HumanTask.state == TaskState.OPEN)
            else:
                query = query.where(HumanTask.state.in_([TaskState.DONE, TaskState.CANCELLED]))
            if scope == "mine":
                query = query.where(HumanTask.assignee == actor.username)
            elif scope == "queue":
                query = query.where(HumanTask.assignee.is_(None))
            if process_id:
                query = query.where(HumanTask.process_id == process_id)
            if region:
                query = query.where(HumanTask.region.startswith(region.rstrip("0") or region))
            if created_from:
                query = query.where(HumanTask.created_at >= created_from)
            if created_to:
                query = query.where(HumanTask.created_at < created_to)
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            order = {
                "due": (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at),
                "created": (HumanTask.created_at,),
                "-created": (HumanTask.created_at.desc(),),
            }.get(sort)
            if order is None:
                raise BadRequest("sort must be one of due, created, -created")
            rows = session.scalars(
                query.order_by(*order, HumanTask.id)
                .limit(min(max(limit, 1), 500))
                .offset(max(offset, 0))
            ).all()
            return {"items": [task_view(r) for r in rows], "total": total}

    def get(self, actor: Actor, task_id: str) -> dict[str, Any]:
        with self.uow.read() as session:
            task = self._visible(session, actor, task_id)
            view = task_view(task)
            view["form"] = self.forms.schema(task.form_key) if task.form_key else None
            instance = session.get(Instance, task.instance_id)
            view["instance"] = instance_view(instance)
            view["comments"] = [
                {"author": c.author, "at": c.at.isoformat(), "text": c.text}
                for c in session.scalars(
                    select(Comment).where(Comment.task_id == task.id).order_by(Comment.id)
                )
            ]
            return view

    def claim(self, actor: Actor, task_id: str) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self._actionable(session, actor, task_id)
            if task.assignee is not None:
                who = "you" if task.assignee == actor.username else task.assignee
                raise Conflict(f"the task is already claimed by {who}")
            now = self.clock.now()
            task.assignee, task.claimed_at = actor.username, now
            record_history(session, task.instance_id, now, actor, "task_claimed", task_id=task.id)
            return task_view(task)

    def unclaim(self, actor: Actor, task_id: str) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self._actionable(session, actor, task_id)
            if task.assignee is None:
                raise Conflict("the task is not claimed")
            if task.assignee != actor.username and not actor.is_admin:
                raise Conflict(f"the task is claimed by {task.assignee}")
            now = self.clock.now()
            task.assignee, task.claimed_at = None, None
            record_history(session, task.instance_id, now, actor, "task_unclaimed", task_id=task.id)
            return task_view(task)

    def complete(self, actor: Actor, task_id: str, data: Any) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self._actionable(session, actor, task_id)
            if task.assignee not in (None, actor.username):
                raise Conflict(f"the task is claimed by {task.assignee}")
            clean = self.forms.validate(task.form_key, data)
            instance = session.get(Instance, task.instance_id)
            execution = self.instances.restore(session, instance)
            try:
                execution.complete(task.id, clean)
            except TaskNotReady:
                raise Conflict("the task can no longer be completed") from None
            now = self.clock.now()
            task.state, task.completed_at, task.completed_by = TaskState.DONE, now, actor.username
            task.assignee = task.assignee or actor.username
            record_history(
                session,
                instance.id,
                now,
                actor,
                "task_completed",
                task_id=task.id,
                task=task.task_spec,
                data=clean,
            )
            self.instances.save(session, instance, execution, actor)
            session.flush()
            return {"task": task_view(task), "instance": instance_view(instance)}

    def comment(self, actor: Actor, task_id: str, text: Any) -> dict[str, Any]:
        if not isinstance(text, str) or not text.strip() or len(text) > 4000:
            raise ValidationFailed(
                "意见无效", [FieldError("text", "意见不能为空，且不超过 4000 字")]
            )
        with self.uow.write() as session:
            task = self._visible(session, actor, task_id)
            now = self.clock.now()
            session.add(
                Comment(
                    task_id=task.id,
                    instance_id=task.instance_id,
                    author=actor.username,
                    at=now,
                    text=text.strip(),
                )
            )
            record_history(
                session, task.instance_id, now, actor, "comment", task_id=task.id, text=text.strip()
            )
            return {
                "task_id": task.id,
                "author": actor.username,
                "at": now.isoformat(),
                "text": text.strip(),
            }

    # ---- internals ------------------------------------------------------------------------
    def _visible(self, session: Session, actor: Actor, task_id: str) -> HumanTask:
        task = session.get(HumanTask, task_id)
        if task is None or not self.access.can_see_task(session, actor, task):
            raise NotFound(f"no task with id '{task_id}'")
        return task

    def _actionable(self, session: Session, actor: Actor, task_id: str) -> HumanTask:
        task = self._visible(session, actor, task_id)
        if not self.access.can_act_on_task(session, actor, task):
            raise NotFound(f"no task with id '{task_id}'")
        if task.state != TaskState.OPEN:
            raise Conflict(f"the task is {task.state}")
        return task
