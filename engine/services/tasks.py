"""Task commands: claim, unclaim, transfer, delegate and resolve, return, complete, comment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import TaskNotReady
from engine.clock import Clock
from engine.db.tables import Comment, HumanTask, Instance, User
from engine.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed

from .access import Access
from .actor import Actor
from .forms import FormRegistry
from .instances import InstanceService
from .principals import load_actor
from .recorder import TaskState, record_history
from .uow import UnitOfWork
from .views import instance_view, task_view

DEFAULT_RETURN_VALUE = "退回修改"


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

    def claim(self, actor: Actor, task_id: str) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            self._claim(session, actor, task)
            return task_view(task)

    def claim_many(self, actor: Actor, task_ids: list[str]) -> dict[str, Any]:
        """Bulk claim: each task is claimed or reported; one transaction for the lot."""
        results = []
        with self.uow.write() as session:
            for task_id in dict.fromkeys(task_ids):
                try:
                    task = self.access.open_task_to_act_on(session, actor, task_id)
                    self._claim(session, actor, task)
                    results.append({"id": task_id, "status": "claimed"})
                except (Conflict, NotFound, PermissionDenied) as refused:
                    results.append({"id": task_id, "status": "refused", "message": refused.message})
        return {"results": results, "claimed": sum(r["status"] == "claimed" for r in results)}

    def unclaim(self, actor: Actor, task_id: str) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            if task.assignee is None:
                raise Conflict("the task is not claimed")
            if task.assignee not in actor.principals() and not actor.is_admin:
                raise Conflict(f"the task is claimed by {task.assignee}")
            if task.delegation == "pending":
                raise Conflict("the task is delegated; the delegate resolves it")
            now = self.clock.now()
            on_behalf = self.access.acting_for(actor, task)
            task.assignee, task.claimed_at = None, None
            record_history(
                session,
                task.instance_id,
                now,
                actor,
                "task_unclaimed",
                task_id=task.id,
                on_behalf_of=on_behalf,
            )
            return task_view(task)

    def transfer(self, actor: Actor, task_id: str, to: str) -> dict[str, Any]:
        """Hand the task to a colleague of the task's department for good."""
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            self._check_held_by(actor, task)
            colleague = self._colleague(session, task, to, actor)
            now = self.clock.now()
            record_history(
                session,
                task.instance_id,
                now,
                actor,
                "task_transferred",
                task_id=task.id,
                to=colleague.username,
                on_behalf_of=self.access.acting_for(actor, task),
            )
            task.assignee, task.claimed_at, task.owner, task.delegation = (
                colleague.username,
                now,
                None,
                None,
            )
            return task_view(task)

    def delegate(self, actor: Actor, task_id: str, to: str) -> dict[str, Any]:
        """Ask a colleague to work on the task; it comes back to me when they resolve it."""
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            self._check_held_by(actor, task)
            if task.delegation == "pending":
                raise Conflict("the task is already delegated")
            colleague = self._colleague(session, task, to, actor)
            now = self.clock.now()
            task.owner, task.assignee, task.delegation = (
                task.assignee,
                colleague.username,
                "pending",
            )
            record_history(
                session,
                task.instance_id,
                now,
                actor,
                "task_delegated",
                task_id=task.id,
                to=colleague.username,
            )
            return task_view(task)

    def resolve(
        self, actor: Actor, task_id: str, data: Any = None, note: str | None = None
    ) -> dict[str, Any]:
        """The delegate hands the task back to its owner, with a draft of the form data."""
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            if task.delegation != "pending" or task.assignee not in actor.principals():
                raise Conflict("only the delegate of a delegated task can resolve it")
            draft = self._validated_draft(task, data or {})
            now = self.clock.now()
            task.assignee, task.owner, task.delegation, task.draft = (
                task.owner,
                None,
                "resolved",
                draft,
            )
            record_history(
                session,
                task.instance_id,
                now,
                actor,
                "task_resolved",
                task_id=task.id,
                draft=draft,
                note=note,
            )
            return task_view(task)

    def complete(self, actor: Actor, task_id: str, data: Any) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            if task.delegation == "pending":
                raise Conflict(
                    "the task is delegated: the delegate resolves it and the owner completes it"
                )
            if (
                task.assignee is not None
                and task.assignee not in actor.principals()
                and not actor.is_admin
            ):
                raise Conflict(f"the task is claimed by {task.assignee}")
            clean = self.forms.validate(task.form_key, data)
            return self._finish(session, actor, task, clean, "task_completed")

    def return_task(self, actor: Actor, task_id: str, reason: str) -> dict[str, Any]:
        """退回: complete the task with the diagram's return decision, which loops back to the
        step named by the task's `return_to` property."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationFailed("请填写退回理由", [FieldError("reason", "退回理由不能为空")])
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            target = task.properties.get("return_to")
            if not target:
                raise Conflict("this step cannot be returned: the diagram models no return from it")
            if (
                task.assignee is not None
                and task.assignee not in actor.principals()
                and not actor.is_admin
            ):
                raise Conflict(f"the task is claimed by {task.assignee}")
            value = task.properties.get("return_value", DEFAULT_RETURN_VALUE)
            data = {"decision": value, "return_reason": reason.strip()}
            return self._finish(session, actor, task, data, "task_returned", to=target)

    def comment(self, actor: Actor, task_id: str, text: Any) -> dict[str, Any]:
        if not isinstance(text, str) or not text.strip() or len(text) > 4000:
            raise ValidationFailed(
                "意见无效", [FieldError("text", "意见不能为空，且不超过 4000 字")]
            )
        with self.uow.write() as session:
            task = self.access.visible_task(session, actor, task_id)
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
    def _finish(
        self,
        session: Session,
        actor: Actor,
        task: HumanTask,
        data: dict[str, Any],
        action: str,
        **details: Any,
    ) -> dict[str, Any]:
        instance = session.get(Instance, task.instance_id)
        execution = self.instances.restore(session, instance)
        try:
            execution.complete(task.id, data)
        except TaskNotReady:
            raise Conflict("the task can no longer be completed") from None
        now = self.clock.now()
        on_behalf = self.access.acting_for(actor, task)
        task.state, task.completed_at, task.completed_by = TaskState.DONE, now, actor.username
        task.assignee = task.assignee or actor.username
        self.instances.sla.stop_task_clocks(session, task, now, completed=True)
        record_history(
            session,
            instance.id,
            now,
            actor,
            action,
            task_id=task.id,
            on_behalf_of=on_behalf,
            task=task.task_spec,
            data=data,
            **details,
        )
        self.instances.save(session, instance, execution, actor)
        session.flush()
        return {"task": task_view(task), "instance": instance_view(instance)}

    def _claim(self, session: Session, actor: Actor, task: HumanTask) -> None:
        if task.assignee is not None:
            who = "you" if task.assignee == actor.username else task.assignee
            raise Conflict(f"the task is already claimed by {who}")
        if task.department is None:
            raise Conflict("the task is not routed to a department yet")
        now = self.clock.now()
        task.assignee, task.claimed_at = actor.username, now
        record_history(session, task.instance_id, now, actor, "task_claimed", task_id=task.id)

    def _check_held_by(self, actor: Actor, task: HumanTask) -> None:
        if task.assignee not in actor.principals() and not actor.is_admin:
            raise Conflict("claim the task before handing it on")

    def _colleague(self, session: Session, task: HumanTask, username: str, actor: Actor) -> User:
        user = session.scalar(select(User).where(User.username == username, User.is_active))
        if (
            user is None
            or user.username == actor.username
            or task.department not in load_actor(session, user, self.clock.now().date()).departments
        ):
            raise ValidationFailed(
                "无法转交",
                [FieldError("to", f"'{username}' 不是本部门（{task.department}）的人员")],
            )
        return user

    def _validated_draft(self, task: HumanTask, data: Any) -> dict[str, Any]:
        """A draft may be partial: it keeps the fields the form declares, unvalidated."""
        if not isinstance(data, dict):
            raise ValidationFailed("草稿必须是对象", [FieldError("data", "expected an object")])
        declared = self.forms.schema(task.form_key).get("properties", {}) if task.form_key else None
        return {k: v for k, v in data.items() if declared is None or k in declared}
