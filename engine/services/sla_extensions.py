"""延期: one extension per clock within the law's maximum, asked by a clerk and signed off by a
department head other than the asker; both steps tell the other side (the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import HumanTask, SlaClock
from engine.domain.sla import ClockState
from engine.domain.time_limits import EXTENSION_BASIS, STATUTORY
from engine.errors import Conflict, FieldError, PermissionDenied, ValidationFailed

from .access import Access
from .actor import Actor
from .notify.audience import members
from .notify.outbox import Outbox
from .recorder import record_history
from .sla_clocks import ClockKeeper
from .sla_law import check_extension
from .sla_views import iso
from .uow import UnitOfWork


class ExtensionCommands:
    """Mixed into SlaService, whose unit of work, clock, access, keeper and outbox it uses."""

    uow: UnitOfWork
    clock: Clock
    access: Access
    keeper: ClockKeeper
    outbox: Outbox

    if TYPE_CHECKING:  # SlaService's own helpers

        def _clock_of_kind(self, session: Session, task: HumanTask, kind: str) -> SlaClock: ...

        def _view(self, session: Session, task: HumanTask) -> dict[str, Any]: ...

    def request_extension(
        self, actor: Actor, task_id: str, days: int, reason: str, kind: str = STATUTORY
    ) -> dict[str, Any]:
        if not isinstance(days, int) or not 1 <= days <= 60:
            raise ValidationFailed("延期天数无效", [FieldError("days", "应为 1 到 60 天")])
        if not reason or not reason.strip():
            raise ValidationFailed("请填写延期理由", [FieldError("reason", "不能为空")])
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            clock = self._clock_of_kind(session, task, kind)
            if clock.extension_state is not None:
                raise Conflict(f"每个时限只能延期一次（{EXTENSION_BASIS}），该时限已申请过延期")
            check_extension(clock, days)
            now = self.clock.now()
            clock.extension_state = "requested"
            clock.extension_request = {
                "days": days,
                "reason": reason.strip(),
                "by": actor.username,
                "at": now.isoformat(),
            }
            heads = [
                h for h in members(session, task.department, "approver") if h != actor.username
            ]
            self.outbox.emit(
                session,
                "sla_extension_requested",
                heads,
                now,
                task=task,
                payload={
                    "days": days,
                    "reason": reason.strip(),
                    "by": actor.username,
                    "by_name": actor.display_name,
                    "clock": kind,
                },
                key=f"sla_extension_requested:{clock.id}",
            )
            record_history(
                session,
                task.instance_id,
                now,
                actor,
                "sla_extension_requested",
                task_id=task.id,
                kind=kind,
                days=days,
                reason=reason.strip(),
            )
            return self._view(session, task)

    def decide_extension(
        self, actor: Actor, task_id: str, approve: bool, note: str = "", kind: str = STATUTORY
    ) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            if not actor.is_admin and not actor.has_role(task.department or "", "approver"):
                raise PermissionDenied("延期须由本部门负责人批准")
            clock = self._clock_of_kind(session, task, kind)
            if clock.extension_state != "requested":
                raise Conflict("没有待审批的延期申请")
            if (clock.extension_request or {}).get("by") == actor.username and not actor.is_admin:
                raise PermissionDenied("延期须由提出延期的经办人以外的负责人批准")
            now = self.clock.now()
            request = dict(clock.extension_request or {})
            if approve:
                check_extension(clock, int(request["days"]))
            request.update(decided_by=actor.username, decided_at=now.isoformat(), note=note)
            clock.extension_request = request
            clock.extension_state = "approved" if approve else "rejected"
            if approve:
                clock.extension_days = int(request["days"])
                if clock.state in ClockState.OPEN:
                    self.keeper.compute(session, clock, now)
            self.keeper.sync_task(session, task)
            record_history(
                session,
                task.instance_id,
                now,
                actor,
                "sla_extension_approved" if approve else "sla_extension_rejected",
                task_id=task.id,
                kind=kind,
                days=request["days"],
                note=note,
            )
            self._tell_requester(session, task, clock, request, approve, actor, now)
            return self._view(session, task)

    def _tell_requester(
        self,
        session: Session,
        task: HumanTask,
        clock: SlaClock,
        request: dict[str, Any],
        approve: bool,
        actor: Actor,
        now: datetime,
    ) -> None:
        requester = request.get("by")
        self.outbox.emit(
            session,
            "sla_extension_decided",
            [requester] if requester and requester != actor.username else [],
            now,
            task=task,
            payload={
                "approved": approve,
                "days": int(request["days"]),
                "by_name": actor.display_name,
                "note": request.get("note") or "",
                "due_at": iso(clock.due_at),
                "clock": clock.kind,
            },
            key=f"sla_extension_decided:{clock.id}",
        )
