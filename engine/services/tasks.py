"""Task commands: claim, unclaim, transfer, delegate and resolve, return, complete, comment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.bpmn import TaskNotReady
from engine.clock import Clock
from engine.db.tables import Comment, HistoryEntry, HumanTask, Instance, User
from engine.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed

from .access import Access
from .actor import Actor
from .forms import FormRegistry
from .instances import InstanceService
from .principals import load_actor
from .recorder import TaskState, record_history
from .uow import UnitOfWork
from .views import instance_view, task_view


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
            self._check_may_finish(actor, task)
            case = session.get(Instance, task.instance_id).data
            clean = self.forms.validate(task.form_key, data, case)
            return self._finish(session, actor, task, clean, "task_completed")

    def return_task(
        self, actor: Actor, task_id: str, reason: str, target: str | None = None
    ) -> dict[str, Any]:
        """退回: send the case back to an earlier step the diagram allows (the task's
        `return_to`). The earlier step opens again with what was submitted there as a draft;
        who returned it, why and from where is recorded on the case and on the reopened step."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationFailed("请填写退回理由", [FieldError("reason", "退回理由不能为空")])
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            self._check_may_finish(actor, task)
            chosen = _return_target(task, target)
            instance = session.get(Instance, task.instance_id)
            execution = self.instances.restore(session, instance)
            try:
                reopened_id = execution.return_to(task.id, chosen["id"])
            except TaskNotReady:
                raise Conflict("该环节已办理或已变化，请刷新后重试") from None
            except LookupError:
                raise ValidationFailed(
                    "无法退回", [FieldError("target", f"不能退回到“{chosen['name']}”")]
                ) from None
            now = self.clock.now()
            self._close(session, actor, task, TaskState.RETURNED, now)
            record_history(
                session,
                instance.id,
                now,
                actor,
                "task_returned",
                task_id=task.id,
                on_behalf_of=self.access.acting_for(actor, task),
                task=task.task_spec,
                title=task.title,
                to=chosen["id"],
                to_name=chosen["name"],
                reason=reason.strip(),
            )
            self.instances.save(session, instance, execution, actor)
            session.flush()
            reopened = session.get(HumanTask, reopened_id)
            if reopened is not None and reopened.state == TaskState.OPEN:
                self._mark_returned(session, task, reopened, actor, reason.strip(), now)
            return {
                "task": task_view(task),
                "reopened": task_view(reopened) if reopened is not None else None,
                "instance": instance_view(instance),
            }

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
            raise Conflict("该环节已办理或已变化，请刷新后重试") from None
        now = self.clock.now()
        on_behalf = self.access.acting_for(actor, task)
        self._close(session, actor, task, TaskState.DONE, now)
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

    def _close(
        self, session: Session, actor: Actor, task: HumanTask, state: str, now: datetime
    ) -> None:
        task.state, task.completed_at, task.completed_by = state, now, actor.username
        task.assignee = task.assignee or actor.username
        self.instances.sla.stop_task_clocks(session, task, now, completed=True)

    def _mark_returned(
        self,
        session: Session,
        returning: HumanTask,
        reopened: HumanTask,
        actor: Actor,
        reason: str,
        now: datetime,
    ) -> None:
        """The reopened step shows why it came back, starts from what was submitted there
        before, and goes back to whoever handled it then (if they still can)."""
        earlier = session.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == reopened.instance_id,
                HumanTask.task_spec == reopened.task_spec,
                HumanTask.state == TaskState.DONE,
            )
            .order_by(HumanTask.completed_at.desc())
        ).first()
        reopened.returned = {
            "from_task": returning.task_spec,
            "from_title": returning.title,
            "by": actor.username,
            "department": returning.department,
            "reason": reason,
            "at": now.isoformat(),
        }
        if earlier is None:
            return
        submitted = session.scalars(
            select(HistoryEntry.details)
            .where(
                HistoryEntry.task_id == earlier.id,
                HistoryEntry.action == "task_completed",
            )
            .order_by(HistoryEntry.id.desc())
        ).first()
        if submitted and isinstance(submitted.get("data"), dict):
            reopened.draft = self._validated_draft(reopened, submitted["data"])
        handler = session.scalar(
            select(User).where(User.username == earlier.completed_by, User.is_active)
        )
        if handler is not None and reopened.department in (
            load_actor(session, handler, self.clock.now().date()).departments
        ):
            reopened.assignee, reopened.claimed_at = handler.username, now

    def _check_may_finish(self, actor: Actor, task: HumanTask) -> None:
        if task.delegation == "pending":
            raise Conflict("该环节已委托他人办理：由受托人办理后交回，再由本人办结")
        if (
            task.assignee is not None
            and task.assignee not in actor.principals()
            and not actor.is_admin
        ):
            raise Conflict(f"该环节已由 {task.assignee} 认领")

    def _claim(self, session: Session, actor: Actor, task: HumanTask) -> None:
        if task.assignee is not None:
            who = "you" if task.assignee == actor.username else task.assignee
            raise Conflict(f"the task is already claimed by {who}")
        if task.department is None:
            raise Conflict("the task is not routed to a department yet")
        now = self.clock.now()
        # A conditional update: of any number of concurrent claimers exactly one matches.
        claimed = session.execute(
            update(HumanTask)
            .where(
                HumanTask.id == task.id,
                HumanTask.state == TaskState.OPEN,
                HumanTask.assignee.is_(None),
            )
            .values(assignee=actor.username, claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise Conflict("the task was claimed by someone else at the same time")
        session.refresh(task)
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


def _return_target(task: HumanTask, target: str | None) -> dict[str, str]:
    allowed = task.return_targets or []
    if not allowed:
        raise Conflict("此环节不能退回：流程未设置可退回的环节，或尚未经过该环节")
    if target is None and len(allowed) == 1:
        return allowed[0]
    for choice in allowed:
        if choice["id"] == target:
            return choice
    names = "、".join(t["name"] for t in allowed)
    raise ValidationFailed("请选择退回环节", [FieldError("target", f"可退回到：{names}")])
