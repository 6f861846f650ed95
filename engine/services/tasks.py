"""Task commands: claim, unclaim, transfer, delegate and resolve, return, complete, comment."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from engine.bpmn import TaskNotReady
from engine.clock import Clock
from engine.db.tables import Comment, HumanTask, Instance, User
from engine.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed

from .access import Access
from .actor import Actor
from .case_notices import task_handed
from .forms import FormRegistry
from .instances import InstanceService
from .opinions import submitted_opinion, validate_with_opinion
from .principals import load_actor
from .recorder import TaskState, record_history
from .task_people import department_name, members, person
from .task_returns import ReturnCommands
from .uow import UnitOfWork
from .views import instance_view, task_view


class RequiredMaterials(Protocol):
    def check_required(self, session: Session, task: HumanTask) -> None: ...


class TaskService(ReturnCommands):
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        forms: FormRegistry,
        instances: InstanceService,
        access: Access,
        materials: RequiredMaterials | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.forms = forms
        self.instances = instances
        self.access = access
        self.materials = materials

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
                raise Conflict("该环节尚未认领，无需取消")
            if task.assignee not in actor.principals() and not actor.is_admin:
                raise Conflict(f"该环节已由{person(session, task.assignee)}认领，只有本人可以取消")
            if task.delegation == "pending":
                raise Conflict("该环节已委托他人办理，须由受托人交回后再取消认领")
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
            outbox = self.instances.outbox
            task_handed(outbox, session, "task_transferred", task, colleague.username, actor, now)
            return task_view(task)

    def delegate(self, actor: Actor, task_id: str, to: str) -> dict[str, Any]:
        """Ask a colleague to work on the task; it comes back to me when they resolve it."""
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            self._check_held_by(actor, task)
            if task.delegation == "pending":
                raise Conflict("该环节已委托他人办理，不能再次委托")
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
            outbox = self.instances.outbox
            task_handed(outbox, session, "task_delegated", task, colleague.username, actor, now)
            return task_view(task)

    def resolve(
        self, actor: Actor, task_id: str, data: Any = None, note: str | None = None
    ) -> dict[str, Any]:
        """The delegate hands the task back to its owner, with a draft of the form data."""
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            if task.delegation != "pending" or task.assignee not in actor.principals():
                raise Conflict("只有受托人可以交回委托的环节")
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
            self._check_may_finish(session, actor, task)
            instance = session.get_one(Instance, task.instance_id)  # held: _finish reuses it
            clean = validate_with_opinion(self.forms, task.form_key, data, instance.data)
            if self.materials is not None:
                self.materials.check_required(session, task)  # 材料清单: 422 per missing item
            opinion = submitted_opinion(self.forms, task.form_key, clean)
            return self._finish(session, actor, task, clean, "task_completed", opinion=opinion)

    def save_draft(self, actor: Actor, task_id: str, data: Any) -> dict[str, Any]:
        """暂存: keep what the holder (or the delegate) typed so far, unvalidated."""
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            if task.delegation != "pending" or task.assignee not in actor.principals():
                self._check_may_finish(session, actor, task)
            task.draft = self._validated_draft(task, data)
            return task_view(task)

    def colleagues(self, actor: Actor, task_id: str) -> list[dict[str, str]]:
        """Who the task can be handed to (转办, 委托): the active members of its department."""
        with self.uow.read() as session:
            task = self.access.visible_task(session, actor, task_id)
            return members(session, task.department, actor.username)

    def comment(self, actor: Actor, task_id: str, text: Any) -> dict[str, Any]:
        if not isinstance(text, str) or not text.strip() or len(text) > 4000:
            raise ValidationFailed(
                "意见无效", [FieldError("text", "意见不能为空，且不超过 4000 字")]
            )
        with self.uow.write() as session:
            task = self.access.task_to_comment_on(session, actor, task_id)
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
        instance = session.get_one(Instance, task.instance_id)
        execution = self.instances.restore(session, instance)
        try:
            execution.complete(task.id, data)
        except TaskNotReady:
            raise Conflict("该环节已办理或已变化，请刷新后重试") from None
        now = self.clock.now()
        on_behalf = self.access.acting_for(actor, task)
        self._close(session, actor, task, TaskState.DONE, now)
        entry = record_history(
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
        recorded = self.instances.save(session, instance, execution, actor)
        session.flush()
        if action == "task_completed":  # name the steps it opened in its history entry
            opened = sorted(recorded.opened, key=lambda r: (r.created_at, r.id))
            entry.details = {
                **entry.details,
                "next": [
                    {"task_id": r.id, "title": r.title, "department": r.department} for r in opened
                ],
            }
        return {"task": task_view(task), "instance": instance_view(instance)}

    def _close(
        self, session: Session, actor: Actor, task: HumanTask, state: str, now: datetime
    ) -> None:
        task.state, task.completed_at, task.completed_by = state, now, actor.username
        task.assignee = task.assignee or actor.username
        self.instances.sla.stop_task_clocks(session, task, now, completed=True)

    def _check_may_finish(self, session: Session, actor: Actor, task: HumanTask) -> None:
        if task.delegation == "pending":
            raise Conflict("该环节已委托他人办理：由受托人办理后交回，再由本人办结")
        if (
            task.assignee is not None
            and task.assignee not in actor.principals()
            and not actor.is_admin
        ):
            raise Conflict(f"该环节已由{person(session, task.assignee)}认领")

    def _claim(self, session: Session, actor: Actor, task: HumanTask) -> None:
        if task.assignee is not None:
            who = "您" if task.assignee == actor.username else person(session, task.assignee)
            raise Conflict(f"该环节已由{who}认领")
        if task.department is None:
            raise Conflict("该环节尚未派发到办理部门，暂不能认领")
        now = self.clock.now()
        # A conditional update: of any number of concurrent claimers exactly one matches.
        result = session.execute(
            update(HumanTask)
            .where(
                HumanTask.id == task.id,
                HumanTask.state == TaskState.OPEN,
                HumanTask.assignee.is_(None),
            )
            .values(assignee=actor.username, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        claimed = cast(CursorResult[Any], result).rowcount  # an UPDATE's result is a cursor's
        if claimed != 1:
            raise Conflict("该环节刚刚已被他人认领，请刷新后查看")
        session.refresh(task)
        record_history(session, task.instance_id, now, actor, "task_claimed", task_id=task.id)

    def _check_held_by(self, actor: Actor, task: HumanTask) -> None:
        if task.assignee not in actor.principals() and not actor.is_admin:
            raise Conflict("请先认领该环节，再转办或委托")

    def _colleague(self, session: Session, task: HumanTask, username: str, actor: Actor) -> User:
        user = session.scalar(select(User).where(User.username == username, User.is_active))
        if (
            user is None
            or user.username == actor.username
            or task.department not in load_actor(session, user, self.clock.now().date()).departments
        ):
            department = department_name(session, task.department)
            raise ValidationFailed(
                "无法转交", [FieldError("to", f"所选人员不是{department}的在岗人员")]
            )
        return user

    def _validated_draft(self, task: HumanTask, data: Any) -> dict[str, Any]:
        """A draft may be partial: it keeps the fields the form declares, unvalidated."""
        if not isinstance(data, dict):
            raise ValidationFailed("草稿必须是对象", [FieldError("data", "草稿格式不正确")])
        declared = self.forms.schema(task.form_key).get("properties", {}) if task.form_key else None
        return {k: v for k, v in data.items() if declared is None or k in declared}
