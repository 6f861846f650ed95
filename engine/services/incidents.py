"""Incidents: failed engine steps an administrator resolves by retrying the step (after
correcting case data) or by cancelling it. Nothing else clears an incident."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn import StepNotSkippable, TaskNotReady
from engine.clock import Clock
from engine.db.tables import Incident, Instance
from engine.errors import Conflict, FieldError, NotFound, ValidationFailed

from .access import Access
from .actor import Actor
from .instances import InstanceService
from .recorder import IncidentStatus, record_history
from .uow import UnitOfWork
from .views import incident_view, instance_view

_DATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,119}$")
MAX_PAGE = 200


class IncidentService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, instances: InstanceService, access: Access
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.instances = instances
        self.access = access

    # ---- queries -------------------------------------------------------------------------
    def list(
        self,
        actor: Actor,
        status: str | None = IncidentStatus.OPEN,
        process_id: str | None = None,
        instance_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            query = select(Incident)
            if status:
                query = query.where(Incident.status == status)
            if process_id:
                query = query.where(Incident.process_id == process_id)
            if instance_id:
                query = query.where(Incident.instance_id == instance_id)
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(
                query.order_by(Incident.created_at.desc(), Incident.id.desc())
                .limit(max(1, min(limit, MAX_PAGE)))
                .offset(max(offset, 0))
            ).all()
            return {"items": [incident_view(r, technical=True) for r in rows], "total": total}

    def counts(self, actor: Actor) -> dict[str, int]:
        """Open incidents per process."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            rows = session.execute(
                select(Incident.process_id, func.count())
                .where(Incident.status == IncidentStatus.OPEN)
                .group_by(Incident.process_id)
            ).all()
            return {process_id: count for process_id, count in rows}

    def get(self, actor: Actor, incident_id: int) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            incident = _incident(session, incident_id)
            instance = session.get(Instance, incident.instance_id)
            view = incident_view(incident, technical=True)
            view["case_data"] = instance.data if instance is not None else None
            return view

    # ---- commands ------------------------------------------------------------------------
    def retry(
        self, actor: Actor, incident_id: int, corrections: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Merge `corrections` into the failed step's data and run it again. If it fails again
        the incident stays open with the new reason."""
        corrections = _checked_corrections(corrections)
        self.access.require_admin(actor)
        with self.uow.write() as session:
            incident, instance = self._open(session, incident_id)
            execution = self.instances.restore(session, instance)
            try:
                execution.retry(incident.step_id, corrections)
            except TaskNotReady:
                raise Conflict("失败的环节已不在异常状态，请刷新后重试") from None
            now = self.clock.now()
            record_history(
                session,
                instance.id,
                now,
                actor,
                "incident_retried",
                incident=incident.id,
                corrections=corrections,
            )
            failure = execution.failure
            if failure is not None and failure.step_id == incident.step_id:
                incident.attempts += 1
                incident.message, incident.detail = failure.message, failure.detail
            else:
                self._close(session, incident, actor, IncidentStatus.RESOLVED, "retried", now)
            self.instances.save(session, instance, execution, actor)
            session.flush()
            return {
                "incident": incident_view(incident, technical=True),
                "instance": instance_view(instance),
            }

    def cancel_step(self, actor: Actor, incident_id: int, reason: str) -> dict[str, Any]:
        """Mark the failed step done without running it; the case goes on from there."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationFailed("请填写理由", [FieldError("reason", "取消环节须说明理由")])
        self.access.require_admin(actor)
        with self.uow.write() as session:
            incident, instance = self._open(session, incident_id)
            execution = self.instances.restore(session, instance)
            if incident.step_id is None:
                raise Conflict("找不到失败的环节，只能重试")
            try:
                execution.skip(incident.step_id)
            except TaskNotReady:
                raise Conflict("失败的环节已不在异常状态，请刷新后重试") from None
            except StepNotSkippable:
                raise Conflict(
                    "网关决定办件流向、人工环节须由人办理，不能跳过：请更正数据后重试"
                ) from None
            now = self.clock.now()
            record_history(
                session,
                instance.id,
                now,
                actor,
                "incident_step_cancelled",
                incident=incident.id,
                element=incident.element_id,
                reason=reason.strip(),
            )
            self._close(
                session, incident, actor, IncidentStatus.STEP_CANCELLED, "step_cancelled", now
            )
            self.instances.save(session, instance, execution, actor)
            session.flush()
            return {
                "incident": incident_view(incident, technical=True),
                "instance": instance_view(instance),
            }

    # ---- internals -----------------------------------------------------------------------
    def _open(self, session: Session, incident_id: int) -> tuple[Incident, Instance]:
        incident = _incident(session, incident_id)
        if incident.status != IncidentStatus.OPEN:
            raise Conflict("该异常已处理")
        instance = session.get(Instance, incident.instance_id)
        if instance is None:
            raise Conflict("该异常所属的办件已不存在")
        return incident, instance

    @staticmethod
    def _close(
        session: Session,
        incident: Incident,
        actor: Actor,
        status: str,
        resolution: str,
        now: Any,
    ) -> None:
        incident.status, incident.resolution = status, resolution
        incident.resolved_at, incident.resolved_by = now, actor.username
        session.flush()


def _incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"没有编号为 {incident_id} 的异常")
    return incident


def _checked_corrections(corrections: Any) -> dict[str, Any]:
    if corrections is None:
        return {}
    if not isinstance(corrections, dict):
        raise ValidationFailed("更正数据必须是对象", [FieldError("data", "应为键值对")])
    bad = [k for k in corrections if not _DATA_KEY.match(str(k))]
    if bad:
        raise ValidationFailed(
            "字段名不合法",
            [FieldError(f"data.{k}", "字段名须以字母开头，只含字母、数字和 _") for k in bad],
        )
    return corrections
