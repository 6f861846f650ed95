"""Which data names a process writes (form fields, script assignments, decision outputs,
message variables, loop items) and what reaches it through call activities: a called process
sees its caller's data and hands its own back. The modeler warns about names an expression
reads that nothing writes."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

from engine.errors import DefinitionInvalid, NotFound

from . import modeler_expressions as exprs
from .modeler_model import (
    HUMAN_TASKS,
    NS,
    elements,
    expressions,
    extension_text,
    local,
    processes,
    properties,
    tag,
)


def data_items(process: etree._Element) -> set[str]:
    written = set()
    for item in process.iter(tag("inputDataItem"), tag("outputDataItem"), tag("property")):
        written.add(item.get("name") or item.get("id") or "")
    for ref in process.iter(tag("loopDataOutputRef"), tag("loopDataInputRef")):
        written.add((ref.text or "").strip())
    for variable in process.iter(tag("messageVariable", NS["spiffworkflow"])):
        written.add((variable.text or "").strip())
    for obj in process.iter(tag("dataObject")):
        written.add(obj.get("id") or "")
    return {w for w in written if w}


def decision_outputs(tree: etree._ElementTree) -> dict[str, dict[str, set[Any]]]:
    """Decision id → data name it writes → the literal values its rules give (empty when a
    rule computes the value). `vote_rule.quorum_num` writes `vote_rule`."""
    found: dict[str, dict[str, set[Any]]] = {}
    for decision in tree.getroot().iter():
        if local(decision) != "decision" or not decision.get("id"):
            continue
        table = next((c for c in decision if local(c) == "decisionTable"), None)
        names = (
            [o.get("name") or o.get("id") for o in table if local(o) == "output"]
            if (table is not None)
            else []
        )
        outputs: dict[str, set[Any]] = {n: set() for n in names}
        computed: set[str] = set()
        for rule in (c for c in table if local(c) == "rule") if table is not None else ():
            entries = [c for c in rule if local(c) == "outputEntry"]
            for name, entry in zip(names, entries, strict=False):
                text = "".join(entry.itertext()).strip()
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    computed.add(name)
                    continue
                if isinstance(value, str | int | float | bool):
                    outputs[name].add(value)
        by_variable: dict[str, set[Any]] = {}
        for name, values in outputs.items():
            variable = name.split(".")[0]
            known = set() if name in computed or "." in name else values
            by_variable.setdefault(variable, set()).update(known)
        found[decision.get("id")] = by_variable
    return found


def decision_inputs(tree: etree._ElementTree) -> dict[str, set[str]]:
    """Decision id → the data names its input expressions read."""
    found: dict[str, set[str]] = {}
    for decision in tree.getroot().iter():
        if local(decision) != "decision" or not decision.get("id"):
            continue
        read: set[str] = set()
        for expression in decision.iter():
            if local(expression) == "inputExpression":
                text = "".join(expression.itertext()).strip()
                read |= exprs.names_read(text, "eval") if text else set()
        found[decision.get("id")] = read
    return found


def process_writes(
    process: etree._Element,
    load_form: Callable[[str], dict[str, Any]],
    decisions: Mapping[str, dict[str, set[Any]]],
) -> set[str]:
    """Names the process itself writes (not counting what its calls hand back)."""
    written = set(data_items(process))
    forms = [properties(process).get("startFormKey")]
    forms += [properties(t).get("formKey") for t in elements(process, *HUMAN_TASKS)]
    for key in filter(None, forms):
        try:
            written |= set(load_form(key).get("properties", {}))
        except (NotFound, DefinitionInvalid):
            continue
    for task in elements(process, "businessRuleTask"):
        written |= set(decisions.get(extension_text(task, "calledDecisionId") or "", {}))
    for expression in expressions(process):
        if expression.mode == "exec":
            written |= exprs.names_written(expression.text)
    return written


class ProcessIndex:
    """Every process the modeler knows (deployed files with the draft's files over them)."""

    def __init__(
        self,
        trees: Mapping[str, etree._ElementTree],
        load_form: Callable[[str], dict[str, Any]],
        decisions: Mapping[str, dict[str, set[Any]]],
    ) -> None:
        self.processes = {p.get("id"): p for tree in trees.values() for p in processes(tree)}
        self.load_form = load_form
        self.decisions = decisions
        self._own: dict[str, set[str]] = {}

    def names(self) -> dict[str, str]:
        return {pid: p.get("name") or pid for pid, p in self.processes.items()}

    def own(self, process_id: str) -> set[str]:
        if process_id not in self._own:
            process = self.processes.get(process_id)
            self._own[process_id] = (
                set()
                if process is None
                else process_writes(process, self.load_form, self.decisions)
            )
        return self._own[process_id]

    def called_writes(self, process_id: str) -> set[str]:
        """What a call of `process_id` hands back: its writes and its own calls' writes."""
        return self._closure(process_id, self._callees)

    def caller_writes(self, process_id: str) -> set[str]:
        """What may reach `process_id` from the processes calling it: whatever those callers
        (and their callers) write or get back from their other calls."""
        written: set[str] = set()
        seen, todo = {process_id}, self._callers(process_id)
        while todo:
            caller = todo.pop()
            if caller in seen:
                continue
            seen.add(caller)
            written |= self.called_writes(caller)
            todo.extend(self._callers(caller))
        return written

    def _closure(self, start: str, step: Callable[[str], list[str]]) -> set[str]:
        seen, todo, written = {start}, step(start), set(self.own(start))
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            written |= self.own(current)
            todo.extend(step(current))
        return written

    def _callees(self, process_id: str) -> list[str]:
        process = self.processes.get(process_id)
        if process is None:
            return []
        return [
            c.get("calledElement")
            for c in elements(process, "callActivity")
            if c.get("calledElement")
        ]

    def _callers(self, process_id: str) -> list[str]:
        return [
            pid
            for pid, process in self.processes.items()
            if any(c.get("calledElement") == process_id for c in elements(process, "callActivity"))
        ]
