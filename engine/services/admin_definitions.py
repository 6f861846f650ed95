"""Deployments and versions for the admin console: each process with its versions (who deployed
them, when, from which file) and the cases on each version by status; one version's diagram;
the names of a process's steps; deploying uploaded files. Administrators only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from engine.clock import Clock
from engine.db.tables import Deployment, HumanTask, Instance, ProcessVersion
from engine.errors import NotFound

from .access import Access
from .actor import Actor
from .case_diagram import version_xml
from .dashboard_diagrams import step_names
from .definitions import DefinitionService
from .recorder import TaskState
from .sla_views import iso
from .uow import UnitOfWork

# how the console counts cases: in progress (running, waiting), completed, ended, in error
CASE_GROUPS = {
    "running": "running",
    "waiting": "running",
    "completed": "completed",
    "terminated": "terminated",
    "error": "error",
}
CONSOLE_SOURCE = "console"


class DefinitionOverview:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, access: Access, definitions: DefinitionService
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.definitions = definitions

    def processes(self, actor: Actor) -> list[dict[str, Any]]:
        """Per process (by name of its newest version): its versions, newest first, each with
        deployment and case counts."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            versions = session.execute(
                select(ProcessVersion, Deployment.deployed_by, Deployment.source)
                .join(Deployment, Deployment.id == ProcessVersion.deployment_id)
                .order_by(ProcessVersion.process_id, ProcessVersion.version.desc())
            ).all()
            counts: dict[int, dict[str, int]] = {}
            for version_id, status, n in session.execute(
                select(Instance.process_version_id, Instance.status, func.count()).group_by(
                    Instance.process_version_id, Instance.status
                )
            ):
                group = CASE_GROUPS.get(status, status)
                bucket = counts.setdefault(version_id, {g: 0 for g in set(CASE_GROUPS.values())})
                bucket[group] = bucket.get(group, 0) + n
        processes: dict[str, dict[str, Any]] = {}
        for version, deployed_by, source in versions:
            entry = processes.setdefault(
                version.process_id,
                {"process_id": version.process_id, "name": version.name, "versions": []},
            )
            entry["versions"].append(
                {
                    "version": version.version,
                    "name": version.name,
                    "file_name": version.file_name,
                    "deployed_at": iso(version.deployed_at),
                    "deployed_by": deployed_by,
                    "source": source,
                    "cases": counts.get(version.id, {g: 0 for g in set(CASE_GROUPS.values())}),
                }
            )
        return sorted(processes.values(), key=lambda p: p["name"])

    def version_diagram(self, actor: Actor, process_id: str, version: int) -> dict[str, Any]:
        """The version's BPMN XML, and the steps where its cases are waiting now (as the case
        diagram's "active" elements)."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            row = _version(session, process_id, version)
            waiting = session.execute(
                select(HumanTask.task_spec, func.count())
                .join(Instance, Instance.id == HumanTask.instance_id)
                .where(
                    Instance.process_version_id == row.id,
                    HumanTask.process_id == row.process_id,
                    HumanTask.state == TaskState.OPEN,
                )
                .group_by(HumanTask.task_spec)
            ).all()
            xml = version_xml(session, row)
            names = step_names(xml, row.process_id)
            return {
                "process_id": row.process_id,
                "version": row.version,
                "name": row.name,
                "xml": xml,
                "elements": [
                    {
                        "id": spec,
                        "name": names.get(spec, spec),
                        "state": "active",
                        "departments": [],
                        "open_tasks": n,
                    }
                    for spec, n in sorted(waiting)
                ],
            }

    def step_names(self, actor: Actor, process_id: str) -> dict[str, str]:
        """The user tasks of the process's newest version: id → name."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            row = session.scalars(
                select(ProcessVersion)
                .where(ProcessVersion.process_id == process_id)
                .order_by(ProcessVersion.version.desc())
                .limit(1)
            ).first()
            return step_names(version_xml(session, row), process_id) if row is not None else {}

    def deploy(self, actor: Actor, files: Mapping[str, bytes]) -> dict[str, Any]:
        """Deploy uploaded .bpmn/.dmn files; DefinitionInvalid lists what is wrong, where."""
        self.access.require_admin(actor)
        return self.definitions.deploy(files, actor, source=CONSOLE_SOURCE).as_dict()


def _version(session, process_id: str, version: int) -> ProcessVersion:
    row = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_id == process_id, ProcessVersion.version == version
        )
    )
    if row is None:
        raise NotFound(f"流程 {process_id} 没有第 {version} 版")
    return row
