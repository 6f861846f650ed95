"""Deploy side: turn BPMN/DMN files into one serialized spec per executable process."""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD, SpiffBpmnParser

from engine import expressions
from engine.domain import materials
from engine.domain.sla import YellowRule, parse_limit
from engine.errors import DefinitionInvalid, DefinitionProblem

from . import camunda_import, collect, deploy_checks, serialization
from .budgets import Budgets
from .camunda_import import ImportWarning
from .joins import PARSER_OVERRIDES
from .merge import merge_properties, rule_problems
from .returns import declared_targets as returns_declared
from .xml import NSMAP, SPIFF_NS, XmlRefused, id_at_line, line_of, parse_definition_xml

DEFINITION_SUFFIXES = {".bpmn": "bpmn", ".dmn": "dmn"}
_VALIDATOR: BpmnValidator | None = None
_MEMO_SIZE = 16
_MEMO: OrderedDict[str, tuple[list[CompiledProcess], list[ImportWarning]]] = OrderedDict()
_MEMO_LOCK = threading.Lock()


class _Parser(SpiffBpmnParser):
    """SpiffWorkflow's parser with joins that keep every branch's writes (joins.py)."""

    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, Any]] = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        **PARSER_OVERRIDES,
        **collect.PARSER_OVERRIDES,
    }


def _validator() -> BpmnValidator:
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = BpmnValidator(imports={"spiffworkflow": SPIFF_XSD})
    return _VALIDATOR


@dataclass(frozen=True)
class CompiledProcess:
    process_id: str
    name: str
    file_name: str
    spec_json: str
    subprocess_specs_json: str
    spec_hash: str
    metadata: dict[str, Any] = field(default_factory=dict)


def kind_of(file_name: str) -> str | None:
    for suffix, kind in DEFINITION_SUFFIXES.items():
        if file_name.lower().endswith(suffix):
            return kind
    return None


def compile_definitions(
    files: Mapping[str, bytes],
    warnings: list[ImportWarning] | None = None,
    *,
    budgets: Budgets | None = None,
    now: datetime | None = None,
    new_files: Collection[str] = (),
) -> list[CompiledProcess]:
    """Parse every file, validate it, and compile each executable process with the processes
    it calls. Raises DefinitionInvalid listing every problem found, each with file, id and line.
    What a Camunda model's import left out is appended to `warnings` (camunda_import.py).
    Static timers and loop cardinalities are held to `budgets`; each of `new_files` that is
    BPMN must give at least one executable process."""
    checks = (budgets or Budgets(), now or datetime.now(UTC))
    key = _memo_key(files, checks, new_files)
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
        if hit is not None:
            _MEMO.move_to_end(key)
    if hit is None:
        hit = _compile(files, checks, new_files)
        with _MEMO_LOCK:
            _MEMO[key] = hit
            while len(_MEMO) > _MEMO_SIZE:
                _MEMO.popitem(last=False)
    compiled, found = hit
    if warnings is not None:
        warnings.extend(copy.deepcopy(found))
    return copy.deepcopy(compiled)


def _memo_key(
    files: Mapping[str, bytes], checks: tuple[Budgets, datetime], new_files: Collection[str]
) -> str:
    """The same files under the same budgets on the same day compile to the same specs (every
    server start and every test fixture deploys processes/ again)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{len(files[name])}\0".encode())
        digest.update(files[name])
    digest.update(f"{checks[0]!r}\0{checks[1].date()}\0{sorted(new_files)!r}".encode())
    return digest.hexdigest()


def _compile(
    files: Mapping[str, bytes], checks: tuple[Budgets, datetime], new_files: Collection[str]
) -> tuple[list[CompiledProcess], list[ImportWarning]]:
    warnings: list[ImportWarning] = []
    trees, problems = _parse_all(files, warnings, checks)
    problems.extend(deploy_checks.call_cycle_problems(trees))
    if problems:
        raise DefinitionInvalid(problems)
    parser = _Parser()
    for name, tree in trees.items():
        try:
            if kind_of(name) == "dmn":
                parser.add_dmn_xml(tree.getroot(), filename=name)
            else:
                parser.add_bpmn_xml(tree, filename=name)
        except (ValidationException, SpiffWorkflowException) as exc:
            problems.append(_problem_from(exc, name, trees))
    if problems:
        raise DefinitionInvalid(problems)

    lanes = {pid: lane for tree in trees.values() for pid, lane in _lanes_by_process(tree).items()}
    compiled = []
    for process_id, element, file_name in _executable_processes(trees):
        try:
            spec = parser.get_spec(process_id)
            sub_specs = parser.get_subprocess_specs(process_id)
        except (ValidationException, SpiffWorkflowException, KeyError) as exc:
            problems.append(_problem_from(exc, file_name, trees, fallback_id=process_id))
            continue
        spec_json = serialization.dump_spec(spec)
        subs_json = serialization.dump_subprocess_specs(sub_specs)
        digest = hashlib.sha256(f"{spec_json}\n{subs_json}".encode()).hexdigest()
        involved = [process_id, *sorted(sub_specs)]
        metadata = {
            "lanes": {pid: lanes.get(pid, {}) for pid in involved if pid in lanes}
            | _embedded_lanes(element, lanes),
            "documentation": _documentation(element),
            "process_properties": _properties(element),
            "called_processes": sorted(sub_specs),
        }
        compiled.append(
            CompiledProcess(
                process_id,
                element.get("name") or process_id,
                file_name,
                spec_json,
                subs_json,
                digest,
                metadata,
            )
        )
    called = {pid for c in compiled for pid in c.metadata["called_processes"]}
    problems.extend(
        deploy_checks.files_without_process(
            trees, new_files, {c.file_name for c in compiled}, called
        )
    )
    if problems:
        raise DefinitionInvalid(problems)
    return compiled, warnings


def _parse_all(
    files: Mapping[str, bytes], warnings: list[ImportWarning], checks: tuple[Budgets, datetime]
) -> tuple[dict[str, Any], list[DefinitionProblem]]:
    trees: dict[str, Any] = {}
    problems: list[DefinitionProblem] = []
    for name, content in files.items():
        if kind_of(name) is None:
            problems.append(DefinitionProblem(name, "only .bpmn and .dmn files can be deployed"))
            continue
        try:
            tree = parse_definition_xml(content, name)
        except XmlRefused as refused:
            problems.append(refused.problem)
            continue
        mismatch = deploy_checks.kind_problem(tree, name, kind_of(name) or "")
        if mismatch is not None:
            problems.append(mismatch)
            continue
        if kind_of(name) == "bpmn":
            imported = camunda_import.translate(tree, name, files)
            warnings.extend(imported.warnings)
            schema_problem = _schema_problem(tree, name)
            found = (
                imported.problems
                or ([schema_problem] if schema_problem is not None else [])
                or _reference_problems(tree, name)
                + _sla_problems(tree, name)
                + _merge_problems(tree, name)
                + collect.collect_problems(tree, name)
                + _return_problems(tree, name)
                + _expression_problems(tree, name)
                + deploy_checks.budget_problems(tree, name, *checks)
            )
            if found:
                problems.extend(found)
                continue
        trees[name] = tree
    return trees, problems


def _schema_problem(tree, file_name: str) -> DefinitionProblem | None:
    validator = _validator()
    validator.preprocess(tree)
    if validator.validator.validate(tree):
        return None
    error = validator.validator.error_log.last_error
    return DefinitionProblem(
        file_name,
        f"not valid BPMN 2.0: {error.message}",
        element_id=id_at_line(tree, error.line),
        line=error.line,
    )


def _embedded_lanes(process: etree._Element, lanes: dict[str, Any]) -> dict[str, Any]:
    ids = [
        e.get("id")
        for kind in ("subProcess", "transaction")
        for e in process.iter(f"{{{NSMAP['bpmn']}}}{kind}")
    ]
    return {i: lanes[i] for i in ids if i in lanes}


def _reference_problems(tree, file_name: str) -> list[DefinitionProblem]:
    """Sequence flows must join elements of their own process (SpiffWorkflow's message for a
    dangling reference names the wrong element)."""
    problems = []
    for process in tree.getroot().iterfind("bpmn:process", NSMAP):
        ids = {e.get("id") for e in process.iter() if isinstance(e.tag, str) and e.get("id")}
        for flow in process.iter(f"{{{NSMAP['bpmn']}}}sequenceFlow"):
            for end in ("sourceRef", "targetRef"):
                ref = flow.get(end)
                if ref not in ids:
                    problems.append(
                        DefinitionProblem(
                            file_name,
                            f"sequence flow {end} '{ref}' names no element of process "
                            f"'{process.get('id')}'",
                            element_id=flow.get("id"),
                            line=flow.sourceline,
                        )
                    )
    return problems


def _sla_problems(tree, file_name: str) -> list[DefinitionProblem]:
    """Time-limit properties are checked at deploy time, not when a clerk's task starts."""
    problems = []
    for element in tree.getroot().iter():
        if not isinstance(element.tag, str) or not element.get("id"):
            continue
        props = _properties(element)
        limits = {}
        for key in ("sla_statutory", "sla_committed", "sla_overall"):
            if key in props:
                try:
                    limits[key] = parse_limit(props[key])
                except ValueError as exc:
                    problems.append(_located(file_name, element, f"{key}: {exc}"))
        if materials.PROPERTY in props:  # a task's 材料清单 (engine/domain/materials.py)
            try:
                materials.parse_property(props[materials.PROPERTY])
            except ValueError as exc:
                problems.append(_located(file_name, element, str(exc)))
        if "sla_yellow" in props:
            try:
                YellowRule.parse(props["sla_yellow"])
            except ValueError as exc:
                problems.append(_located(file_name, element, f"sla_yellow: {exc}"))
        statutory, committed = limits.get("sla_statutory"), limits.get("sla_committed")
        if (
            statutory
            and committed
            and statutory.unit == committed.unit
            and committed.days > statutory.days
        ):
            problems.append(
                _located(
                    file_name, element, "the committed limit (承诺时限) exceeds the statutory one"
                )
            )
    return problems


_JOIN_TAGS = ("parallelGateway", "inclusiveGateway")


def _merge_problems(tree, file_name: str) -> list[DefinitionProblem]:
    """Merge rules (`merge`, `merge:<variable>`) belong on a joining parallel or inclusive
    gateway and name known rules."""
    problems = []
    for process in tree.getroot().iterfind("bpmn:process", NSMAP):
        incoming: dict[str, int] = {}
        for flow in process.iter(f"{{{NSMAP['bpmn']}}}sequenceFlow"):
            incoming[flow.get("targetRef")] = incoming.get(flow.get("targetRef"), 0) + 1
        for element in process.iter():
            if not isinstance(element.tag, str) or not element.get("id"):
                continue
            rules = merge_properties(_properties(element))
            if not rules:
                continue
            if etree.QName(element).localname not in _JOIN_TAGS:
                message = "merge rules belong on a parallel or inclusive gateway"
                problems.append(_located(file_name, element, message))
            elif incoming.get(element.get("id"), 0) < 2:
                message = "merge rules need a joining gateway (two or more incoming flows)"
                problems.append(_located(file_name, element, message))
            problems.extend(_located(file_name, element, p) for p in rule_problems(rules))
    return problems


_EVAL_TAGS = (
    "conditionExpression",
    "timeDate",
    "timeDuration",
    "timeCycle",
    "loopCardinality",
    "completionCondition",
)
_EXEC_TAGS = {("bpmn", "script"), ("spiffworkflow", "preScript"), ("spiffworkflow", "postScript")}


def _expression_problems(tree, file_name: str) -> list[DefinitionProblem]:
    """Conditions, scripts and timer expressions must parse in the restricted language, so a
    typo is a located deploy error instead of a case stuck in error later."""
    problems = []
    spiff = {"spiffworkflow": SPIFF_NS, "bpmn": NSMAP["bpmn"]}
    checks = [(f"{{{NSMAP['bpmn']}}}{tag}", "eval") for tag in _EVAL_TAGS]
    checks += [(f"{{{spiff[prefix]}}}{tag}", "exec") for prefix, tag in _EXEC_TAGS]
    for tag, mode in checks:
        for element in tree.getroot().iter(tag):
            text = (element.text or "").strip()
            if not text:
                continue
            try:
                expressions.validate(text, mode=mode)
            except (SyntaxError, expressions.ExpressionError) as exc:
                owner = element
                while owner is not None and not owner.get("id"):
                    owner = owner.getparent()
                problems.append(
                    DefinitionProblem(
                        file_name,
                        f"{etree.QName(element).localname}: {exc}",
                        element_id=owner.get("id") if owner is not None else None,
                        line=element.sourceline,
                    )
                )
    return problems


def _return_problems(tree, file_name: str) -> list[DefinitionProblem]:
    """`return_to` names human tasks of the same process (退回 goes to an earlier step)."""
    human = {f"{{{NSMAP['bpmn']}}}{kind}" for kind in ("userTask", "manualTask")}
    problems = []
    for process in tree.getroot().iterfind("bpmn:process", NSMAP):
        tasks = {e.get("id") for e in process.iter() if e.tag in human}
        for element in process.iter():
            if not isinstance(element.tag, str):
                continue
            for target in returns_declared(_properties(element)):
                if target not in tasks:
                    problems.append(
                        _located(
                            file_name,
                            element,
                            f"return_to '{target}' names no user task of process "
                            f"'{process.get('id')}'",
                        )
                    )
    return problems


def _located(file_name: str, element, message: str) -> DefinitionProblem:
    return DefinitionProblem(
        file_name, message, element_id=element.get("id"), line=element.sourceline
    )


def _problem_from(
    exc: Exception, file_name: str, trees: Mapping[str, Any], fallback_id: str | None = None
) -> DefinitionProblem:
    file_name = getattr(exc, "file_name", None) or file_name
    element_id = getattr(exc, "id", None) or fallback_id
    line = getattr(exc, "line_number", None)
    tree = trees.get(file_name)
    if not isinstance(line, int) or not line:
        line = line_of(tree, element_id) if tree is not None else None
    message = str(exc).split("\n")[0] or exc.__class__.__name__
    return DefinitionProblem(file_name, message, element_id=element_id or None, line=line)


def _executable_processes(trees: Mapping[str, Any]):
    for file_name, tree in trees.items():
        if kind_of(file_name) != "bpmn":
            continue
        for element in tree.getroot().iterfind("bpmn:process", NSMAP):
            if element.get("isExecutable", "true").lower() != "false":
                yield element.get("id"), element, file_name


def _lanes_by_process(tree) -> dict[str, dict[str, dict[str, Any]]]:
    """Lanes of each process by lane name; an embedded sub-process (whose tasks SpiffWorkflow
    runs as a workflow of its own) sees the lanes of the process it sits in."""
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for process in tree.getroot().iterfind("bpmn:process", NSMAP):
        lanes: dict[str, dict[str, Any]] = {}
        for lane in process.iterfind(".//bpmn:lane", NSMAP):
            name = lane.get("name") or lane.get("id")
            lanes[name] = {"id": lane.get("id"), "name": name, "properties": _properties(lane)}
        result[process.get("id")] = lanes
        for kind in ("subProcess", "transaction"):
            for embedded in process.iter(f"{{{NSMAP['bpmn']}}}{kind}"):
                result[embedded.get("id")] = lanes
    return result


def _properties(element: etree._Element) -> dict[str, str]:
    found = element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
        namespaces={**NSMAP, "spiffworkflow": SPIFF_NS},
    )
    return {p.get("name"): p.get("value", "") for p in found if p.get("name")}


def _documentation(element: etree._Element) -> str:
    doc = element.find("bpmn:documentation", NSMAP)
    return (doc.text or "").strip() if doc is not None else ""
