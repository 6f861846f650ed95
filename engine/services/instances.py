"""Starting cases and reading them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from engine.bpmn import Execution, InstanceStatus, LoadedSpec, ProcessRuntime
from engine.bpmn.waits import SpecWaits, waits_of
from engine.clock import Clock
from engine.db.tables import (
    Comment,
    HistoryEntry,
    HumanTask,
    Incident,
    Instance,
    ProcessVersion,
    Region,
)
from engine.errors import BadRequest, Conflict, FieldError, NotFound, ValidationFailed

from .access import Access
from .actor import Actor
from .called_processes import called_processes
from .case_naming import CaseNaming
from .case_notices import announce
from .definitions import DefinitionService
from .forms import FormRegistry
from .notify.outbox import Outbox
from .recorder import Recorded, cancel_instance_jobs, record_execution, record_history
from .search import refresh_search_text
from .sla import SlaService
from .uow import UnitOfWork
from .views import history_view, incident_view, instance_view, task_view

_REGION = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")
_DATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,119}$")


class InstanceService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        runtime: ProcessRuntime,
        access: Access,
        sla: SlaService,
        forms: FormRegistry,
        naming: CaseNaming,
        *,
        outbox: Outbox,
    ) -> None:
        self.outbox = outbox
        # called after every save, in its transaction: (session, instance, actor, now)
        self.listeners: list[Callable[[Session, Instance, Actor, datetime], None]] = []
        self.naming = naming
        self.forms = forms
        self.uow = uow
        self.clock = clock
        self.runtime = runtime
        self.access = access
        self.sla = sla

    def start(
        self,
        actor: Actor,
        process_id: str,
        region: str,
        business_key: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        data = data or {}
        _check_start_input(region, business_key, data)
        with self.uow.write() as session:
            region_row = session.get(Region, region)
            if region_row is None:
                raise ValidationFailed(
                    "启动参数无效", [FieldError("region", f"区划不存在：{region}")]
                )
            self.access.check_can_start(session, actor, process_id, region_row)
            if business_key and session.scalar(
                select(Instance.id).where(
                    Instance.process_id == process_id,
                    Instance.business_key == business_key,
                    Instance.status.in_(InstanceStatus.ACTIVE),
                )
            ):
                raise Conflict(f"业务编号“{business_key}”已有一件正在办理的同类办件，不能重复发起")
            version = DefinitionService.latest(session, process_id)
            start_form = version.metadata_json.get("process_properties", {}).get("startFormKey")
            if start_form:
                data = self.forms.validate(start_form, data)
            instance = self.start_in(
                session, actor, version, region_row, business_key, data, self.clock.now()
            )
            return self._view(session, instance)

    def start_in(
        self,
        session: Session,
        actor: Actor,
        version: ProcessVersion,
        region: Region,
        business_key: str | None,
        data: dict[str, Any],
        now: datetime,
        **history: Any,
    ) -> Instance:
        """Start a case of `version` inside the caller's transaction (checks are the caller's):
        number it, record it, start its overall clock, run it to its first wait, name it and
        announce its tasks. `history` adds details to its 发起办件 entry."""
        loaded, waits = loaded_spec(version)
        execution = self.runtime.start(
            loaded, {**data, "region": region.code, "business_key": business_key}
        )
        instance = Instance(
            id=str(uuid.uuid4()),
            process_version_id=version.id,
            process_id=version.process_id,
            version=version.version,
            region=region.code,
            region_path=region.path,
            business_key=business_key,
            status=InstanceStatus.RUNNING,
            data={},
            state_json="",
            error=None,
            started_by=actor.username,
            created_at=now,
            updated_at=now,
        )
        session.add(instance)
        instance.case_no = self.naming.next_number(
            session, version.process_id, version.name, now.astimezone(self.sla.zone).year
        )
        session.flush()
        record_history(
            session,
            instance.id,
            now,
            actor,
            "instance_started",
            process_id=version.process_id,
            version=version.version,
            data=data,
            **history,
        )
        overall = version.metadata_json.get("process_properties", {}).get("sla_overall")
        if overall:
            self.sla.start_case_clock(session, instance, overall, now)
        recorded = record_execution(
            session,
            instance,
            execution,
            actor,
            now,
            version.metadata_json["lanes"],
            self.sla,
            waits,
        )
        self._name(session, instance, version)
        session.flush()
        announce(self.outbox, session, instance, recorded, actor, now)
        return instance

    def get(self, actor: Actor, instance_id: str) -> dict[str, Any]:
        with self.uow.read() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or not self.access.can_see_instance(session, actor, instance):
                raise NotFound(f"没有编号为“{instance_id}”的办件")
            return self._view(session, instance)

    def list(
        self,
        actor: Actor,
        process_id: str | None = None,
        status: str | None = None,
        business_key: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        with self.uow.read() as session:
            query = self.access.visible_instances(session, actor)
            if process_id:
                query = query.where(Instance.process_id == process_id)
            if status:
                query = query.where(Instance.status == status)
            if business_key:
                query = query.where(Instance.business_key == business_key)
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(
                query.order_by(Instance.created_at.desc()).limit(limit).offset(offset)
            ).all()
            return {"items": [instance_view(r) for r in rows], "total": total}

    def terminate(self, actor: Actor, instance_id: str, reason: str) -> dict[str, Any]:
        with self.uow.write() as session:
            instance = self.access.instance_for_admin(session, actor, instance_id)
            if instance.status not in InstanceStatus.ACTIVE:
                raise Conflict("办件已经结束，不能再终止")
            now = self.clock.now()
            for task in session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == instance.id, HumanTask.state == "open"
                )
            ):
                task.state, task.completed_at = "cancelled", now
                record_history(
                    session,
                    instance.id,
                    now,
                    actor,
                    "task_cancelled",
                    task_id=task.id,
                    task=task.task_spec,
                )
            instance.status, instance.ended_at, instance.updated_at = (
                InstanceStatus.TERMINATED,
                now,
                now,
            )
            cancel_instance_jobs(session, instance.id)
            for incident in session.scalars(
                select(Incident).where(
                    Incident.instance_id == instance.id, Incident.status == "open"
                )
            ):
                incident.status, incident.resolution = "cancelled", "case_terminated"
                incident.resolved_at, incident.resolved_by = now, actor.username
            self.sla.stop_case_clocks(session, instance.id, now, completed=False)
            record_history(session, instance.id, now, actor, "instance_terminated", reason=reason)
            return self._view(session, instance)

    # ---- helpers shared by the other services -------------------------------------------
    def restore(self, session: Session, instance: Instance) -> Execution:
        loaded, _ = loaded_spec(version_row(session, instance.process_version_id))
        session.info.setdefault(_RESTORED, {})[instance.id] = instance.process_version_id
        return self.runtime.restore(loaded, instance.state_json)

    def save(
        self,
        session: Session,
        instance: Instance,
        execution: Execution,
        actor: Actor,
        quiet: Collection[str] = (),
    ) -> Recorded:
        """Record the execution, name the case, and tell people what changed (but of the
        `quiet` tasks, which the caller announces itself)."""
        version = version_row(session, instance.process_version_id)
        restored = session.info.get(_RESTORED, {}).get(instance.id)
        # a case moved to another version syncs every kind of wait its old version had
        waits = loaded_spec(version)[1] if restored == version.id else None
        now = self.clock.now()
        recorded = record_execution(
            session,
            instance,
            execution,
            actor,
            now,
            version.metadata_json["lanes"],
            self.sla,
            waits,
        )
        self._name(session, instance, version)
        session.flush()
        announce(self.outbox, session, instance, recorded, actor, now, quiet)
        for listener in self.listeners:
            listener(session, instance, actor, now)
        return recorded

    def _name(self, session: Session, instance: Instance, version: ProcessVersion) -> None:
        """The matter the case is about, as far as its data tells so far."""
        region = session.get(Region, instance.region)
        data = instance.data or {}
        instance.title = self.naming.title(
            instance.process_id, version.name, data, region.name if region else instance.region
        )
        instance.applicant = self.naming.applicant(instance.process_id, data)
        refresh_search_text(session, instance)

    def _view(self, session: Session, instance: Instance) -> dict[str, Any]:
        tasks = session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance.id)
            .order_by(HumanTask.created_at, HumanTask.id)
        ).all()
        history = session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.instance_id == instance.id)
            .order_by(HistoryEntry.id)
        ).all()
        comments = session.scalars(
            select(Comment).where(Comment.instance_id == instance.id).order_by(Comment.id)
        ).all()
        view = instance_view(instance)
        view["incidents"] = [
            incident_view(i, technical=False)
            for i in session.scalars(
                select(Incident)
                .where(Incident.instance_id == instance.id, Incident.status == "open")
                .order_by(Incident.id)
            )
        ]
        view["tasks"] = [task_view(t) for t in tasks]
        view["history"] = [history_view(h) for h in history]
        view["comments"] = [
            {"task_id": c.task_id, "author": c.author, "at": c.at.isoformat(), "text": c.text}
            for c in comments
        ]
        view["called"] = called_processes(session, instance, self.restore, self.forms)
        return view


_RESTORED = "landflow.restored_versions"
_HELD = "landflow.versions"
_SPECS: dict[tuple[int, str], tuple[LoadedSpec, SpecWaits]] = {}


def version_row(session: Session, version_id: int) -> ProcessVersion:
    """A version row for this transaction, read once and without its spec texts (the restored
    spec is kept in memory by loaded_spec)."""
    held = session.info.setdefault(_HELD, {})
    row = held.get(version_id)
    if row is None:
        row = session.get(
            ProcessVersion,
            version_id,
            options=[defer(ProcessVersion.spec_json), defer(ProcessVersion.subprocess_specs_json)],
        )
        held[version_id] = row
    return row


def loaded_spec(version: ProcessVersion) -> tuple[LoadedSpec, SpecWaits]:
    """The version's restored spec and what it can wait for, once per process; keyed by the
    spec's hash too, so that another database's version of the same id never matches."""
    key = (version.id, version.spec_hash)
    found = _SPECS.get(key)
    if found is None:
        if len(_SPECS) > 512:
            _SPECS.clear()
        loaded = DefinitionService.loaded(version)
        found = _SPECS[key] = (loaded, waits_of(loaded))
    return found


def _check_start_input(region: str, business_key: str | None, data: Any) -> None:
    errors = []
    if not isinstance(region, str) or not _REGION.match(region):
        errors.append(FieldError("region", "区划代码应为 6、9 或 12 位数字"))
    if business_key is not None and (not business_key.strip() or len(business_key) > 120):
        errors.append(FieldError("business_key", "业务编号不能为空且不超过 120 个字符"))
    if not isinstance(data, dict):
        raise BadRequest("办件数据应为对象（键值对）")
    errors.extend(
        FieldError(f"data.{k}", "字段名不合法") for k in data if not _DATA_KEY.match(str(k))
    )
    if errors:
        raise ValidationFailed("启动参数无效", errors)
