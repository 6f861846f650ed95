"""Keeping a case's stored state from growing with its history.

SpiffWorkflow 3 grows the task tree by one task per element each time a loop in the diagram is
passed (its 2.0 release removed the "loop reset" tasks that used to cut the tree back), and it
has no call that drops finished parts. Above the tasks a looping case waits at lies a spine of
completed passes; only the newest pass of each element matters to anything that reads the state:

- returns (退回) go to the newest completed pass of an element on the way to the task;
- joins compare against the nearest earlier pass of the same gateway (engine.bpmn.joins);
- the case diagram marks an element done if any pass of it completed;
- data flows from parent to child, so the live tasks carry the case data.

So an older pass is cut out of the spine when its tasks are completed, the branches hanging off
it are finished (completed or cancelled) throughout, none of them runs a sub-process or is a
workflow's last task, the newer pass that takes its place follows the same element it did, and
every element of the cut part occurs again below the newer pass (on the spine for spine tasks).
The task above the cut then has the newer pass as its only child and takes the data of the
newer pass's old parent: a return (SpiffWorkflow's branch reset) to the newer pass restores
its input from the parent's data, exactly as before the cut. History stays complete in the
history table."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState

from .runtime import Execution

_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


def prune_completed_passes(execution: Execution) -> int:
    """Cut older completed loop passes out of the execution's task trees; how many tasks went."""
    top = execution.workflow
    workflows = [top, *top.subprocesses.values()]
    pinned = set(top.subprocesses) | {w.last_task.id for w in workflows if w.last_task}
    return sum(_prune(workflow, pinned) for workflow in workflows)


def _prune(workflow: Any, pinned: set[Any]) -> int:
    removed = 0
    for tip in [t for t in workflow.tasks.values() if not t.has_state(_FINISHED)]:
        if tip.id in workflow.tasks:
            removed += _prune_spine(workflow, [*_spine_above(tip), tip], pinned)
    return removed


def _spine_above(tip: Any) -> list[Any]:
    """The completed ancestors directly above `tip`, top first, below the root."""
    spine, node = [], tip.parent
    while node is not None and node._parent is not None and node.has_state(TaskState.COMPLETED):
        spine.append(node)
        node = node.parent
    spine.reverse()
    return spine


def _prune_spine(workflow: Any, nodes: list[Any], pinned: set[Any]) -> int:
    removed, i = 0, 0
    while i < len(nodes) - 1:
        cut = _cut_until(workflow, nodes, i, pinned)
        if cut is None:
            i += 1
            continue
        start, keep = nodes[i], nodes[cut]
        gone = [*nodes[i:cut], *(_side_branches(nodes, i, cut, pinned) or [])]
        above = start.parent
        above._children = [keep.id]
        above.data = nodes[cut - 1].data  # what `keep` inherits if a return resets it
        keep._parent = above.id
        for task in gone:
            del workflow.tasks[task.id]
            removed += 1
        del nodes[i:cut]
        i += 1
    return removed


def _cut_until(workflow: Any, nodes: list[Any], i: int, pinned: set[Any]) -> int | None:
    """The farthest j such that nodes[i:j] (with their finished side branches) can go and
    nodes[j] can hang where nodes[i] was."""
    start = nodes[i]
    if len(start.parent._children) != 1:
        return None  # its data is only ever read by `start` (see _prune_spine)
    below: list[frozenset[Any]] = [frozenset()] * (len(nodes) + 1)
    for k in range(len(nodes) - 1, i, -1):
        below[k] = below[k + 1] | {nodes[k].task_spec}
    cut_specs: list[frozenset[Any]] = []
    upto: set[Any] = set()
    for k in range(i, len(nodes)):
        cut_specs.append(frozenset(upto))  # specs of nodes[i:k]
        upto.add(nodes[k].task_spec)
    for j in range(len(nodes) - 1, i, -1):
        if nodes[j].task_spec is not start.task_spec:
            continue
        if nodes[j - 1].task_spec is not start.parent.task_spec:
            continue  # the newer pass must follow the same element the cut one did
        if not cut_specs[j - i] <= below[j] or any(n.id in pinned for n in nodes[i:j]):
            continue
        side = _side_branches(nodes, i, j, pinned)
        if side is None:
            continue
        if {t.task_spec for t in side} <= {t.task_spec for t in _subtree(nodes[j])}:
            return j
    return None


def _side_branches(nodes: list[Any], i: int, j: int, pinned: set[Any]) -> list[Any] | None:
    """Every task hanging off nodes[i:j] beside the spine, or None if one of them is still
    running or is referred to from elsewhere."""
    found = []
    for k in range(i, j):
        for child in nodes[k].children:
            if child is nodes[k + 1]:
                continue
            for task in _subtree(child):
                if not task.has_state(_FINISHED) or task.id in pinned:
                    return None
                found.append(task)
    return found


def _subtree(task: Any) -> list[Any]:
    found, stack = [], [task]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(c for c in node.children if c is not None)
    return found
