"""Validating what the modeler holds, before it is saved or deployed: the engine's own parse
of the whole bundle (the edited files over every deployed file) plus our rules
(modeler_rules.py). Problems come back as errors and warnings, each with the element it is
about, for the modeler to mark on the diagram."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.bpmn import camunda_import, compile_definitions, kind_of
from engine.bpmn.xml import XmlRefused, parse_definition_xml
from engine.errors import DefinitionInvalid, DefinitionProblem

from . import modeler_messages
from .modeler_dataflow import ProcessIndex, decision_inputs, decision_outputs
from .modeler_model import is_executable, processes
from .modeler_rules import ERROR, WARNING, ModelProblem, RuleContext, check_model


@dataclass(frozen=True)
class Validation:
    problems: list[ModelProblem]

    @property
    def errors(self) -> list[ModelProblem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[ModelProblem]:
        return [p for p in self.problems if p.severity == WARNING]

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": not self.errors,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
        }


def file_problems(files: Mapping[str, bytes], max_bytes: int) -> list[ModelProblem]:
    problems = []
    for name, content in files.items():
        if "/" in name or "\\" in name or name.startswith(".") or not name.strip():
            problems.append(ModelProblem(ERROR, f"文件名“{name}”不能含路径", file=name))
        elif kind_of(name) is None:
            problems.append(ModelProblem(ERROR, "只能保存 .bpmn 和 .dmn 文件", file=name))
        elif len(content) > max_bytes:
            problems.append(
                ModelProblem(ERROR, f"文件超过 {max_bytes // 1024} KB 的上限", file=name)
            )
    return problems


def validate_bundle(
    file_name: str,
    files: Mapping[str, bytes],
    deployed: Mapping[str, bytes],
    load_form: Callable[[str], dict[str, Any]],
    departments: frozenset[tuple[str, str]],
    max_bytes: int,
) -> Validation:
    """Check `file_name` (a .bpmn among `files`, the edited files) with the deployed files
    around it; the other edited files (DMN tables) are checked by the engine's parse."""
    problems = file_problems(files, max_bytes)
    if problems:
        return Validation(problems)
    bundle = {**deployed, **files}
    trees: dict[str, etree._ElementTree] = {}
    for name, content in bundle.items():
        try:
            trees[name] = parse_definition_xml(content, name)
        except XmlRefused as refused:
            if name in files:
                problems.append(_engine_problem(refused.problem))
    if problems or file_name not in trees:
        return Validation(problems)
    for name, tree in trees.items():
        if kind_of(name) != "bpmn":
            continue
        # a Camunda model is checked as the engine will run it: mapped to our dialect
        imported = camunda_import.translate(tree, name, bundle)
        if name in files:
            problems += [_engine_problem(p) for p in imported.problems]
            problems += [
                ModelProblem(
                    WARNING, f"未导入 {w.attribute}：{w.message}", w.element_id, w.line, name
                )
                for w in imported.warnings
            ]
    if any(p.severity == ERROR for p in problems):
        return Validation(problems)
    decisions: dict[str, dict[str, set[Any]]] = {}
    reads: dict[str, set[str]] = {}
    for name, tree in trees.items():
        if kind_of(name) == "dmn":
            decisions.update(decision_outputs(tree))
            reads.update(decision_inputs(tree))
    bpmn = {n: t for n, t in trees.items() if kind_of(n) == "bpmn"}
    index = ProcessIndex(bpmn, load_form, decisions)
    context = RuleContext(
        load_form,
        departments,
        index.names(),
        decisions,
        index.called_writes,
        index.caller_writes,
        reads,
    )
    problems += check_model(trees[file_name], file_name, context)
    if not any(p.severity == ERROR for p in problems) and _has_executable(trees[file_name]):
        problems += _engine_problems(bundle, problems)
    return Validation(problems)


def _has_executable(tree: etree._ElementTree) -> bool:
    return any(is_executable(p) for p in processes(tree))


def _engine_problems(bundle: Mapping[str, bytes], ours: list[ModelProblem]) -> list[ModelProblem]:
    """The engine's parse of the whole bundle; a problem on an element our rules already
    reported is left out (ours says it in Chinese)."""
    try:
        compile_definitions(bundle)
    except DefinitionInvalid as refused:
        marked = {p.element_id for p in ours if p.severity == ERROR and p.element_id}
        return [_engine_problem(p) for p in refused.problems if p.element_id not in marked]
    return []


def _engine_problem(problem: DefinitionProblem) -> ModelProblem:
    message = modeler_messages.translate(problem.message)
    return ModelProblem(ERROR, message, problem.element_id, problem.line, problem.file)
