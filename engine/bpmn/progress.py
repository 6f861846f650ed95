"""How far a case has come, read from its execution without changing it: for each BPMN element
of the case's own diagram (and of the sub-processes drawn inside it, not of the processes it
calls) whether the case has passed it, stands at it, or failed there; and every call of another
process (四议两公开 decisions, …) with its steps and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskState

from .runtime import Execution

DONE, ACTIVE, FAILED = "done", "active", "failed"
_RANK = {DONE: 0, ACTIVE: 1, FAILED: 2}
_ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING


@dataclass(frozen=True)
class CallRun:
    """One run of a call activity: the process it called, the human tasks (ids) that ran in
    it, and, once finished, the names of the end events it reached (its outcome)."""

    element_id: str
    name: str
    process_id: str
    finished: bool
    task_ids: tuple[str, ...]
    outcome: tuple[str, ...]


def element_states(execution: Execution) -> dict[str, str]:
    """BPMN element id -> "done", "active" or "failed" (the most pressing over every time the
    element was reached: a step returned to and open again is active, not done)."""
    top = execution.workflow
    drawn = {id(top)} | {id(w) for w in top.subprocesses.values() if not _inside_call(top, w)}
    states: dict[str, str] = {}
    for task in BpmnTaskIterator(top.task_tree):
        element = task.task_spec.bpmn_id
        if element is None or id(task.workflow) not in drawn:
            continue
        state = _state_of(task)
        if state is not None and _RANK[state] >= _RANK.get(states.get(element, DONE), 0):
            states[element] = state
    return states


def case_outcome(execution: Execution) -> tuple[str, ...]:
    """The names of the end events the case's own process reached."""
    return _outcome(execution.workflow)


def call_runs(execution: Execution) -> list[CallRun]:
    """Every call of another process, in the order they started (nested calls too)."""
    top = execution.workflow
    runs = []
    for subprocess in top.subprocesses.values():
        caller = top.get_task_from_id(subprocess.parent_task_id)
        if caller is None or not isinstance(caller.task_spec, CallActivity):
            continue
        spec = caller.task_spec
        humans = [
            t
            for t in BpmnTaskIterator(subprocess.task_tree)
            if t.task_spec.manual and t.has_state(TaskState.FINISHED_MASK | _ACTIVE)
        ]
        run = CallRun(
            element_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id,
            process_id=subprocess.spec.name,
            finished=subprocess.completed,
            task_ids=tuple(str(t.id) for t in humans),
            outcome=_outcome(subprocess) if subprocess.completed else (),
        )
        runs.append((caller.last_state_change, run))
    return [run for _, run in sorted(runs, key=lambda r: r[0])]


def _outcome(workflow: Any) -> tuple[str, ...]:
    return tuple(
        t.task_spec.bpmn_name
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if t.workflow is workflow and isinstance(t.task_spec, EndEvent) and t.task_spec.bpmn_name
    )


def _state_of(task: Any) -> str | None:
    if task.has_state(TaskState.ERROR):
        return FAILED
    if task.has_state(TaskState.COMPLETED):
        return DONE
    if task.has_state(_ACTIVE):
        # an armed boundary event is not where the case stands; it counts once it fired
        return None if isinstance(task.task_spec, BoundaryEvent) else ACTIVE
    return None


def _inside_call(top: Any, workflow: Any) -> bool:
    """Whether a sub-workflow runs below a call activity (its elements are on another diagram)."""
    while workflow is not top:
        caller = top.get_task_from_id(workflow.parent_task_id)
        if caller is None or isinstance(caller.task_spec, CallActivity):
            return True
        workflow = caller.workflow
    return False
