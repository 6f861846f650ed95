"""Deploy-time checks of what a model asks of the engine: the budgets of every static timer and
loop cardinality, service tasks (no connector exists yet), call cycles, files whose name does
not say what they are, and files without an executable process. Each problem is located."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.errors import DefinitionProblem

from .budgets import Budgets, TimerBudget, TimerRefused, literal_int, literal_text
from .xml import BPMN_NS, NSMAP

_TIMERS = ("timeDate", "timeDuration", "timeCycle")


def kind_problem(tree: etree._ElementTree, file_name: str, kind: str) -> DefinitionProblem | None:
    """A .dmn file must hold DMN and a .bpmn file BPMN."""
    namespace = etree.QName(tree.getroot()).namespace or ""
    is_bpmn = namespace == BPMN_NS
    is_dmn = "DMN" in namespace.upper()
    if kind == "dmn" and not is_dmn:
        what = "是 BPMN 流程模型" if is_bpmn else "不是 DMN 决策表"
        return DefinitionProblem(
            file_name,
            f"文件扩展名为 .dmn，内容却{what}：请核对文件",
            line=tree.getroot().sourceline,
        )
    if kind == "bpmn" and not is_bpmn:
        what = "是 DMN 决策表" if is_dmn else "不是 BPMN 2.0 流程模型"
        return DefinitionProblem(
            file_name,
            f"文件扩展名为 .bpmn，内容却{what}：请核对文件",
            line=tree.getroot().sourceline,
        )
    return None


def budget_problems(
    tree: etree._ElementTree, file_name: str, budgets: Budgets, now: datetime
) -> list[DefinitionProblem]:
    """Static timers, loop cardinalities and service tasks of one BPMN file."""
    problems = []
    timers = TimerBudget(budgets)
    root = tree.getroot()
    for kind in _TIMERS:
        for element in root.iter(f"{{{BPMN_NS}}}{kind}"):
            text = literal_text(element.text or "")
            if text is None:
                continue
            try:
                timers.check(kind, text, now)
                _spiff_parses(kind, text)
            except TimerRefused as refused:
                problems.append(_at(file_name, element, str(refused)))
    for element in root.iter(f"{{{BPMN_NS}}}loopCardinality"):
        count = literal_int(element.text or "")
        if count is not None and not 0 <= count <= budgets.multi_instance_max:
            problems.append(
                _at(
                    file_name,
                    element,
                    f"多实例环节的执行次数（loopCardinality）为 {count}，"
                    f"应在 0 到 {budgets.multi_instance_max} 之间",
                )
            )
    for element in root.iter(f"{{{BPMN_NS}}}serviceTask"):
        problems.append(
            _at(
                file_name,
                element,
                "服务任务（serviceTask）尚无可用的连接器，不能部署：请改为人工环节或脚本环节",
            )
        )
    return problems


def _spiff_parses(kind: str, text: str) -> None:
    """What passed the budgets must also be understood by the engine (cheap: no arithmetic)."""
    try:
        if kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(text)
        elif kind == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(text)
        else:
            TimerEventDefinition.parse_time_or_duration(text)
    except Exception:
        raise TimerRefused(f"定时器的值“{text}”无法识别，请使用 ISO 8601 格式") from None


def call_cycle_problems(trees: Mapping[str, Any]) -> list[DefinitionProblem]:
    """A process may not call itself, directly or through other processes."""
    calls: dict[str, list[tuple[str, str, etree._Element]]] = {}
    for file_name, tree in trees.items():
        for process in tree.getroot().iterfind("bpmn:process", NSMAP):
            calls[process.get("id")] = [
                (activity.get("calledElement"), file_name, activity)
                for activity in process.iter(f"{{{BPMN_NS}}}callActivity")
                if activity.get("calledElement")
            ]
    problems = []
    reported: set[int] = set()
    for start in calls:
        for path, (file_name, activity) in _cycles_from(start, calls):
            if id(activity) in reported:
                continue
            reported.add(id(activity))
            chain = " → ".join(path)
            problems.append(
                _at(file_name, activity, f"调用活动形成循环调用（{chain}），流程会无限调用自身")
            )
    return problems


def _cycles_from(
    start: str, calls: Mapping[str, list[tuple[str, str, etree._Element]]]
) -> Iterable[tuple[list[str], tuple[str, etree._Element]]]:
    """Each call activity of `start`'s process that leads back to `start`, with the path."""
    for called, file_name, activity in calls.get(start, []):
        path = _path_to(called, start, calls, [start, called], set())
        if path is not None:
            yield path, (file_name, activity)


def _path_to(
    node: str,
    target: str,
    calls: Mapping[str, list[tuple[str, str, etree._Element]]],
    path: list[str],
    seen: set[str],
) -> list[str] | None:
    if node == target:
        return path
    if node in seen:
        return None
    seen.add(node)
    for called, _, _ in calls.get(node, []):
        found = _path_to(called, target, calls, [*path, called], seen)
        if found is not None:
            return found
    return None


def files_without_process(
    trees: Mapping[str, Any], names: Iterable[str], compiled_files: set[str], called: set[str]
) -> list[DefinitionProblem]:
    """A BPMN file among `names` with no executable process (and none another one calls)."""
    problems = []
    for name in names:
        tree = trees.get(name)
        if tree is None or name in compiled_files:
            continue
        if etree.QName(tree.getroot()).namespace != BPMN_NS:
            continue
        ids = {p.get("id") for p in tree.getroot().iterfind("bpmn:process", NSMAP)}
        if ids & called:
            continue
        problems.append(
            DefinitionProblem(
                name,
                "文件中没有可执行的流程（process 的 isExecutable 不能为 false），部署后无可用内容",
                line=tree.getroot().sourceline,
            )
        )
    return problems


def _at(file_name: str, element: etree._Element, message: str) -> DefinitionProblem:
    owner = element
    while owner is not None and not owner.get("id"):
        owner = owner.getparent()
    return DefinitionProblem(
        file_name,
        message,
        element_id=owner.get("id") if owner is not None else None,
        line=element.sourceline,
    )
