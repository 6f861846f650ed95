"""Return (退回): send a case back from a human task to an earlier step its diagram allows.

The diagram declares where a task may return to with the property `return_to` (one element id,
or several separated by commas). A target is offered only once the case has passed it. Returning
rewinds the case to the target step exactly as it was when that step opened (SpiffWorkflow's
branch reset) and gives the reopened step a new task id, so that the earlier pass stays on
record as its own task."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from SpiffWorkflow.util.task import TaskState

_SEPARATORS = re.compile(r"[\s,;，、]+")


def declared_targets(properties: dict[str, Any]) -> list[str]:
    text = properties.get("return_to") or ""
    return [t for t in _SEPARATORS.split(str(text)) if t]


def passed_step(task: Any, element_id: str) -> Any | None:
    """The latest completed task of `element_id` on the way to `task`: its ancestors first
    (crossing out of called processes), then anything completed in the same workflow."""
    node = task.parent
    while node is not None:
        if _is(node, element_id) and node.has_state(TaskState.COMPLETED):
            return node
        parent = node.parent
        if parent is None and getattr(node.workflow, "parent_task_id", None) is not None:
            outer = node.workflow.parent_workflow
            parent = outer.get_task_from_id(node.workflow.parent_task_id) if outer else None
        node = parent
    done = [
        t
        for t in task.workflow.get_tasks(state=TaskState.COMPLETED)
        if _is(t, element_id) and t.task_spec.manual
    ]
    return max(done, key=lambda t: t.last_state_change) if done else None


def _properties(task: Any) -> dict[str, Any]:
    return dict((task.task_spec.extensions or {}).get("properties", {}))


def available_targets(task: Any) -> list[dict[str, str]]:
    targets = []
    for element_id in declared_targets(_properties(task)):
        step = passed_step(task, element_id)
        if step is not None and step.task_spec.manual:
            name = step.task_spec.bpmn_name or element_id
            targets.append({"id": element_id, "name": name})
    return targets


def reopen(workflow: Any, task: Any, element_id: str) -> str:
    """Rewind to the step `element_id` passed on the way to `task`; return the reopened step's
    new task id. Raises LookupError when the step cannot be a target of `task`."""
    if element_id not in declared_targets(_properties(task)):
        raise LookupError(element_id)
    step = passed_step(task, element_id)
    if step is None or not step.task_spec.manual:
        raise LookupError(element_id)
    _renew_id(step)
    workflow.reset_from_task_id(step.id)
    _fix_last_task(workflow, step)
    return str(step.id)


def _fix_last_task(workflow: Any, step: Any) -> None:
    """SpiffWorkflow's reset sets the top workflow's `last_task` to the step's parent even when
    that lies in a called process, where the top workflow cannot find it again after a restore:
    the called process gets it, the top workflow the call activity that contains it."""
    if step.workflow is workflow:
        return
    step.workflow.last_task = step.parent
    node = step
    while node is not None and node.workflow is not workflow:
        node = workflow.get_task_from_id(node.workflow.parent_task_id)
    workflow.last_task = node


def _renew_id(task: Any) -> None:
    owner = task.workflow
    old = task.id
    del owner.tasks[old]
    task.id = uuid4()
    owner.tasks[task.id] = task
    parent = task.parent
    if parent is not None:
        parent._children = [task.id if c == old else c for c in parent._children]
    for child in task.children:
        child._parent = task.id


def _is(task: Any, element_id: str) -> bool:
    return (task.task_spec.bpmn_id or task.task_spec.name) == element_id
