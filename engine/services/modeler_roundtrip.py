"""Whether a diagram survived the modeler: every element of the original file, with its
attributes (extension attributes too), its text and its layout (bounds, waypoints), must be in
the file the modeler exported. The exporter may add things (ids, defaults), never drop any.

Each XML element is compared under its nearest ancestor with an id, so moving an element is
not "the same", while the order of siblings does not matter. QName values (`xsi:type`) are
compared by namespace, numbers by value (0.01 precision), and an attribute left out because
it holds the BPMN 2.0 schema's default value (`isForCompensation="false"`) is not lost."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from engine.bpmn.xml import XmlRefused, parse_definition_xml
from engine.errors import DefinitionInvalid

_QNAME = re.compile(r"^([A-Za-z_][\w.-]*):([\w.-]+)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_LINE_BREAK = re.compile(r"[ \t]*\n")
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
DC = "http://www.omg.org/spec/DD/20100524/DC"
# attribute defaults of the BPMN 2.0 / BPMN DI schemas: writing them out is optional
SCHEMA_DEFAULTS = {
    "gatewayDirection": "Unspecified",
    "instantiate": "false",
    "eventGatewayType": "Exclusive",
    "mustUnderstand": "false",
    "isReference": "false",
    "textFormat": "text/plain",
    "isInterrupting": "true",
    "parallelMultiple": "false",
    "cancelActivity": "true",
    "waitForCompletion": "true",
    "isCollection": "false",
    "isUnlimited": "true",
    "minimum": "0",
    "maximum": "1",
    "loopType": "None",
    "isForCompensation": "false",
    "startQuantity": "1",
    "completionQuantity": "1",
    "triggeredByEvent": "false",
    "isSequential": "false",
    "behavior": "All",
    "testBefore": "false",
    "cancelRemainingInstances": "true",
    "expressionLanguage": "http://www.w3.org/1999/XPath",
    "typeLanguage": "http://www.w3.org/2001/XMLSchema",
    "messageVisibleKind": "initiating",
    "x": "0",
    "y": "0",
}
# xsi:type that only repeats the element's own type (`<di:waypoint xsi:type="dc:Point">`)
_IMPLIED_TYPES = {"waypoint": f"{{{DC}}}Point", "Bounds": f"{{{DC}}}Bounds"}

Item = tuple[dict[str, str], str]  # attributes, text


def compare(original: bytes, exported: bytes, file_name: str = "model.bpmn") -> dict[str, Any]:
    """{"ok", "checked": elements compared, "lost": [{"element_id", "path", "problem"}],
    "dangling": references to elements the original itself does not have (a modeler drops
    them: they point nowhere)}"""
    root = _parse(original, file_name)
    ids = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    before, after = _groups(root), _groups(_parse(exported, file_name))
    lost: list[dict[str, Any]] = []
    dangling: list[dict[str, Any]] = []
    checked = 0
    for key, items in before.items():
        anchor, path, tag = key
        candidates = list(after.get(key, []))
        checked += len(items)
        for attributes, text in items:
            match = next((c for c in candidates if _covers(c, attributes, text)), None)
            if match is not None:
                candidates.remove(match)
                continue
            found = {"element_id": anchor or None, "path": path}
            if _is_reference(tag) and text and text.split(":")[-1] not in ids:
                dangling.append({**found, "problem": f"引用的元素“{text}”在原文件中不存在"})
                continue
            lost.append({**found, "problem": _what_differs(attributes, text, candidates)})
    return {"ok": not lost, "checked": checked, "lost": lost[:200], "dangling": dangling[:200]}


def _is_reference(tag: str) -> bool:
    return etree.QName(tag).localname.endswith("Ref")


def _parse(content: bytes, file_name: str) -> etree._Element:
    try:
        return parse_definition_xml(content, file_name).getroot()
    except XmlRefused as refused:
        raise DefinitionInvalid([refused.problem]) from None


def _groups(root: etree._Element) -> dict[tuple[str, str, str], list[Item]]:
    groups: dict[tuple[str, str, str], list[Item]] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        anchor, path = _anchor(element)
        qname = etree.QName(element)
        attributes = {}
        for name, value in element.attrib.items():
            normal = _value(element, value)
            if name == XSI_TYPE and ":" not in value and None in (element.nsmap or {}):
                normal = f"{{{element.nsmap[None]}}}{normal}"  # unprefixed: default namespace
            if name == XSI_TYPE and _IMPLIED_TYPES.get(qname.localname) == normal:
                continue
            if etree.QName(name).namespace == qname.namespace:
                name = etree.QName(name).localname  # triso:a on a triso element is plain a
            attributes[name] = normal
        tag = element.tag
        if qname.namespace == BPMN and qname.localname == "formalExpression":
            # the substitution-group spelling of <expression xsi:type="tFormalExpression">
            tag = f"{{{BPMN}}}expression"
            attributes[XSI_TYPE] = f"{{{BPMN}}}tFormalExpression"
            path = path.rsplit("/", 1)[0] + "/expression" if "/" in path else path
        text = (element.text or "").strip() if len(element) == 0 else ""
        groups.setdefault((anchor, path, tag), []).append((attributes, text))
    return groups


def _anchor(element: etree._Element) -> tuple[str, str]:
    steps = []
    node = element
    while node is not None and not node.get("id"):
        steps.append(etree.QName(node).localname)
        node = node.getparent()
    anchor = node.get("id") if node is not None else ""
    own = etree.QName(node).localname if node is not None else ""
    return anchor, "/".join([own, *reversed(steps)])


def _value(element: etree._Element, value: str) -> str:
    # line breaks in labels: a modeler may write CR LF as a space and LF
    value = _LINE_BREAK.sub("\n", value.replace("\r\n", "\n").replace("\r", " ")).strip()
    if _NUMBER.match(value):
        return f"{round(float(value), 2):g}"
    found = _QNAME.match(value)
    namespaces = element.nsmap or {}
    if found and found.group(1) in namespaces:
        return f"{{{namespaces[found.group(1)]}}}{found.group(2)}"
    return value


def _default(name: str) -> str | None:
    default = SCHEMA_DEFAULTS.get(name)
    if default is None:
        return None
    return f"{round(float(default), 2):g}" if _NUMBER.match(default) else default


def _covers(candidate: Item, attributes: dict[str, str], text: str) -> bool:
    have, have_text = candidate
    if have_text != text:
        return False
    return all(have.get(name, _default(name)) == value for name, value in attributes.items())


def _what_differs(attributes: dict[str, str], text: str, candidates: list[Item]) -> str:
    if not candidates:
        return "元素丢失"
    best = max(
        candidates,
        key=lambda c: sum(c[0].get(n, _default(n)) == v for n, v in attributes.items()),
    )
    have, have_text = best
    problems = []
    for name, value in attributes.items():
        now = have.get(name, _default(name))
        if now != value:
            label = etree.QName(name).localname
            problems.append(f"属性 {label} 由“{value}”变为“{now}”" if now else f"属性 {label} 丢失")
    if have_text != text:
        problems.append("文字内容丢失" if not have_text else "文字内容改变")
    return "；".join(problems) or "元素丢失"
