"""Running workflows: start, restore, complete human tasks, deliver messages, fire timers.
Nothing outside engine.bpmn touches SpiffWorkflow objects; they get the objects of model.py."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from engine import expressions
from engine.clock import Clock

from . import case_data, returns, serialization, timekeeping
from .failures import StepFailure, failure_of
from .model import InstanceStatus, LoadedSpec, PendingTimer, ReadyTask
from .scripting import RestrictedScriptEngine

_GATEWAYS = (ExclusiveGateway, InclusiveGateway, ParallelGateway, EventBasedGateway)


class TaskNotReady(Exception):
    pass


class StepNotSkippable(Exception):
    """A gateway decides where the case goes: it can be retried, not skipped."""


class ProcessRuntime:
    """Builds executions on a clock with the restricted script engine."""

    def __init__(
        self,
        clock: Clock,
        local_timezone: str,
        limits: expressions.Limits | None = None,
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.clock = clock
        timekeeping.install(local_timezone)
        library = {**expressions.default_functions(clock.now), **(functions or {})}
        self.script_engine = RestrictedScriptEngine(library, limits or expressions.Limits())

    def start(self, loaded: LoadedSpec, data: Mapping[str, Any]) -> Execution:
        workflow = BpmnWorkflow(
            loaded.spec, loaded.subprocess_specs, script_engine=self.script_engine
        )
        with timekeeping.running_on(self.clock):
            start = workflow.task_tree
            start.data.update(copy.deepcopy(dict(data)))
        execution = Execution(workflow, self.clock)
        execution.advance()
        return execution

    def restore(self, loaded: LoadedSpec, state_json: str) -> Execution:
        workflow = serialization.load_state(state_json, loaded.spec, loaded.subprocess_specs)
        workflow.script_engine = self.script_engine
        return Execution(workflow, self.clock)


@lru_cache(maxsize=256)
def _restore_spec(version_id: int, spec_json: str, subprocess_specs_json: str) -> tuple[Any, Any]:
    return (
        serialization.load_spec(spec_json),
        serialization.load_subprocess_specs(subprocess_specs_json),
    )


def load_spec(
    version_id: int, process_id: str, spec_json: str, subprocess_specs_json: str
) -> LoadedSpec:
    spec, subs = _restore_spec(version_id, spec_json, subprocess_specs_json)
    return LoadedSpec(version_id, process_id, spec, subs)


class Execution:
    """One instance's workflow in memory for the duration of one command."""

    def __init__(self, workflow: BpmnWorkflow, clock: Clock) -> None:
        self.workflow = workflow
        self.clock = clock
        self.failure: StepFailure | None = None

    @property
    def error(self) -> str | None:
        return self.failure.detail if self.failure else None

    # ---- commands -------------------------------------------------------------------------
    def advance(self) -> None:
        """Run engine steps until only human tasks and events remain, or a step fails: then
        the failure is kept and the case stays exactly as it failed."""
        with timekeeping.running_on(self.clock):
            try:
                self.workflow.refresh_timers()
                self.workflow.do_engine_steps()
                self.failure = None
            except Exception as exc:  # every engine failure becomes an incident, never a crash
                self.failure = failure_of(exc, self._failed_step(exc))

    def complete(self, task_id: str, data: Mapping[str, Any]) -> None:
        task = self._ready_human_task(task_id)
        with timekeeping.running_on(self.clock):
            task.data.update(copy.deepcopy(dict(data)))
            try:
                task.run()
            except Exception as exc:
                self.failure = failure_of(exc, self._failed_step(exc) or task)
                return
        self.advance()

    def return_to(self, task_id: str, element_id: str) -> str:
        """退回: reopen the earlier step `element_id` from the ready human task `task_id`;
        the id of the reopened step's new task. LookupError if the diagram does not allow it."""
        task = self._ready_human_task(task_id)
        with timekeeping.running_on(self.clock):
            reopened = returns.reopen(self.workflow, task, element_id)
        self.advance()
        return reopened

    def retry(self, step_id: str | None, corrections: Mapping[str, Any]) -> None:
        """Run a failed step again, after merging `corrections` into its data. Without a known
        step (a failure outside any task) the engine simply advances again."""
        step = self._step(step_id) if step_id else None
        with timekeeping.running_on(self.clock):
            if step is not None:
                step.data.update(copy.deepcopy(dict(corrections)))
                if step.has_state(TaskState.ERROR):
                    step._set_state(TaskState.READY)
        if step is not None and step.task_spec.manual and step.has_state(TaskState.READY):
            self.failure = None
            return
        self.advance()

    def skip(self, step_id: str) -> None:
        """Mark a failed step done without running it, and go on from there."""
        step = self._step(step_id)
        if isinstance(step.task_spec, _GATEWAYS) or step.task_spec.manual:
            raise StepNotSkippable(step_id)
        if not step.has_state(TaskState.ERROR | TaskState.READY):
            raise TaskNotReady(step_id)
        with timekeeping.running_on(self.clock):
            step._set_state(TaskState.READY)
            step.complete()
        self.advance()

    def deliver_message(self, name: str, payload: Any) -> bool:
        waiting = [
            d
            for _, d in self._waiting_definitions()
            if isinstance(d, MessageEventDefinition) and d.name == name
        ]
        if not waiting:
            return False
        with timekeeping.running_on(self.clock):
            self.workflow.catch(BpmnEvent(waiting[0], copy.deepcopy(payload)))
        self.advance()
        return True

    def fire_due_timers(self) -> None:
        self.advance()

    # ---- queries --------------------------------------------------------------------------
    @property
    def status(self) -> str:
        if self.failure or self._failed_tasks():
            return InstanceStatus.ERROR
        if self.workflow.completed:
            return InstanceStatus.COMPLETED
        return InstanceStatus.RUNNING if self.ready_tasks() else InstanceStatus.WAITING

    def ready_tasks(self) -> list[ReadyTask]:
        return [_ready_task(t) for t in self._tasks(TaskState.READY) if t.task_spec.manual]

    def pending_timers(self) -> list[PendingTimer]:
        timers = []
        for task, definition in self._waiting_definitions():
            if not isinstance(definition, TimerEventDefinition):
                continue
            value = task._get_internal_data("event_value")
            if isinstance(definition, CycleTimerEventDefinition) and isinstance(value, dict):
                value = value.get("next") if value.get("cycles") != 0 else None
            if isinstance(value, str):
                name = definition.name or task.task_spec.bpmn_id
                timers.append(PendingTimer(str(task.id), name, timekeeping.parse_due(value)))
        return timers

    def waiting_messages(self) -> list[str]:
        return sorted(
            {
                d.name
                for _, d in self._waiting_definitions()
                if isinstance(d, MessageEventDefinition)
            }
        )

    def data(self) -> dict[str, Any]:
        """The case data as it stands: the end data once complete, else what has flowed to the
        tasks the case waits at (merged in the order they were reached)."""
        return case_data.frontier_data(self.workflow)

    def dump(self) -> str:
        return serialization.dump_state(self.workflow)

    # ---- internals ------------------------------------------------------------------------
    def _tasks(self, state: int) -> list[Any]:
        return list(BpmnTaskIterator(self.workflow.task_tree, state=state))

    def _waiting_definitions(self) -> Iterator[tuple[Any, Any]]:
        """(task, event definition) for everything the case waits for; the definitions of an
        event-based gateway or a multiple event are listed one by one."""
        for task in self._tasks(TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if isinstance(definition, MultipleEventDefinition):
                for inner in definition.event_definitions:
                    yield task, inner
            elif definition is not None:
                yield task, definition

    def _ready_human_task(self, task_id: str) -> Any:
        for task in self._tasks(TaskState.READY):
            if str(task.id) == task_id and task.task_spec.manual:
                return task
        raise TaskNotReady(task_id)

    def failed_step_ids(self) -> list[str]:
        return [str(t.id) for t in self._failed_tasks()]

    def _failed_tasks(self) -> list[Any]:
        """Failed tasks anywhere, also below a running multi-instance or sub-process (a state
        filter alone does not descend below unfinished tasks)."""
        return [
            t for t in BpmnTaskIterator(self.workflow.task_tree) if t.has_state(TaskState.ERROR)
        ]

    def _step(self, step_id: str) -> Any:
        try:
            step = self.workflow.get_task_from_id(UUID(step_id))
        except (ValueError, KeyError, TaskNotFoundException):
            step = None
        if step is None or step.has_state(TaskState.COMPLETED | TaskState.CANCELLED):
            raise TaskNotReady(step_id)
        return step

    def _failed_step(self, exc: BaseException) -> Any | None:
        step = getattr(exc, "task", None)
        if step is not None:
            return step
        failed = self._failed_tasks()
        return failed[-1] if failed else None

    def called_data(self) -> list[dict[str, Any]]:
        """Every running call activity (nested ones too, outermost first) with the called
        process's data as it stands: {"element_id", "name", "process_id", "data"}."""
        return case_data.running_calls(self.workflow)

    def form_keys(self, process_id: str) -> list[str]:
        """The forms used by the tasks of this case's process or of a process it calls."""
        spec = self.workflow.subprocess_specs.get(process_id)
        if spec is None and process_id == self.workflow.spec.name:
            spec = self.workflow.spec
        return case_data.form_keys(spec) if spec is not None else []


def _ready_task(task: Any) -> ReadyTask:
    spec = task.task_spec
    properties = dict((spec.extensions or {}).get("properties", {}))
    item = (
        task.data.get(task.parent.task_spec.input_item.bpmn_id)
        if _is_instance_of_multi(task)
        else None
    )
    return ReadyTask(
        id=str(task.id),
        spec_id=spec.bpmn_id or spec.name,
        title=spec.bpmn_name or spec.bpmn_id or spec.name,
        process_id=task.workflow.spec.name,
        lane=spec.lane,
        form_key=properties.get("formKey"),
        properties=properties,
        item=item,
        explicit_dept_type=_explicit(
            properties, task.data, item, "dept_types_from", "dept_type_from"
        ),
        explicit_department=_explicit(
            properties, task.data, item, "departments_from", "department_from"
        ),
        return_targets=tuple(returns.available_targets(task)),
    )


def _explicit(
    properties: dict[str, str], data: dict[str, Any], item: Any, per_item: str, from_variable: str
) -> str | None:
    """Routing chosen by data: the loop item of a multi-instance task over department
    (types), or a variable naming one."""
    if properties.get(per_item) and isinstance(item, str):
        return item
    variable = properties.get(from_variable)
    value = data.get(variable) if variable else None
    return value if isinstance(value, str) else None


def _is_instance_of_multi(task: Any) -> bool:
    """A child of a multi-instance task: its data holds the loop item, not case data."""
    parent = task.parent
    return parent is not None and getattr(parent.task_spec, "input_item", None) is not None
