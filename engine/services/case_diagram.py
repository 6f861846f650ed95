"""A case's diagram for the case page: the BPMN XML of the version the case runs on, and where
the case stands on it (done / active / overdue / failed elements, the departments at the
active steps). Whoever may see the case may see its diagram; others get 404."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import element_states
from engine.clock import Clock
from engine.db.tables import DefinitionFile, HumanTask, Incident, Instance, ProcessVersion
from engine.domain.sla import ClockState

from .access import Access
from .actor import Actor
from .case_record import visible_case
from .instances import InstanceService
from .names import NameBook
from .recorder import IncidentStatus, TaskState
from .uow import UnitOfWork

DONE, ACTIVE, OVERDUE, FAILED = "done", "active", "overdue", "failed"
_OVERDUE_CLOCKS = {ClockState.RED, ClockState.MISSED}


class CaseDiagramService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        access: Access,
        instances: InstanceService,
        names: NameBook,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.instances = instances
        self.names = names

    def diagram(self, actor: Actor, instance_id: str) -> dict[str, Any]:
        """{"process_id", "version", "xml", "elements": [{"id", "state", "departments":
        [{"code", "name"}]}]}: element states are those of the case's own process."""
        with self.uow.read() as session:
            instance = visible_case(self.access, session, actor, instance_id)
            version = session.get_one(ProcessVersion, instance.process_version_id)
            states = self._states(session, instance)
            departments = self._departments_at_open_steps(session, instance)
            return {
                "process_id": instance.process_id,
                "version": instance.version,
                "xml": version_xml(session, version),
                "elements": [
                    {
                        "id": element,
                        "state": state,
                        "departments": [
                            {"code": code, "name": self.names.department(code)}
                            for code in departments.get(element, [])
                        ],
                    }
                    for element, state in sorted(states.items())
                ],
            }

    def _states(self, session: Session, instance: Instance) -> dict[str, str]:
        states: dict[str, str] = {}
        if instance.state_json:
            states.update(element_states(self.instances.restore(session, instance)))
        for task in _open_steps(session, instance):
            if task.sla_state in _OVERDUE_CLOCKS and states.get(task.task_spec) == ACTIVE:
                states[task.task_spec] = OVERDUE
        for element in session.scalars(
            select(Incident.element_id).where(
                Incident.instance_id == instance.id,
                Incident.status == IncidentStatus.OPEN,
                Incident.process_id == instance.process_id,
            )
        ):
            if element:
                states[element] = FAILED
        return states

    @staticmethod
    def _departments_at_open_steps(session: Session, instance: Instance) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for task in _open_steps(session, instance):
            codes = found.setdefault(task.task_spec, [])
            if task.department and task.department not in codes:
                codes.append(task.department)
        return found


def _open_steps(session: Session, instance: Instance) -> list[HumanTask]:
    """Open tasks on the case's own diagram (not those of a process it calls)."""
    return list(
        session.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == instance.id,
                HumanTask.state == TaskState.OPEN,
                HumanTask.process_id == instance.process_id,
            )
            .order_by(HumanTask.created_at, HumanTask.id)
        )
    )


def version_xml(session: Session, version: ProcessVersion) -> str:
    """The file as it was deployed with this version (a later deployment may have changed it)."""
    row = session.scalars(
        select(DefinitionFile)
        .where(
            DefinitionFile.file_name == version.file_name,
            DefinitionFile.deployment_id <= version.deployment_id,
        )
        .order_by(DefinitionFile.id.desc())
        .limit(1)
    ).first()
    return row.content if row is not None else ""
