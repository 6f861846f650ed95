"""Camunda business rule tasks: `camunda:decisionRef` as the task's decision, and
`camunda:resultVariable` with `camunda:mapDecisionResult` as scripts that give the variable the
value Camunda would (SpiffWorkflow sets each output column as a variable of its own)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from lxml import etree

from .camunda_model import Context, add_script, camunda, pop, set_extension_text
from .xml import XmlRefused, parse_definition_xml


class Decisions:
    """The decision tables of the DMN files deployed together with the model, read on demand:
    decision id → (hit policy, aggregation, output names)."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files
        self._tables: dict[str, tuple[str, str | None, list[str]]] | None = None

    def get(self, decision_id: str) -> tuple[str, str | None, list[str]] | None:
        if self._tables is None:
            self._tables = {}
            for name, content in self.files.items():
                if name.lower().endswith(".dmn"):
                    self._read(name, content)
        return self._tables.get(decision_id)

    def _read(self, name: str, content: bytes) -> None:
        try:
            root = parse_definition_xml(content, name).getroot()
        except XmlRefused:
            return  # the compiler reports the file itself
        assert self._tables is not None
        for decision in root.xpath("//*[local-name()='decision']"):
            tables = decision.xpath("./*[local-name()='decisionTable']")
            if not tables:
                continue
            table = tables[0]
            outputs = [o.get("name") or "" for o in table.xpath("./*[local-name()='output']")]
            self._tables[decision.get("id")] = (
                (table.get("hitPolicy") or "UNIQUE").upper(),
                table.get("aggregation"),
                outputs,
            )


def map_decision(ctx: Context, task: etree._Element, decisions: Decisions) -> bool:
    """`camunda:decisionRef` and its result variable; False for a business rule task that
    Camunda runs with code instead of a decision."""
    reference = pop(task, "decisionRef")
    result = pop(task, "resultVariable")
    mapping = pop(task, "mapDecisionResult") or "resultList"
    for attribute in (
        "decisionRefBinding",
        "decisionRefVersion",
        "decisionRefVersionTag",
        "decisionRefTenantId",
    ):
        value = pop(task, attribute)
        if value and not (attribute == "decisionRefBinding" and value == "latest"):
            ctx.warn(
                task,
                attribute,
                value,
                "决策表在部署时随流程一并编译（当前部署的决策表），不按版本绑定",
            )
    if reference is None:
        if result is not None:
            task.set(camunda("resultVariable"), result)
        return False
    if "${" in reference or "#{" in reference:
        ctx.refuse(task, f"决策引用“{reference}”是表达式，无法导入：请写决策表的 id")
        return True
    set_extension_text(task, "calledDecisionId", reference)
    if result:
        _decision_result(ctx, task, reference, result, mapping, decisions)
    return True


def _decision_result(
    ctx: Context,
    task: etree._Element,
    reference: str,
    result: str,
    mapping: str,
    decisions: Decisions,
) -> None:
    table = decisions.get(reference)
    if table is None:
        ctx.warn(task, "resultVariable", result, f"找不到决策表“{reference}”，结果变量未导入")
        return
    hit_policy, aggregation, outputs = table
    if aggregation:
        ctx.warn(task, "resultVariable", result, "汇总（aggregation）结果的决策表，结果变量未导入")
        return
    names_ok = outputs and all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", o) for o in outputs)
    code = _result_code(result, mapping, hit_policy == "COLLECT", outputs) if names_ok else None
    if code is None:
        ctx.warn(
            task,
            "mapDecisionResult",
            mapping,
            f"决策表的输出列（{', '.join(outputs) or '无名称'}）无法按 {mapping} 写入 {result}；"
            "各输出列按列名写入办件数据",
        )
        return
    add_script(task, "preScript", "\n".join(f"{o} = None" for o in outputs))
    cleanup = [f"del {o}" for o in outputs if o != result]
    add_script(task, "postScript", "\n".join([code, *cleanup]))


def _result_code(result: str, mapping: str, collect: bool, outputs: list[str]) -> str | None:
    """Camunda's mapDecisionResult over SpiffWorkflow's result: every output column is set as
    a variable (a list of values per column with the COLLECT hit policy)."""
    single = outputs[0] if len(outputs) == 1 else None
    if collect:
        rows = (
            "[{"
            + ", ".join(f"{json.dumps(o)}: {o}[row_index]" for o in outputs)
            + f"}} for row_index in range(len({outputs[0]} or []))]"
        )
        first = "{" + ", ".join(f"{json.dumps(o)}: {o}[0]" for o in outputs) + "}"
        codes = {
            "singleEntry": single and f"{result} = {single}[0] if {single} else None",
            "singleResult": f"{result} = {first} if {outputs[0]} else None",
            "collectEntries": single and f"{result} = {single} or []",
            "resultList": f"{result} = {rows}",
        }
    else:
        row = "{" + ", ".join(f"{json.dumps(o)}: {o}" for o in outputs) + "}"
        matched = " or ".join(f"{o} is not None" for o in outputs)
        codes = {
            "singleEntry": single and f"{result} = {single}",
            "singleResult": f"{result} = {row} if {matched} else None",
            "collectEntries": single and f"{result} = [{single}] if {single} is not None else []",
            "resultList": f"{result} = [{row}] if {matched} else []",
        }
    return codes.get(mapping) or None
