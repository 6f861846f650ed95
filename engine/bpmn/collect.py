"""Multi-instance tasks that collect their outputs per loop item (`collect` = `by_item`).

SpiffWorkflow 3.2 (MultiInstanceTask.merge_child) appends each instance's output item to a list
in completion order when the loop input is a list, so a reader cannot tell which department
said what; only a dict input gives a dict output, keyed in completion order. With the task
property `collect` = `by_item` the output collection is instead a dict {loop item → that
instance's output}, keys in the order of the input list: the output item when the task declares
one (outputDataItem), else the variables the instance itself set (for a form: what was
submitted). The collection starts empty every time the task starts."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    MultiInstanceTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.task_spec import SpiffMultiInstanceConverter
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.util.task import TaskState

from engine.errors import DefinitionProblem

from .failures import FailureKind
from .xml import NSMAP, SPIFF_NS

COLLECT = "collect"
BY_ITEM = "by_item"
_MERGED = "merged"  # SpiffWorkflow's internal data: the instances merged so far
_RETRYING = "collect_retrying"
_WITHOUT_OUTPUT = "collect_without_output"  # loop items whose instance gave no output item
_ACTIVITY_TAGS = (
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "subProcess",
    "transaction",
    "callActivity",
)


class CollectFailed(WorkflowDataException):
    """The loop input or an instance's output does not fit a collection per loop item."""

    failure_kind = FailureKind.DATA

    def __init__(self, message: str, task: Any) -> None:
        super().__init__(message, task)
        self.chinese_message = message


class CollectByItem(MultiInstanceTask):
    """The part of MultiInstanceTask that builds the output collection; the parallel and
    sequential subclasses below keep SpiffWorkflow's scheduling of the instances.

    The multi-instance task itself is the step that fails, so an administrator can correct its
    data and retry it: at its start for a loop input that cannot key a dict, and once every
    instance is done when one of them gave no output item (the others can still answer)."""

    def _update_hook(self, my_task: Any) -> bool:
        if not my_task.internal_data.pop(_RETRYING, False):  # a retry keeps the corrected data
            super()._update_hook(my_task)
        problem = _loop_items_problem(self.data_input, my_task)
        if problem:
            my_task._set_state(TaskState.ERROR)
            raise CollectFailed(problem, my_task)
        return True

    def _run_hook(self, my_task: Any) -> Any:
        if _MERGED not in my_task.internal_data:  # retried before any instance was started
            my_task.internal_data[_RETRYING] = True
            if self._update_hook(my_task) is not True:
                return None  # the instances are running
        collected = self.data_output.get(my_task)
        missing = [
            item
            for item in my_task.internal_data.get(_WITHOUT_OUTPUT, [])
            if not isinstance(collected, Mapping) or item not in collected
        ]
        if missing:
            names = "、".join(f"“{item}”" for item in missing)
            raise CollectFailed(f"{names}未给出输出“{self.output_item.bpmn_id}”", my_task)
        return super()._run_hook(my_task)

    def init_data_output_with_input_data(self, my_task: Any, input_data: Any) -> None:
        self.data_output.set(my_task, {})

    def merge_child(self, workflow: Any, child: Any) -> None:
        my_task = child.parent
        items = self.data_input.get(my_task)
        item = self._loop_item(child, items)
        collected = dict(self.data_output.get(my_task))
        if self.output_item is None:
            collected[item] = self._written_by(my_task, child)
        elif self.output_item.exists(child):
            collected[item] = copy.deepcopy(self.output_item.get(child))
        else:
            my_task.internal_data.setdefault(_WITHOUT_OUTPUT, []).append(item)
        self.data_output.set(my_task, {i: collected[i] for i in items if i in collected})
        my_task.internal_data[_MERGED].append(str(child.id))

    def _loop_item(self, child: Any, items: Sequence[str]) -> str:
        index = child.internal_data.get("key_or_index")
        return items[index] if index is not None else child.internal_data.get("item")

    def _written_by(self, my_task: Any, child: Any) -> dict[str, Any]:
        """The variables the instance set or changed (for a form: what was submitted)."""
        loop_variables = {self.data_output.bpmn_id}
        if self.input_item is not None:
            loop_variables.add(self.input_item.bpmn_id)
        return {
            name: copy.deepcopy(value)
            for name, value in child.data.items()
            if name not in loop_variables
            and (name not in my_task.data or my_task.data[name] != value)
        }


class ParallelCollectByItem(ParallelMultiInstanceTask, CollectByItem, SpiffBpmnTask):
    pass


class SequentialCollectByItem(SequentialMultiInstanceTask, CollectByItem, SpiffBpmnTask):
    pass


def _loop_items_problem(data_input: Any, my_task: Any) -> str | None:
    name = data_input.bpmn_id
    if not data_input.exists(my_task):
        return f"缺少按项汇总的循环集合“{name}”"
    items = data_input.get(my_task)
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        return f"按项汇总的循环集合“{name}”必须是列表"
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            return f"按项汇总的循环集合“{name}”只能包含文字"
        if item in seen:
            return f"循环集合“{name}”中“{item}”重复出现"
        seen.add(item)
    return None


def _collecting(parser_class: type[Any]) -> type:
    """A subclass of `parser_class` that builds the collecting multi-instance specs for a task
    with `collect` = `by_item` (SpiffWorkflow's own ones for any other)."""

    def _add_multiinstance_task(self: Any, loop_characteristics: Any) -> None:
        properties = (getattr(self.task, "extensions", None) or {}).get("properties", {})
        if properties.get(COLLECT) == BY_ITEM:
            self.PARALLEL_MI_CLASS = ParallelCollectByItem
            self.SEQUENTIAL_MI_CLASS = SequentialCollectByItem
        parser_class._add_multiinstance_task(self, loop_characteristics)

    return type(
        f"Collecting{parser_class.__name__}",
        (parser_class,),
        {"_add_multiinstance_task": _add_multiinstance_task},
    )


PARSER_OVERRIDES = {
    tag: (_collecting(parser), spec)
    for tag, (parser, spec) in SpiffBpmnParser.OVERRIDE_PARSER_CLASSES.items()
    if tag in {full_tag(name) for name in _ACTIVITY_TAGS}
}
SERIALIZER_CONVERTERS = {
    ParallelCollectByItem: SpiffMultiInstanceConverter,
    SequentialCollectByItem: SpiffMultiInstanceConverter,
}


def collect_problems(tree: Any, file_name: str) -> list[DefinitionProblem]:
    """`collect` names a known way and sits on a multi-instance task over an input collection
    with an output collection."""
    problems = []
    namespaces = {**NSMAP, "spiffworkflow": SPIFF_NS}
    path = "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name=$name]"
    for element in tree.getroot().iter():
        if not isinstance(element.tag, str) or not element.get("id"):
            continue
        found = element.xpath(path, namespaces=namespaces, name=COLLECT)
        if not found:
            continue
        loop = element.find("bpmn:multiInstanceLoopCharacteristics", NSMAP)
        value = found[0].get("value", "")
        if value != BY_ITEM:
            message = f"collect: unknown value '{value}' (known: {BY_ITEM})"
        elif loop is None:
            message = f"collect: '{etree.QName(element).localname}' is not a multi-instance task"
        elif loop.find("bpmn:loopDataInputRef", NSMAP) is None:
            message = "collect: the multi-instance task needs a loop input (loopDataInputRef)"
        elif loop.find("bpmn:loopDataOutputRef", NSMAP) is None:
            message = "collect: the multi-instance task needs an output (loopDataOutputRef)"
        else:
            continue
        problems.append(
            DefinitionProblem(
                file_name, message, element_id=element.get("id"), line=element.sourceline
            )
        )
    return problems
