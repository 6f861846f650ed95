"""Reading a BPMN file the way the modeler's checks need it: processes, lanes, flow elements,
our extension properties (spiffworkflow:property), expressions and what they sit on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from engine.bpmn.xml import NSMAP, SPIFF_NS

BPMN = NSMAP["bpmn"]
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF_NS}
HUMAN_TASKS = ("userTask", "manualTask")
RETURN_SEPARATORS = re.compile(r"[\s,;，、]+")
# what the engine evaluates (eval) or runs (exec), by tag
EVAL_TAGS = (
    "conditionExpression",
    "timeDate",
    "timeDuration",
    "timeCycle",
    "loopCardinality",
    "completionCondition",
)
EXEC_TAGS = ((BPMN, "script"), (SPIFF_NS, "preScript"), (SPIFF_NS, "postScript"))
# explicit routing: user-task properties naming the variable that holds the department(s)
ROUTING_PROPERTIES = ("dept_types_from", "dept_type_from", "departments_from", "department_from")


def tag(local: str, ns: str = BPMN) -> str:
    return f"{{{ns}}}{local}"


def local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def properties(element: etree._Element) -> dict[str, str]:
    """The element's own spiffworkflow:property values, by name."""
    found = element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
        namespaces=NS,
    )
    return {p.get("name"): p.get("value", "") for p in found if p.get("name")}


def extension_text(element: etree._Element, name: str) -> str | None:
    found = element.find(f"bpmn:extensionElements/spiffworkflow:{name}", NS)
    return None if found is None else (found.text or "").strip()


def return_targets(props: dict[str, str]) -> list[str]:
    return [t for t in RETURN_SEPARATORS.split(props.get("return_to", "")) if t]


def processes(tree: etree._ElementTree) -> list[etree._Element]:
    return list(tree.getroot().iterfind("bpmn:process", NS))


def is_executable(process: etree._Element) -> bool:
    return process.get("isExecutable", "true").lower() != "false"


def owner_with_id(element: etree._Element) -> etree._Element | None:
    node = element
    while node is not None and not (isinstance(node.tag, str) and node.get("id")):
        node = node.getparent()
    return node


def elements(process: etree._Element, *kinds: str) -> Iterator[etree._Element]:
    for kind in kinds:
        yield from process.iter(tag(kind))


@dataclass(frozen=True)
class Expression:
    owner_id: str | None  # the element the expression belongs to (a flow, a task, an event)
    kind: str  # conditionExpression, script, timeDate, …
    mode: str  # eval | exec
    text: str
    line: int | None


def expressions(root: etree._Element) -> list[Expression]:
    found = []
    checks = [(tag(t), t, "eval") for t in EVAL_TAGS]
    checks += [(tag(t, ns), t, "exec") for ns, t in EXEC_TAGS]
    for full, kind, mode in checks:
        for element in root.iter(full):
            text = (element.text or "").strip()
            if not text:
                continue
            owner = owner_with_id(element)
            found.append(
                Expression(
                    owner.get("id") if owner is not None else None,
                    kind,
                    mode,
                    element.text or "",
                    element.sourceline,
                )
            )
    return found


def lanes_of(process: etree._Element) -> dict[str, etree._Element]:
    """Each flow node id → the innermost lane holding it."""
    holder: dict[str, etree._Element] = {}
    for lane in process.iter(tag("lane")):
        if lane.find("bpmn:childLaneSet", NS) is not None:
            continue
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            holder[(ref.text or "").strip()] = lane
    return holder


def flows_from(process: etree._Element) -> dict[str, list[etree._Element]]:
    found: dict[str, list[etree._Element]] = {}
    for flow in process.iter(tag("sequenceFlow")):
        found.setdefault(flow.get("sourceRef") or "", []).append(flow)
    return found


def condition_of(flow: etree._Element) -> str:
    return (flow.findtext("bpmn:conditionExpression", default="", namespaces=NS) or "").strip()


def name_or_id(element: etree._Element) -> str:
    return element.get("name") or element.get("id") or local(element)
