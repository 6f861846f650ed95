"""A running case's data as it stands: for the case's own process and for every process it has
called (callActivity) that is still running, including processes those call in turn."""

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.util.task import TaskState

_FRONTIER = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def frontier_data(workflow: Any) -> dict[str, Any]:
    """The end data once complete, else what has flowed to the tasks the process waits at
    (merged in the order they were reached)."""
    if workflow.completed:
        return dict(workflow.data)
    merged = dict(workflow.task_tree.data)
    if workflow.last_task is not None:
        merged.update(workflow.last_task.data)
    frontier = [t for t in workflow.get_tasks(state=_FRONTIER) if t.workflow is workflow]
    for task in sorted(frontier, key=lambda t: t.last_state_change):
        merged.update(task.data)
        item = getattr(task.task_spec, "input_item", None)
        if item is not None:  # a running multi-instance task: its loop item is not case data
            merged.pop(item.bpmn_id, None)
    return merged


def running_calls(top: Any) -> list[dict[str, Any]]:
    """One entry per running call activity, outermost first: the call activity's id and name,
    the called process and a copy of its data."""
    calls = []
    for subprocess in top.subprocesses.values():
        caller = top.get_task_from_id(subprocess.parent_task_id)
        if (
            subprocess.completed
            or caller is None
            or not isinstance(caller.task_spec, CallActivity)
            or caller.state != TaskState.STARTED
        ):
            continue
        spec = caller.task_spec
        calls.append(
            (
                subprocess.depth,
                caller.last_state_change,
                {
                    "element_id": spec.bpmn_id,
                    "name": spec.bpmn_name or spec.bpmn_id,
                    "process_id": subprocess.spec.name,
                    "data": copy.deepcopy(frontier_data(subprocess)),
                },
            )
        )
    return [call for _, _, call in sorted(calls, key=lambda c: (c[0], c[1]))]


def form_keys(process_spec: Any) -> list[str]:
    """The forms of a process's tasks, in no particular order of importance."""
    keys = []
    for task_spec in process_spec.task_specs.values():
        key = ((getattr(task_spec, "extensions", None) or {}).get("properties") or {}).get(
            "formKey"
        )
        if key and key not in keys:
            keys.append(key)
    return keys
