"""Migrating running cases to another version of their process (administrators only).

Cases stay on the version they started on. An administrator first asks for a dry run — which
cases would move, where they would then wait, and which cannot move and why — then migrates:
each case in its own transaction (one failing case changes nothing of the others), recorded on
the case ("迁移到第 N 版"). Elements keep their id across versions unless the request maps an
old id to a new one (a renamed step). How the state is moved: engine/bpmn/migration.py."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn import (
    Execution,
    InstanceStatus,
    LoadedSpec,
    MigrationBlocker,
    check_migration,
    migrate_execution,
    target_element_ids,
)
from engine.clock import Clock
from engine.db.tables import HumanTask, Incident, Instance, ProcessVersion
from engine.errors import FieldError, LandflowError, NotFound, ValidationFailed

from .access import Access
from .actor import Actor
from .definitions import DefinitionService
from .instances import InstanceService
from .recorder import TaskState, record_history
from .routing import route
from .uow import UnitOfWork

MAX_INSTANCES = 5000  # one request; a larger backlog is migrated in several requests


@dataclass(frozen=True)
class MigrationRequest:
    target_version: int
    mapping: Mapping[str, str] = field(default_factory=dict)  # old element id → new element id
    source_version: int | None = None  # only the cases of this version
    instance_ids: tuple[str, ...] | None = None  # only these cases


class MigrationService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, instances: InstanceService, access: Access
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.instances = instances
        self.access = access

    def versions(self, actor: Actor, process_id: str) -> dict[str, Any]:
        """The versions of a process with how many cases are running on each."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            rows = session.scalars(
                select(ProcessVersion)
                .where(ProcessVersion.process_id == process_id)
                .order_by(ProcessVersion.version.desc())
            ).all()
            if not rows:
                raise NotFound(f"没有流程“{process_id}”")
            counts = dict(
                session.execute(
                    select(Instance.process_version_id, func.count())
                    .where(
                        Instance.process_id == process_id,
                        Instance.status.in_(InstanceStatus.ACTIVE),
                    )
                    .group_by(Instance.process_version_id)
                ).all()
            )
            return {
                "process_id": process_id,
                "versions": [
                    {
                        "version": r.version,
                        "deployed_at": r.deployed_at.isoformat(),
                        "active_cases": counts.get(r.id, 0),
                    }
                    for r in rows
                ],
            }

    def dry_run(self, actor: Actor, process_id: str, request: MigrationRequest) -> dict[str, Any]:
        """Which cases would move (and where they would wait) and which cannot, with why.
        Changes nothing."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            target = self._target(session, process_id, request)
            loaded = DefinitionService.loaded(target)
            movable: list[dict[str, Any]] = []
            blocked: list[dict[str, Any]] = []
            for instance in self._candidates(session, process_id, target, request, blocked):
                blockers, waiting = self._assess(
                    session, instance, loaded, request.mapping, target.version
                )
                if blockers:
                    blocked.append(_case(instance) | {"reasons": [b.as_dict() for b in blockers]})
                else:
                    movable.append(_case(instance) | {"waiting_at": waiting})
            return {
                "process_id": process_id,
                "target_version": target.version,
                "movable": movable,
                "blocked": blocked,
                "counts": {
                    "total": len(movable) + len(blocked),
                    "movable": len(movable),
                    "blocked": len(blocked),
                },
            }

    def migrate(self, actor: Actor, process_id: str, request: MigrationRequest) -> dict[str, Any]:
        """Move every case that can move, each in its own transaction; the others are listed
        as in the dry run, and a case that failed while moving is listed with the reason."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            target = self._target(session, process_id, request)
            blocked: list[dict[str, Any]] = []
            ids = [i.id for i in self._candidates(session, process_id, target, request, blocked)]
        loaded = DefinitionService.loaded(target)
        migrated: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for instance_id in ids:
            try:
                outcome = self._migrate_one(actor, instance_id, target, loaded, request.mapping)
            except LandflowError as exc:
                failed.append({"instance_id": instance_id, "reason": exc.message})
                continue
            except Exception as exc:  # one case's failure must not stop the others
                failed.append({"instance_id": instance_id, "reason": f"迁移失败：{exc}"})
                continue
            (migrated if "waiting_at" in outcome else blocked).append(outcome)
        return {
            "process_id": process_id,
            "target_version": target.version,
            "migrated": migrated,
            "blocked": blocked,
            "failed": failed,
            "counts": {
                "total": len(migrated) + len(blocked) + len(failed),
                "migrated": len(migrated),
                "blocked": len(blocked),
                "failed": len(failed),
            },
        }

    # ---- one case -----------------------------------------------------------------------
    def _migrate_one(
        self,
        actor: Actor,
        instance_id: str,
        target: ProcessVersion,
        loaded: LoadedSpec,
        mapping: Mapping[str, str],
    ) -> dict[str, Any]:
        with self.uow.write() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.status not in InstanceStatus.ACTIVE:
                raise NotFound("办件不存在或已结束")
            blockers, waiting = self._assess(session, instance, loaded, mapping, target.version)
            if blockers:
                return _case(instance) | {"reasons": [b.as_dict() for b in blockers]}
            execution = self.instances.restore(session, instance)
            moved = migrate_execution(execution, loaded, mapping, self.instances.runtime.restore)
            from_version = instance.version
            instance.process_version_id, instance.version = target.id, target.version
            now = self.clock.now()
            self._refresh_open_tasks(session, instance, moved, target, actor)
            self.instances.save(session, instance, moved, actor)
            record_history(
                session,
                instance.id,
                now,
                actor,
                "instance_migrated",
                from_version=from_version,
                to_version=target.version,
                mapping=dict(mapping),
                reason=f"迁移到第 {target.version} 版（原第 {from_version} 版）",
            )
            return _case(instance) | {"from_version": from_version, "waiting_at": waiting}

    def _assess(
        self,
        session: Session,
        instance: Instance,
        loaded: LoadedSpec,
        mapping: Mapping[str, str],
        version: int,
    ) -> tuple[list[MigrationBlocker], list[dict[str, str]]]:
        """Why the case cannot move (nothing if it can), and where it would wait on the
        target."""
        if instance.status == InstanceStatus.ERROR:
            incident = session.scalar(
                select(Incident).where(
                    Incident.instance_id == instance.id, Incident.status == "open"
                )
            )
            reason = "办件处于异常状态，请先在“异常”中处理后再迁移"
            element = (
                (incident.element_id or "", incident.element_name or "") if incident else ("", "")
            )
            return [MigrationBlocker(*element, reason)], []
        try:
            execution = self.instances.restore(session, instance)
        except Exception as exc:
            return [MigrationBlocker("", "", f"办件的运行状态无法读取：{exc}")], []
        checked = check_migration(execution, loaded, mapping, f"第 {version} 版")
        return checked.blockers, checked.waiting_at

    def _refresh_open_tasks(
        self,
        session: Session,
        instance: Instance,
        moved: Execution,
        target: ProcessVersion,
        actor: Actor,
    ) -> None:
        """Open tasks keep their id; their step, form and properties now come from the target
        version, and a step the target routes elsewhere goes to that department."""
        ready = {t.id: t for t in moved.ready_tasks()}
        rows = session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance.id, HumanTask.state == TaskState.OPEN
            )
        ).all()
        lanes = target.metadata_json["lanes"]
        for row in rows:
            task = ready.get(row.id)
            if task is None:
                continue
            properties = dict(task.properties)
            if task.item is not None:
                properties["item"] = json.loads(json.dumps(task.item, default=str))
            row.task_spec, row.title, row.lane = task.spec_id, task.title, task.lane
            row.form_key, row.properties = task.form_key, properties
            row.return_targets = list(task.return_targets)
            where, department = route(session, instance.region_path, lanes, task)
            if department == row.department:
                continue
            row.department, row.route_dept_type = department, where.dept_type
            row.route_region, row.route_problem = where.region, where.problem
            row.assignee = row.owner = row.delegation = None
            row.claimed_at = None
            record_history(
                session,
                instance.id,
                self.clock.now(),
                actor,
                "task_rerouted",
                task_id=row.id,
                department=department,
                reason="迁移后按新版本派发",
            )

    # ---- selection ----------------------------------------------------------------------
    def _target(
        self, session: Session, process_id: str, request: MigrationRequest
    ) -> ProcessVersion:
        target = session.scalar(
            select(ProcessVersion).where(
                ProcessVersion.process_id == process_id,
                ProcessVersion.version == request.target_version,
            )
        )
        if target is None:
            raise NotFound(f"流程“{process_id}”没有第 {request.target_version} 版")
        known = target_element_ids(DefinitionService.loaded(target))
        errors = [
            FieldError(f"mapping.{old}", f"第 {target.version} 版中没有元素“{new}”")
            for old, new in request.mapping.items()
            if new not in known
        ]
        if errors:
            raise ValidationFailed("迁移映射无效", errors)
        return target

    def _candidates(
        self,
        session: Session,
        process_id: str,
        target: ProcessVersion,
        request: MigrationRequest,
        blocked: list[dict[str, Any]],
    ) -> list[Instance]:
        query = select(Instance).where(
            Instance.process_id == process_id,
            Instance.status.in_(InstanceStatus.ACTIVE),
            Instance.process_version_id != target.id,
        )
        if request.source_version is not None:
            query = query.where(Instance.version == request.source_version)
        if request.instance_ids is not None:
            query = query.where(Instance.id.in_(request.instance_ids))
        found = session.scalars(
            query.order_by(Instance.created_at, Instance.id).limit(MAX_INSTANCES)
        ).all()
        for missing in sorted(set(request.instance_ids or ()) - {i.id for i in found}):
            reason = f"不是流程“{process_id}”进行中的办件，或已在第 {target.version} 版"
            blocked.append(
                {"instance_id": missing, "reasons": [MigrationBlocker("", "", reason).as_dict()]}
            )
        return list(found)


def _case(instance: Instance) -> dict[str, Any]:
    return {
        "instance_id": instance.id,
        "case_no": instance.case_no,
        "title": instance.title,
        "version": instance.version,
        "status": instance.status,
    }
