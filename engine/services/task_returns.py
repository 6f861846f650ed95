"""退回: the return command of TaskService, and what the reopened step shows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import TaskNotReady
from engine.clock import Clock
from engine.db.tables import HistoryEntry, HumanTask, Instance, User
from engine.errors import Conflict, FieldError, ValidationFailed

from .access import Access
from .actor import Actor
from .case_notices import task_returned
from .instances import InstanceService
from .principals import load_actor
from .recorder import TaskState, record_history
from .uow import UnitOfWork
from .views import instance_view, task_view


class ReturnCommands:
    """Mixed into TaskService, whose unit of work, clock, access and helpers it uses."""

    uow: UnitOfWork
    clock: Clock
    access: Access
    instances: InstanceService

    if TYPE_CHECKING:  # TaskService's own helpers

        def _check_may_finish(self, session: Session, actor: Actor, task: HumanTask) -> None: ...

        def _close(
            self, session: Session, actor: Actor, task: HumanTask, state: str, now: datetime
        ) -> None: ...

        def _validated_draft(self, task: HumanTask, data: Any) -> dict[str, Any]: ...

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
            self._check_may_finish(session, actor, task)
            chosen = _return_target(task, target)
            instance = session.get_one(Instance, task.instance_id)
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
            # the reopened step is announced as returned (to its earlier handler), not as queued
            self.instances.save(session, instance, execution, actor, quiet={reopened_id})
            session.flush()
            reopened = session.get(HumanTask, reopened_id)
            if reopened is not None and reopened.state == TaskState.OPEN:
                self._mark_returned(session, task, reopened, actor, reason.strip(), now)
                outbox = self.instances.outbox
                task_returned(outbox, session, task, reopened, actor, reason.strip(), now)
            return {
                "task": task_view(task),
                "reopened": task_view(reopened) if reopened is not None else None,
                "instance": instance_view(instance),
            }

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
