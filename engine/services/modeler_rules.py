"""Our rules for a diagram, beyond what the engine's parser checks: every lane routable to a
department type that exists, every form present and holding the fields the diagram reads,
every time limit readable, exclusive gateways with a default flow or complete conditions,
every expression valid in the restricted language, decisions and called processes that exist.
Each problem names the element it is about, so the modeler can mark it on the diagram."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.domain import materials
from engine.domain.organisation import DEPARTMENT_TYPES, LEVEL_NAMES, LEVELS
from engine.domain.sla import YellowRule, exceeds, parse_limit
from engine.errors import DefinitionInvalid, NotFound

from . import modeler_expressions as exprs
from .modeler_dataflow import data_items
from .modeler_model import (
    HUMAN_TASKS,
    NS,
    ROUTING_PROPERTIES,
    condition_of,
    elements,
    expressions,
    extension_text,
    flows_from,
    is_executable,
    lanes_of,
    local,
    name_or_id,
    processes,
    properties,
    return_targets,
    tag,
)

ERROR, WARNING = "error", "warning"
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
ENGINE_NAMES = frozenset({"region", "business_key"})  # what every case starts with
MAX_ELEMENTS = 2000


@dataclass(frozen=True)
class ModelProblem:
    severity: str  # error | warning
    message: str  # Chinese, for the administrator
    element_id: str | None = None
    line: int | None = None
    file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "message": self.message,
            "element_id": self.element_id,
            "line": self.line,
            "file": self.file,
        }


@dataclass
class RuleContext:
    load_form: Callable[[str], dict[str, Any]]  # raises NotFound or DefinitionInvalid
    departments: frozenset[tuple[str, str]]  # (dept_type, level) with an active department
    processes: Mapping[str, str]  # callable process id → name
    decision_outputs: Mapping[str, dict[str, set[Any]]]  # decision id → output → values
    called_writes: Callable[[str], set[str]] = lambda _pid: set()  # a call's results
    caller_writes: Callable[[str], set[str]] = lambda _pid: set()  # data a caller hands in
    decision_reads: Mapping[str, set[str]] = field(default_factory=dict)  # decision → inputs
    problems: list[ModelProblem] = field(default_factory=list)


def check_model(tree: etree._ElementTree, file_name: str, ctx: RuleContext) -> list[ModelProblem]:
    checker = _Checker(file_name, ctx)
    root = tree.getroot()
    count = sum(1 for e in root.iter() if isinstance(e.tag, str) and e.get("id"))
    if count > MAX_ELEMENTS:
        checker.warn(
            None, f"图中元素过多（{count} 个，建议不超过 {MAX_ELEMENTS} 个），请拆分为子流程"
        )
    found = processes(tree)
    if not found:
        checker.error(None, "文件中没有流程（bpmn:process）")
    for process in found:
        if not is_executable(process):
            checker.error(
                process,
                f'流程“{name_or_id(process)}”未标记为可执行（isExecutable="false"），'
                "只是说明性的图；如需部署，请选中流程（池）在属性中勾选“可执行”",
            )
            continue
        checker.process(process)
    return checker.problems


class _Checker:
    def __init__(self, file_name: str, ctx: RuleContext) -> None:
        self.file = file_name
        self.ctx = ctx
        self.problems: list[ModelProblem] = []
        self._forms: dict[str, dict[str, Any] | None] = {}

    def error(self, element: etree._Element | None, message: str) -> None:
        self._add(ERROR, element, message)

    def warn(self, element: etree._Element | None, message: str) -> None:
        self._add(WARNING, element, message)

    def _add(self, severity: str, element: etree._Element | None, message: str) -> None:
        element_id = element.get("id") if element is not None else None
        line = element.sourceline if element is not None else None
        self.problems.append(ModelProblem(severity, message, element_id, line, self.file))

    # ---- one process ----------------------------------------------------------------------
    def process(self, process: etree._Element) -> None:
        props = properties(process)
        self.limits(process, props)
        start_form = props.get("startFormKey")
        written = set(ENGINE_NAMES) | self.ctx.caller_writes(process.get("id") or "")
        if start_form:
            written |= self.form_fields(process, start_form, "发起表单")
        human = list(elements(process, *HUMAN_TASKS))
        self.lanes(process, human)
        human_ids = {t.get("id") for t in human}
        for task in human:
            written |= self.human_task(task, human_ids)
        written |= self.decisions(process)
        written |= self.calls(process)
        written |= data_items(process)
        self.gateways(process)
        self.timers(process)
        self.expressions_and_reads(process, written)

    def lanes(self, process: etree._Element, human: list[etree._Element]) -> None:
        by_name: dict[str, list[etree._Element]] = {}
        for lane in process.iter(tag("lane")):
            by_name.setdefault(lane.get("name") or lane.get("id") or "", []).append(lane)
        for name, same in by_name.items():
            if len(same) > 1:
                for lane in same:
                    self.error(lane, f"泳道名称“{name}”重复：环节按泳道名称派发，名称须唯一")
        holder = lanes_of(process)
        checked: set[str] = set()
        for task in human:
            if any(properties(task).get(p) for p in ROUTING_PROPERTIES):
                continue
            lane = holder.get(task.get("id"))
            if lane is None:
                self.error(task, f"环节“{name_or_id(task)}”不在任何泳道中，无法确定办理部门")
                continue
            if lane.get("id") in checked:
                continue
            checked.add(lane.get("id"))
            self.lane(lane)

    def lane(self, lane: etree._Element) -> None:
        props = properties(lane)
        dept_type, level = props.get("dept_type", ""), props.get("level", "")
        name = name_or_id(lane)
        if not dept_type:
            self.error(lane, f"泳道“{name}”未设置部门类型，其中的环节无法派发")
        elif dept_type not in DEPARTMENT_TYPES:
            self.error(lane, f"泳道“{name}”的部门类型“{dept_type}”不存在")
        if not level:
            self.error(lane, f"泳道“{name}”未设置层级（省、市、县、乡镇、村）")
        elif level not in LEVELS:
            self.error(lane, f"泳道“{name}”的层级“{level}”无效，应为省、市、县、乡镇或村")
        known = dept_type in DEPARTMENT_TYPES and level in LEVELS
        if known and (dept_type, level) not in self.ctx.departments:
            self.warn(
                lane,
                f"组织机构中还没有{LEVEL_NAMES[level]}级的{DEPARTMENT_TYPES[dept_type]}，"
                "泳道中的环节将等待派发",
            )

    def human_task(self, task: etree._Element, human_ids: set[str]) -> set[str]:
        props = properties(task)
        written: set[str] = set()
        name = name_or_id(task)
        form_key = props.get("formKey")
        if local(task) == "userTask" and not form_key:
            self.error(task, f"环节“{name}”未指定表单")
        if form_key:
            written |= self.form_fields(task, form_key, f"环节“{name}”的表单")
        self.limits(task, props)
        for target in return_targets(props):
            if target not in human_ids:
                self.error(task, f"环节“{name}”的可退回环节“{target}”不是本流程中的人工环节")
        for key in ROUTING_PROPERTIES:
            value = props.get(key)
            if value and not _IDENTIFIER.match(value):
                self.error(task, f"环节“{name}”的 {key} 应为变量名，而不是“{value}”")
        if materials.PROPERTY in props:
            try:
                materials.parse_property(props[materials.PROPERTY])
            except ValueError as exc:
                self.error(task, f"环节“{name}”的{exc}")
        return written

    def form_fields(self, element: etree._Element, form_key: str, what: str) -> set[str]:
        if form_key not in self._forms:
            try:
                self._forms[form_key] = self.ctx.load_form(form_key)
            except NotFound:
                self._forms[form_key] = None
                self.error(element, f"{what}“{form_key}”不存在（forms/{form_key}.json）")
                return set()
            except DefinitionInvalid as exc:
                self._forms[form_key] = None
                detail = "；".join(p.message for p in exc.problems)
                self.error(element, f"{what}“{form_key}”定义有误：{detail}")
                return set()
        schema = self._forms[form_key]
        return set((schema or {}).get("properties", {}))

    def limits(self, element: etree._Element, props: dict[str, str]) -> None:
        labels = {
            "sla_statutory": "法定时限",
            "sla_committed": "承诺时限",
            "sla_overall": "办理总时限",
        }
        parsed = {}
        for key, label in labels.items():
            if props.get(key):
                try:
                    parsed[key] = parse_limit(props[key])
                except ValueError:
                    self.error(
                        element,
                        f"{label}“{props[key]}”无法识别：工作日写作 5wd，自然日写作 20d",
                    )
        if props.get("sla_yellow"):
            try:
                YellowRule.parse(props["sla_yellow"])
            except ValueError:
                self.error(
                    element,
                    f"黄灯阈值“{props['sla_yellow']}”无法识别："
                    "写作 1wd（剩余工作日）或 80%（已用比例）",
                )
        committed, statutory = parsed.get("sla_committed"), parsed.get("sla_statutory")
        if committed and statutory and exceeds(committed, statutory):
            self.error(element, "承诺时限不能长于法定时限")
        if len(props.get("sla_basis", "")) > 300:
            self.error(element, "时限依据过长（不超过 300 字）")

    def decisions(self, process: etree._Element) -> set[str]:
        written: set[str] = set()
        for task in elements(process, "businessRuleTask"):
            decision = extension_text(task, "calledDecisionId")
            if not decision:
                self.error(task, f"业务规则环节“{name_or_id(task)}”未指定决策表")
                continue
            outputs = self.ctx.decision_outputs.get(decision)
            if outputs is None:
                self.error(task, f"决策表“{decision}”不存在（既未部署，也不在本次修改的文件中）")
                continue
            written |= set(outputs)
        return written

    def calls(self, process: etree._Element) -> set[str]:
        written: set[str] = set()
        for call in elements(process, "callActivity"):
            called = call.get("calledElement")
            if not called:
                self.error(call, f"调用环节“{name_or_id(call)}”未指定被调用的流程")
            elif called not in self.ctx.processes:
                self.error(call, f"被调用的流程“{called}”不存在（既未部署，也不在本文件中）")
            else:
                written |= self.ctx.called_writes(called)
        return written

    def gateways(self, process: etree._Element) -> None:
        outgoing = flows_from(process)
        for gateway in elements(process, "exclusiveGateway", "inclusiveGateway"):
            flows = outgoing.get(gateway.get("id"), [])
            if len(flows) < 2:
                continue
            default = gateway.get("default")
            if default and default not in {f.get("id") for f in flows}:
                self.error(gateway, "默认流向不是从该网关出发的流向")
            conditions = []
            for flow in flows:
                if flow.get("id") == default:
                    continue
                text = condition_of(flow)
                if not text:
                    self.error(
                        flow, f"网关“{name_or_id(gateway)}”的这条流向既没有条件，也不是默认流向"
                    )
                conditions.append(text)
            unguarded = local(gateway) == "exclusiveGateway" and not default and all(conditions)
            if unguarded and not exprs.conditions_complete(conditions, self._options()):
                self.error(
                    gateway,
                    f"排他网关“{name_or_id(gateway)}”没有默认流向，且不能确认各条件覆盖了全部"
                    "情况：请把其中一条设为默认流向",
                )

    def _options(self) -> dict[str, set[Any]]:
        """Values a variable can take: a form field's options and a decision's outputs."""
        options: dict[str, set[Any]] = {}
        for schema in self._forms.values():
            for name, prop in (schema or {}).get("properties", {}).items():
                if isinstance(prop, dict) and isinstance(prop.get("enum"), list):
                    options.setdefault(name, set()).update(
                        v for v in prop["enum"] if isinstance(v, str | int | float | bool)
                    )
        for outputs in self.ctx.decision_outputs.values():
            for name, values in outputs.items():
                if values:
                    options.setdefault(name, set()).update(values)
        return options

    def timers(self, process: etree._Element) -> None:
        for timer in process.iter(tag("timerEventDefinition")):
            texts = [
                (timer.findtext(f"bpmn:{kind}", default="", namespaces=NS) or "").strip()
                for kind in ("timeDate", "timeDuration", "timeCycle")
            ]
            if not any(texts):
                owner = timer.getparent()
                self.error(owner, f"定时事件“{name_or_id(owner)}”未设置时间")

    def expressions_and_reads(self, process: etree._Element, written: set[str]) -> None:
        for expression in expressions(process):
            if expression.kind in ("script", "preScript", "postScript"):
                written |= exprs.names_written(expression.text)
        by_id = {e.get("id"): e for e in process.iter() if isinstance(e.tag, str) and e.get("id")}
        for expression in expressions(process):
            owner = by_id.get(expression.owner_id)
            checked = exprs.check(expression.text, expression.mode)
            if not checked.ok:
                self.error(
                    owner, f"{_KIND_LABELS.get(expression.kind, '表达式')}：{checked.message}"
                )
                continue
            unknown = sorted(exprs.names_read(expression.text, expression.mode) - written)
            if unknown:
                self.warn(
                    owner,
                    f"{_KIND_LABELS.get(expression.kind, '表达式')}读取的变量 {'、'.join(unknown)} "
                    "没有表单字段、脚本、决策表或消息写入",
                )
        for task in elements(process, "businessRuleTask"):
            decision = extension_text(task, "calledDecisionId") or ""
            unknown = sorted(self.ctx.decision_reads.get(decision, set()) - written)
            if unknown:
                self.warn(
                    task,
                    f"决策表“{decision}”读取的变量 {'、'.join(unknown)} "
                    "没有表单字段、脚本、决策表或消息写入",
                )
        for task in elements(process, *HUMAN_TASKS):
            for key in ROUTING_PROPERTIES:
                value = properties(task).get(key)
                if value and _IDENTIFIER.match(value) and value not in written:
                    self.warn(task, f"派发依据的变量 {value} 没有表单字段、脚本、决策表或消息写入")


_KIND_LABELS = {
    "conditionExpression": "条件",
    "script": "脚本",
    "preScript": "前置脚本",
    "postScript": "后置脚本",
    "timeDate": "定时（日期）",
    "timeDuration": "定时（时长）",
    "timeCycle": "定时（周期）",
    "loopCardinality": "循环次数",
    "completionCondition": "完成条件",
}
