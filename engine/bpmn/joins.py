"""Parallel and inclusive gateways whose join keeps every branch's writes (see merge.py).

SpiffWorkflow 3.2 (UnstructuredJoin._run_hook) merges the arriving branches' whole data, the last
to arrive winning, so a branch arriving late with its untouched copy of a variable overwrites
what another branch wrote. These gateways take the data at the split, the nearest task all
arriving branches descend from, and add each branch's changes relative to it."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser, GatewayParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.serializer.default.task_spec import (
    ConditionalGatewayConverter,
    ParallelGatewayConverter,
)
from SpiffWorkflow.bpmn.specs.defaults import InclusiveGateway, ParallelGateway
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.util.task import TaskState

from .failures import FailureKind
from .merge import Branch, MergeConflict, MergeRules, merge

_UNDECIDED = "merge_conflicts"  # internal data of a join that failed: the variables in conflict


class BranchConflict(WorkflowTaskException):
    """Arriving branches changed a variable in ways the join has no rule for: a failed step.
    Retrying the join with a value for each conflicting variable settles it."""

    failure_kind = FailureKind.MERGE

    def __init__(self, message: str, task: Any) -> None:
        super().__init__(message, task=task)
        self.chinese_message = message


class MergingParallelGateway(ParallelGateway):
    def _check_threshold_unstructured(self, my_task: Any) -> bool:
        """ParallelGateway's check, counting only this round's arrivals (in a loop, SpiffWorkflow
        counts the previous round's too and fires before this round's branches arrive)."""
        earlier = _earlier_firing(self, my_task)
        waiting = set(self.inputs)

        def remove_ancestor(task: Any) -> None:
            while task is not None and task.task_spec not in waiting:
                task = task.parent
            if task is not None:
                waiting.discard(task.task_spec)

        for task in my_task.workflow.get_tasks(spec_name=self.name):
            if earlier is not None and not task.is_descendant_of(earlier):
                continue
            if task.is_descendant_of(my_task):
                remove_ancestor(task)  # reached only after this join fires: do not wait for it
            elif my_task.is_descendant_of(task):
                continue
            elif task.parent.state == TaskState.COMPLETED:
                waiting.discard(task.parent.task_spec)
        return not waiting

    def _run_hook(self, my_task: Any) -> bool:
        _merge_at_join(self, my_task)
        return True


class MergingInclusiveGateway(InclusiveGateway):
    def _check_threshold_unstructured(self, my_task: Any) -> bool:
        """InclusiveGateway's check on this round's tasks only (see MergingParallelGateway)."""
        earlier = _earlier_firing(self, my_task)
        starts = earlier.children if earlier is not None else [my_task.workflow.task_tree]
        tasks, sources = [], []
        for start in starts:
            for task in my_task.workflow.get_tasks(first_task=start, end_at_spec=self.name):
                if task.task_spec == self:
                    tasks.append(task)
                elif task.has_state(TaskState.READY | TaskState.WAITING):
                    sources.append(task.task_spec)
        return _inclusive_threshold(self, tasks, sources)

    def _run_hook(self, my_task: Any) -> bool:
        _merge_at_join(self, my_task)
        # the rest of InclusiveGateway._run_hook: choose the outgoing flows on the merged data
        matches, defaults = self._get_matching_outputs(my_task)
        if not matches + defaults:
            raise WorkflowTaskException("No conditions satisfied on gateway", task=my_task)
        my_task._sync_children(matches or defaults, TaskState.FUTURE)
        for child in my_task.children:
            child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
        return True


def _inclusive_threshold(spec: Any, tasks: list[Any], sources: list[Any]) -> bool:
    """InclusiveGateway._check_threshold_unstructured after it has collected the join's
    instances and the active tasks: fire when no active task can still reach an input that
    has not arrived."""
    completed = {t.parent.task_spec for t in tasks if t.parent.state == TaskState.COMPLETED}
    if any(
        t.parent.has_state(TaskState.DEFINITE_MASK) and t.parent.task_spec not in completed
        for t in tasks
    ):
        return False
    checked: list[Any] = []

    def source_reaching(task_spec: Any) -> Any:
        checked.append(task_spec)
        for parent in task_spec.inputs:
            if parent not in checked:
                return parent if parent in sources else source_reaching(parent)
        return None

    for task_spec in completed:
        source = source_reaching(task_spec)
        if source is not None:
            sources.remove(source)
    waiting = [i for i in spec.inputs if i not in completed]
    return not any(source_reaching(task_spec) is not None for task_spec in waiting)


class _JoinParser(GatewayParser):
    """Reads the gateway's spiffworkflow:properties (the merge rules) into spec.extensions."""

    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        return SpiffTaskParser._parse_extensions(self.node if node is None else node)


class _ConditionalJoinParser(ConditionalGatewayParser):
    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        return SpiffTaskParser._parse_extensions(self.node if node is None else node)


PARSER_OVERRIDES = {
    full_tag("parallelGateway"): (_JoinParser, MergingParallelGateway),
    full_tag("inclusiveGateway"): (_ConditionalJoinParser, MergingInclusiveGateway),
}
SERIALIZER_CONVERTERS = {
    MergingParallelGateway: ParallelGatewayConverter,
    MergingInclusiveGateway: ConditionalGatewayConverter,
}


def _merge_at_join(spec: Any, my_task: Any) -> None:
    arrivals = _arrivals(spec, my_task)
    tails = [arrival.parent for arrival in arrivals]
    paths = [_path_from_root(tail) for tail in tails]
    split_depth = _common_depth(paths)
    split = paths[0][split_depth]
    branches = [
        Branch(_label(path[split_depth + 1 :], split), tail.data)
        for path, tail in zip(paths, tails, strict=True)
    ]
    rules = MergeRules.from_properties((spec.extensions or {}).get("properties", {}))
    retry = _UNDECIDED in my_task.internal_data
    undecided = my_task.internal_data.pop(_UNDECIDED, [])
    decided = {name: my_task.data[name] for name in undecided if name in my_task.data}
    try:
        merged = merge(split.data, branches, rules, decided)
        if retry:  # the failed join's data plus the administrator's corrections
            merged.update(my_task.data)
        my_task.data = _ordered_like(my_task.parent.data, merged)
    except MergeConflict as conflict:
        # the failed join holds everything else merged; a retry's corrections decide the rest
        my_task.data = _ordered_like(my_task.parent.data, conflict.merged)
        my_task.internal_data[_UNDECIDED] = conflict.variables
        raise BranchConflict(str(conflict), task=my_task) from conflict
    for arrival in arrivals[:-1]:
        # as UnstructuredJoin does: a completed earlier instance only exists after a reset into a
        # branch, and what hangs below it is stale
        if arrival.has_state(TaskState.COMPLETED):
            arrival._drop_children(force=True)


def _ordered_like(parent_data: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Keys in the order a restored state gives them (the parent's keys first, then the new
    ones), so the state serializes the same before and after a restore."""
    ordered = {key: data[key] for key in parent_data if key in data}
    ordered.update((key, value) for key, value in data.items() if key not in ordered)
    return ordered


def _earlier_firing(spec: Any, my_task: Any) -> Any | None:
    """The previous firing of this join when it sits in a loop: this round's branches descend
    from it, older rounds' do not."""
    return next((t for t in _ancestors(my_task) if t.task_spec == spec), None)


def _arrivals(spec: Any, my_task: Any) -> list[Any]:
    """This join's instances whose branch arrived for this firing, in arrival order, my_task
    (the one that fires) last."""
    earlier = _earlier_firing(spec, my_task)
    others = [
        task
        for task in my_task.workflow.tasks.values()
        if task.task_spec == spec
        and task is not my_task
        and task.has_state(TaskState.FINISHED_MASK)
        and task.parent is not None
        and task.parent.state == TaskState.COMPLETED
        and not my_task.is_descendant_of(task)
        and (earlier is None or task.is_descendant_of(earlier))
    ]
    return [*sorted(others, key=lambda t: t.parent.last_state_change), my_task]


def _ancestors(task: Any) -> list[Any]:
    found, current = [], task.parent
    while current is not None:
        found.append(current)
        current = current.parent
    return found


def _path_from_root(task: Any) -> list[Any]:
    return [*reversed(_ancestors(task)), task]


def _common_depth(paths: list[list[Any]]) -> int:
    depth = 0
    while all(len(p) > depth + 1 for p in paths) and len({id(p[depth + 1]) for p in paths}) == 1:
        depth += 1
    return depth


def _label(branch_path: list[Any], split: Any) -> str:
    """The first named element of the branch, else its first element's id."""
    specs = [task.task_spec for task in branch_path] or [split.task_spec]
    for spec in specs:
        if getattr(spec, "bpmn_name", None):
            return spec.bpmn_name
    for spec in specs:
        bpmn_id = getattr(spec, "bpmn_id", None)
        if bpmn_id and "." not in bpmn_id:
            return bpmn_id
    return specs[0].name
