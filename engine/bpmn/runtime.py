"""Running workflows: start, restore, complete human tasks, deliver messages, fire timers.
Nothing outside engine.bpmn touches SpiffWorkflow objects; they get the objects of model.py."""

from __future__ import annotations

import copy
import dataclasses
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

from . import budgets as budgeting
from . import case_data, returns, serialization, timekeeping
from .budgets import BudgetExceeded, Budgets
from .failures import StepFailure, failure_of
from .model import InstanceStatus, LoadedSpec, PendingTimer, ReadyTask
from .scripting import RestrictedScriptEngine

# internal data of a step that failed without SpiffWorkflow's error state (a timer that could not
# be set, a multi-instance task that could not start): the case is in error until it is retried
_FAILED_MARK = "landflow_failed"
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
        budgets: Budgets | None = None,
    ) -> None:
        self.clock = clock
        self.budgets = budgets or Budgets()
        timekeeping.install(local_timezone)
        budgeting.install()
        library = {**expressions.default_functions(clock.now), **(functions or {})}
        self.script_engine = RestrictedScriptEngine(
            library, limits or expressions.Limits(), self.budgets, clock.now
        )

    def start(self, loaded: LoadedSpec, data: Mapping[str, Any]) -> Execution:
        workflow = BpmnWorkflow(
            loaded.spec, loaded.subprocess_specs, script_engine=self.script_engine
        )
        with timekeeping.running_on(self.clock):
            start = workflow.task_tree
            start.data.update(copy.deepcopy(dict(data)))
        execution = Execution(workflow, self.clock, self.budgets)
        execution.advance()
        return execution

    def restore(self, loaded: LoadedSpec, state_json: str) -> Execution:
        workflow = serialization.load_state(state_json, loaded.spec, loaded.subprocess_specs)
        workflow.script_engine = self.script_engine
        return Execution(workflow, self.clock, self.budgets, state_json)


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

    def __init__(
        self,
        workflow: BpmnWorkflow,
        clock: Clock,
        budgets: Budgets | None = None,
        state_json: str | None = None,
    ) -> None:
        self.workflow = workflow
        self.clock = clock
        self.budgets = budgets or Budgets()
        self.failure: StepFailure | None = None
        # the state before this command, to go back to when a command cannot be kept
        self._before = state_json if state_json is not None else self._dump_or_none()
        self._state: str | None = None  # the state after the command, once checked

    @property
    def error(self) -> str | None:
        return self.failure.detail if self.failure else None

    # ---- commands -------------------------------------------------------------------------
    def advance(self) -> None:
        """Run engine steps until only human tasks and events remain, or a step fails: then
        the failure is kept and the case stays exactly as it failed."""
        if self._guarded(self._run_engine_steps):
            self.failure = None
        self._settle()

    def complete(self, task_id: str, data: Mapping[str, Any]) -> None:
        task = self._ready_human_task(task_id)

        def run() -> None:
            task.data.update(copy.deepcopy(dict(data)))
            task.run()

        if self._guarded(run, task):
            self.advance()
        else:
            self._settle()

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

        def reset() -> None:
            assert step is not None  # only ever run for a known step (see below)
            if step.internal_data.pop(_FAILED_MARK, None) or step.has_state(TaskState.ERROR):
                # a timer keeps the value it computed from the data that failed: compute it again
                step.internal_data.pop("event_value", None)
            if step.has_state(TaskState.FUTURE | TaskState.PREDICTED_MASK) and _finished(
                step.parent
            ):
                # it failed while being reached, before it had data of its own: it inherits the
                # data of the step before it, so the corrections go there, and it is reached again
                step.parent.data.update(copy.deepcopy(dict(corrections)))
                step.task_spec._update(step)
                return
            step.data.update(copy.deepcopy(dict(corrections)))
            if step.has_state(TaskState.ERROR):
                step._set_state(TaskState.READY)

        if step is not None and not self._guarded(reset, step):
            self._settle()
            return
        if step is None:
            self.workflow.task_tree.internal_data.pop(_FAILED_MARK, None)
        if step is not None and step.task_spec.manual and step.has_state(TaskState.READY):
            self.failure = None
            self._settle()
            return
        self.advance()

    def skip(self, step_id: str) -> None:
        """Mark a failed step done without running it, and go on from there."""
        step = self._step(step_id)
        if isinstance(step.task_spec, _GATEWAYS) or step.task_spec.manual:
            raise StepNotSkippable(step_id)
        if not step.has_state(TaskState.ERROR | TaskState.READY):
            raise TaskNotReady(step_id)

        def run() -> None:
            step._set_state(TaskState.READY)
            step.complete()

        if self._guarded(run, step):
            self.advance()
        else:
            self._settle()

    def deliver_message(self, name: str, payload: Any) -> bool:
        waiting = [
            d
            for _, d in self._waiting_definitions()
            if isinstance(d, MessageEventDefinition) and d.name == name
        ]
        if not waiting:
            return False
        if self._guarded(
            lambda: self.workflow.catch(BpmnEvent(waiting[0], copy.deepcopy(payload)))
        ):
            self.advance()
        else:
            self._settle()
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
        if self._state is None:
            self._settle()
        assert self._state is not None
        return self._state

    # ---- internals ------------------------------------------------------------------------
    def _guarded(self, action: Callable[[], Any], step: Any | None = None) -> bool:
        """Run engine work; any exception, SpiffWorkflow's or ours, becomes the failure of the
        step it names (or `step`). A failure outside any step leaves the case as it was before
        the command, so an administrator's retry starts from a whole state."""
        self._state = None
        with timekeeping.running_on(self.clock):
            try:
                action()
                return True
            except Exception as exc:  # every engine failure becomes an incident, never a crash
                near = getattr(exc, "near", None)
                failed = None if near is not None else (self._failed_step(exc) or step)
                self.failure = failure_of(exc, failed or near)
                if failed is None:
                    self.failure = dataclasses.replace(self.failure, step_id=None)
                    self._revert()
                elif not failed.has_state(TaskState.ERROR | TaskState.FINISHED_MASK):
                    failed.internal_data[_FAILED_MARK] = True  # a waiting or future step
                return False

    def _run_engine_steps(self) -> None:
        steps = 0

        def count(task: Any) -> None:
            nonlocal steps
            steps += 1
            if steps > self.budgets.engine_max_steps:
                exceeded = BudgetExceeded(
                    f"一次办理运行的引擎步骤超过上限（{self.budgets.engine_max_steps} 步），"
                    "流程可能陷入循环",
                    f"more than {self.budgets.engine_max_steps} engine steps in one command",
                )
                exceeded.near = task  # where it was going round; the case goes back
                raise exceeded

        self.workflow.refresh_timers()
        self.workflow.do_engine_steps(did_complete_task=count)

    def _settle(self) -> None:
        """Serialize the state once and hold it to the budgets: only JSON data, within the
        size limit. A state that breaks them is not kept: the case goes back to where the
        command found it, with an incident."""
        from .pruning import prune_completed_passes  # pruning imports this module

        try:
            prune_completed_passes(self)
            state = serialization.dump_state(self.workflow)
        except (TypeError, ValueError, RecursionError) as exc:
            problem: Exception = BudgetExceeded(
                "办件数据中有不能保存的值（只能保存 JSON 数据：文字、数字、列表、对象）",
                f"state is not JSON: {exc.__class__.__name__}: {exc}",
            )
        else:
            size = len(state.encode())
            if size <= self.budgets.case_state_max_bytes:
                self._state = state
                return
            problem = BudgetExceeded(
                f"办件数据超过上限（{self.budgets.case_state_max_bytes} 字节）",
                f"serialized state of {size} bytes",
            )
        self.failure = failure_of(problem, None)
        self._revert()

    def _revert(self) -> None:
        if self._before is None:
            raise RuntimeError("no earlier state to return to")
        workflow = serialization.load_state(
            self._before, self.workflow.spec, self.workflow.subprocess_specs
        )
        workflow.script_engine = self.workflow.script_engine
        # the case as it was, marked failed: restored later it is still in error until retried
        workflow.task_tree.internal_data[_FAILED_MARK] = True
        self.workflow = workflow
        self._state = serialization.dump_state(workflow)

    def _dump_or_none(self) -> str | None:
        try:
            return serialization.dump_state(self.workflow)
        except (TypeError, ValueError, RecursionError):
            return None

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
            t
            for t in BpmnTaskIterator(self.workflow.task_tree)
            if t.has_state(TaskState.ERROR) or t.internal_data.get(_FAILED_MARK)
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


def _finished(task: Any | None) -> bool:
    return task is not None and task.has_state(TaskState.COMPLETED)


def _is_instance_of_multi(task: Any) -> bool:
    """A child of a multi-instance task: its data holds the loop item, not case data."""
    parent = task.parent
    return parent is not None and getattr(parent.task_spec, "input_item", None) is not None
