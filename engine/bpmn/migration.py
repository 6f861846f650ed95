"""Moving a running instance onto another version of its process.

SpiffWorkflow 3.2 stores an instance as a task tree whose tasks name their spec (the element
id, or a name derived from it: `decide.BoundaryEventSplit`, `review [child]`). Migration
rewrites those names through the mapping (element id by default, plus the administrator's map
for renamed elements), drops the predicted part of the tree (tasks not reached yet), restores
the state against the target version's spec, and predicts the rest of the tree again from the
new diagram. Tasks keep their ids, data and internal state (a timer's due time, a
multi-instance's progress), so the open work rows, jobs and clocks of the case stay valid.

An instance cannot move (`check_migration` says why) when a task of its tree — waiting or
already done — has no element in the target, when a waiting element changed its kind, its timer
or message, or a running multi-instance or call changed how it loops or what it calls.
SpiffWorkflow's own `bpmn.util.diff.migrate_workflow` resets waiting tasks instead, which
restarts timers and forgets a multi-instance's progress; we keep them and refuse what cannot be
kept."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from .model import LoadedSpec
from .runtime import Execution
from .serialization import _REGISTRY

_DERIVED = (".BoundaryEventSplit", ".BoundaryEventJoin", ".EndJoin", " [child]")
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
_NOT_REACHED = TaskState.MAYBE | TaskState.LIKELY | TaskState.FUTURE
_LOOP_SETTINGS = ("data_input", "data_output", "input_item", "output_item", "cardinality")
_KINDS = {
    "UserTask": "用户任务",
    "ManualTask": "人工任务",
    "NoneTask": "任务",
    "ScriptTask": "脚本任务",
    "BusinessRuleTask": "业务规则任务",
    "CallActivity": "调用活动",
    "SubWorkflowTask": "子流程",
    "IntermediateCatchEvent": "捕获事件",
    "BoundaryEvent": "边界事件",
    "ReceiveTask": "接收任务",
}


@dataclass(frozen=True)
class MigrationBlocker:
    """Why an instance cannot move: the element (as the instance's version names it)."""

    element_id: str
    element_name: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {
            "element_id": self.element_id,
            "element_name": self.element_name,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class MigrationCheck:
    blockers: list[MigrationBlocker] = field(default_factory=list)
    waiting_at: list[dict[str, str]] = field(default_factory=list)  # in the target's terms

    @property
    def movable(self) -> bool:
        return not self.blockers


def mapped_name(name: str, mapping: Mapping[str, str]) -> str:
    """A task spec name in the target's terms: the element id mapped, with any suffix the
    parser derived from it kept."""
    if name in mapping:
        return mapping[name]
    for suffix in _DERIVED:
        if name.endswith(suffix) and name[: -len(suffix)] in mapping:
            return mapping[name[: -len(suffix)]] + suffix
    return name


def target_element_ids(target: LoadedSpec) -> set[str]:
    """Every element id of the target version, called processes included."""
    ids = set(target.spec.task_specs)
    for spec in target.subprocess_specs.values():
        ids |= set(spec.task_specs)
    return ids


def check_migration(
    execution: Execution, target: LoadedSpec, mapping: Mapping[str, str], version: str
) -> MigrationCheck:
    """Whether the instance can move to `target` (called `version` in the reasons, e.g.
    "第 3 版"), and where it would then wait."""
    blockers: list[MigrationBlocker] = []
    waiting: list[dict[str, str]] = []
    for workflow, new_spec in _pairs(execution.workflow, target, mapping, blockers):
        if new_spec is None:
            continue
        dropped = _droppable(workflow.task_tree, lambda t: t.children, lambda t: t.state)
        for task in workflow.tasks.values():
            if task in dropped:
                continue
            old = task.task_spec
            new = new_spec.task_specs.get(mapped_name(old.name, mapping))
            if new is None:
                what = "等待中的环节" if task.has_state(_LIVE) else "已办环节"
                blockers.append(
                    _blocker(
                        old, f"{what}“{_name(old)}”在{version}中不存在，请在映射中指定对应环节"
                    )
                )
                continue
            if not task.has_state(_LIVE):
                continue
            problem = _live_problem(old, new, mapping, f"“{_name(old)}”", version)
            if problem:
                blockers.append(_blocker(old, problem))
            elif (old.manual and task.has_state(TaskState.READY)) or (
                task.has_state(TaskState.WAITING) and getattr(old, "event_definition", None)
            ):
                waiting.append({"element_id": new.bpmn_id or new.name, "element_name": _name(new)})
    return MigrationCheck(_per_element(blockers), _unique(waiting))


def migrate_execution(
    execution: Execution,
    target: LoadedSpec,
    mapping: Mapping[str, str],
    restore: Callable[[LoadedSpec, str], Execution],
) -> Execution:
    """The instance on `target` (check_migration first); `restore` is ProcessRuntime.restore."""
    state = json.loads(execution.dump())
    _rebind(state, mapping)
    for sub in state.get("subprocesses", {}).values():
        _rebind(sub, mapping)
    moved = restore(target, json.dumps(state, ensure_ascii=False, separators=(",", ":")))
    for workflow in [moved.workflow, *moved.workflow.subprocesses.values()]:
        _predict(workflow)
    return moved


# ---- checks -----------------------------------------------------------------------------
def _pairs(
    top: Any, target: LoadedSpec, mapping: Mapping[str, str], blockers: list[MigrationBlocker]
) -> Iterator[tuple[Any, Any]]:
    """(workflow, its spec in the target) for the instance and each running sub-process."""
    yield top, target.spec
    for parent_id, sub in top.subprocesses.items():
        parent = top.get_task_from_id(parent_id)
        new_parent = _target_spec_of(parent, top, target, mapping)
        called = getattr(new_parent, "spec", None) if new_parent is not None else None
        sub_spec = target.subprocess_specs.get(called) if called else None
        if new_parent is not None and sub_spec is None:
            name = _name(parent.task_spec)
            reason = f"进行中的子流程“{name}”所调用的流程不在目标版本中"
            blockers.append(_blocker(parent.task_spec, reason))
        yield sub, sub_spec


def _target_spec_of(task: Any, top: Any, target: LoadedSpec, mapping: Mapping[str, str]) -> Any:
    workflow_spec = target.spec
    if task.workflow is not top:
        parent = top.get_task_from_id(task.workflow.parent_task_id)
        owner = _target_spec_of(parent, top, target, mapping)
        workflow_spec = target.subprocess_specs.get(getattr(owner, "spec", None) or "")
    if workflow_spec is None:
        return None
    return workflow_spec.task_specs.get(mapped_name(task.task_spec.name, mapping))


def _live_problem(
    old: Any, new: Any, mapping: Mapping[str, str], name: str, version: str
) -> str | None:
    if type(old).__name__ != type(new).__name__:
        was, now = _KINDS.get(type(old).__name__, "环节"), _KINDS.get(type(new).__name__, "环节")
        return f"等待中的{name}在{version}中类型不同（{was} → {now}）"
    definition = getattr(old, "event_definition", None)
    if definition is not None and _converted(definition) != _converted(new.event_definition):
        return f"等待中的{name}的定时或消息设置在{version}中已改变，已开始的等待无法对应"
    if isinstance(old, LoopTask):
        same_child = mapped_name(old.task_spec, mapping) == new.task_spec
        settings = all(
            _converted(getattr(old, a, None)) == _converted(getattr(new, a, None))
            for a in _LOOP_SETTINGS
        )
        if not (same_child and settings and old.condition == new.condition):
            return f"进行中的多实例环节{name}在{version}中的循环设置已改变"
    if isinstance(old, SubWorkflowTask) and mapped_name(old.spec, mapping) != new.spec:
        return f"进行中的子流程{name}在{version}中调用的流程不同"
    return None


def _converted(value: Any) -> Any:
    return _REGISTRY.convert(value) if value is not None else None


def _blocker(spec: Any, reason: str) -> MigrationBlocker:
    return MigrationBlocker(_element(spec).bpmn_id or spec.name, _name(spec), reason)


def _element(spec: Any) -> Any:
    """The spec of the diagram element a derived spec (`decide.BoundaryEventSplit`) was made
    for; the spec itself otherwise."""
    for suffix in _DERIVED:
        if spec.name.endswith(suffix):
            return spec._wf_spec.task_specs.get(spec.name[: -len(suffix)], spec)
    return spec


def _name(spec: Any) -> str:
    element = _element(spec)
    return element.bpmn_name or element.bpmn_id or element.name


def _unique(items: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _per_element(blockers: list[MigrationBlocker]) -> list[MigrationBlocker]:
    """One blocker per element; what blocks a waiting task says more than a finished one."""
    kept: dict[str, MigrationBlocker] = {}
    for blocker in blockers:
        if blocker.element_id not in kept or blocker.reason.startswith("等待中"):
            kept[blocker.element_id] = blocker
    return list(kept.values())


# ---- the move ---------------------------------------------------------------------------
def _droppable(root: Any, children: Callable[[Any], list[Any]], state: Callable[[Any], int]) -> set:
    """The tasks predicted below a task the instance waits at (the part of the tree the new
    diagram predicts again). A not-reached task below a finished one is kept: it is part of the
    case's path and must exist in the target."""
    dropped: set = set()
    stack = [(root, False)]
    while stack:
        task, parent_waits = stack.pop()
        dropping = bool(state(task) & _NOT_REACHED) and parent_waits
        if dropping:
            dropped.add(task)
        waits = dropping or bool(state(task) & _LIVE)
        stack.extend((child, waits) for child in children(task))
    return dropped


def _rebind(workflow: dict[str, Any], mapping: Mapping[str, str]) -> None:
    """In a serialized workflow: drop the tasks not reached yet, rename the specs of the rest."""
    tasks: dict[str, Any] = workflow["tasks"]
    dropped = _droppable(
        workflow["root"], lambda t: tasks[t]["children"], lambda t: tasks[t]["state"]
    )
    for tid in dropped:
        del tasks[tid]
    for task in tasks.values():
        task["children"] = [c for c in task["children"] if c not in dropped]
        task["task_spec"] = mapped_name(task["task_spec"], mapping)
    if workflow.get("last_task") in dropped:
        workflow["last_task"] = None


def _predict(workflow: Any) -> None:
    """Predict the tree again below every task the instance waits at, from the new diagram:
    with the spec's own prediction (an event gateway's events are only possible), or — below
    a running multi-instance or call, whose instances stay — its outputs as future tasks."""
    for task in list(workflow.tasks.values()):
        if not task.has_state(_LIVE):
            continue
        if task.children:
            present = {child.task_spec for child in task.children}
            for spec in task.task_spec.outputs:
                if spec not in present:
                    task._add_child(spec, TaskState.FUTURE)
        else:
            task.task_spec._predict_hook(task)
        for child in task.children:
            if child.has_state(_NOT_REACHED):
                child.task_spec._predict(child, mask=_NOT_REACHED)
