"""What the case page shows: the case view with its data as labelled sections, the timeline of
every action, the finished steps with their opinions, every time limit of the case with its
suspensions and extensions, the processes the case called (四议两公开 decisions) with their
steps and outcome, and how the case ended. Read-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import call_runs, case_outcome
from engine.clock import Clock
from engine.db.tables import (
    HumanTask,
    Instance,
    LegalAcceptance,
    ProcessVersion,
    SlaClock,
    SlaSuspension,
)
from engine.errors import NotFound

from .access import Access
from .actor import Actor
from .case_summary import case_sections, in_words
from .case_timeline import finished_steps, timeline
from .forms import FormRegistry
from .instances import InstanceService
from .sla import SlaService
from .sla_views import acceptance_view, clock_view, suspension_view
from .uow import UnitOfWork

CASE_NOT_FOUND = "未找到该办件，或您无权查看"


def visible_case(access: Access, session: Session, actor: Actor, instance_id: str) -> Instance:
    instance = session.get(Instance, instance_id)
    if instance is None or not access.can_see_instance(session, actor, instance):
        raise NotFound(CASE_NOT_FOUND)
    return instance


def start_form_key(uow: UnitOfWork, case: dict[str, Any]) -> str | None:
    """The start form of the version a case (view) runs on."""
    with uow.read() as session:
        version_id = session.scalar(
            select(ProcessVersion.id).where(
                ProcessVersion.process_id == case["process_id"],
                ProcessVersion.version == case["version"],
            )
        )
        return _start_form_key(session, version_id) if version_id else None


def _start_form_key(session: Session, version_id: int) -> str | None:
    version = session.get(ProcessVersion, version_id)
    properties = (version.metadata_json or {}).get("process_properties", {}) if version else {}
    return properties.get("startFormKey")


class CaseRecordService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        access: Access,
        instances: InstanceService,
        sla: SlaService,
        forms: FormRegistry,
    ) -> None:
        self.forms = forms
        self.uow = uow
        self.clock = clock
        self.access = access
        self.instances = instances
        self.sla = sla

    def page(self, actor: Actor, instance_id: str) -> dict[str, Any]:
        """{"case" (InstanceService.get), "sections" (the case's own forms; those of a called
        process are in its call), "timeline", "steps", "time_limits": {"case", "steps",
        "accepted_by_law"}, "calls" (each with its "steps", "open" tasks, "sections" and, while
        it runs, its "current" data), "outcome"}"""
        try:
            case = self.instances.get(actor, instance_id)
        except NotFound:
            raise NotFound(CASE_NOT_FOUND) from None
        with self.uow.read() as session:
            instance = visible_case(self.access, session, actor, instance_id)
            execution = self.instances.restore(session, instance) if instance.state_json else None
            start_form = _start_form_key(session, instance.process_version_id)
            record: dict[str, Any] = {
                "time_limits": self._time_limits(session, instance),
                "calls": self._calls(session, execution) if execution else [],
                "outcome": list(case_outcome(execution)) if execution else [],
            }
        sections = case_sections(case, self.forms, start_form)
        steps = finished_steps(self.forms, case)
        for call in record["calls"]:
            _with_steps(call, case, steps, sections)
            call["current"] = [] if call["finished"] else _current_data(case, call)
        in_calls = {id(s) for call in record["calls"] for s in call["sections"]}
        return {
            "case": case,
            "sections": [s for s in sections if id(s) not in in_calls],
            "timeline": timeline(self.forms, case),
            "steps": steps,
            **record,
        }

    def _time_limits(self, session: Session, instance: Instance) -> dict[str, Any]:
        """The case-wide clocks, and per step its clocks with every suspension (listed once per
        step: a step's clocks pause together) and any extension."""
        clocks = list(
            session.scalars(
                select(SlaClock).where(SlaClock.instance_id == instance.id).order_by(SlaClock.id)
            )
        )
        suspensions: dict[int, list[SlaSuspension]] = {}
        for row in session.scalars(
            select(SlaSuspension)
            .where(SlaSuspension.clock_id.in_([c.id for c in clocks]))
            .order_by(SlaSuspension.id)
        ):
            suspensions.setdefault(row.clock_id, []).append(row)
        calendar = self.sla.keeper.calendar_in(session)
        now, zone = self.clock.now(), self.sla.zone
        tasks = {
            t.id: t
            for t in session.scalars(
                select(HumanTask).where(HumanTask.id.in_({c.task_id for c in clocks if c.task_id}))
            )
        }
        steps: dict[str, dict[str, Any]] = {}
        case_clocks = []
        for clock in clocks:
            view = clock_view(clock, calendar, now, zone)
            if clock.task_id is None:
                case_clocks.append(view)
                continue
            task = tasks.get(clock.task_id)
            step = steps.setdefault(
                clock.task_id,
                {
                    "task_id": clock.task_id,
                    "title": task.title if task else "",
                    "department": clock.department or (task.department if task else None),
                    "state": task.state if task else None,
                    "clocks": [],
                    "suspensions": {},
                },
            )
            step["clocks"].append(view)
            for row in suspensions.get(clock.id, []):
                step["suspensions"].setdefault(
                    (row.reason_type, row.started_at), suspension_view(row)
                )
        for step in steps.values():
            step["suspensions"] = list(step["suspensions"].values())
        return {
            "case": case_clocks,
            "steps": list(steps.values()),
            "accepted_by_law": acceptance_view(session.get(LegalAcceptance, instance.id)),
        }

    @staticmethod
    def _calls(session: Session, execution: Any) -> list[dict[str, Any]]:
        """Each call of another process with its steps (task rows, in the order they opened)."""
        runs = call_runs(execution)
        ids = {task_id for run in runs for task_id in run.task_ids}
        tasks = {t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.id.in_(ids)))}
        calls = []
        for run in runs:
            rows = sorted(
                (tasks[i] for i in run.task_ids if i in tasks),
                key=lambda t: (t.created_at, t.completed_at or t.created_at),
            )
            calls.append(
                {
                    "element_id": run.element_id,
                    "name": run.name,
                    "process_id": run.process_id,
                    "finished": run.finished,
                    "outcome": list(run.outcome),
                    "task_ids": [t.id for t in rows],
                }
            )
        return calls


def _with_steps(
    call: dict[str, Any], case: dict[str, Any], steps: list[dict[str, Any]], sections: list
) -> None:
    """A call's finished steps, its open ones, and the data its forms collected."""
    ids = set(call["task_ids"])
    call["steps"] = [s for s in steps if s["task_id"] in ids]
    call["open"] = [t for t in case["tasks"] if t["id"] in ids and t["state"] == "open"]
    mine = {(t["title"], t["department"]) for t in case["tasks"] if t["id"] in ids}
    call["sections"] = [s for s in sections if s.step and (s.step, s.department) in mine]


def _current_data(case: dict[str, Any], call: dict[str, Any]) -> list[tuple[str, str]]:
    """A running call's data as it stands, labelled by its forms; what the case already holds
    and values no form names (a script's variables) are left out."""
    running: dict[str, Any] = next(
        (c for c in case.get("called", []) if c["element_id"] == call["element_id"]), {}
    )
    labels, data = running.get("labels") or {}, running.get("data") or {}
    return [
        (labels[key], in_words({}, value))
        for key, value in data.items()
        if key in labels and case["data"].get(key) != value and in_words({}, value)
    ]
