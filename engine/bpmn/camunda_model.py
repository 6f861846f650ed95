"""What importing a Camunda Modeler file collects (warnings and refusals), and the XML helpers
the mappings share to write our dialect (spiffworkflow properties and scripts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.errors import DefinitionProblem

from .xml import BPMN_NS, SPIFF_NS

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
CAMUNDA_PREFIX = "camunda"
_MAX_VALUE = 200


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def spiff(tag: str) -> str:
    return f"{{{SPIFF_NS}}}{tag}"


def camunda(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def is_camunda(name: str) -> bool:
    return name.startswith(f"{{{CAMUNDA_NS}}}")


@dataclass(frozen=True)
class ImportWarning:
    """A Camunda attribute or extension that was not imported, and why (Chinese)."""

    file: str
    element_id: str | None
    line: int | None
    attribute: str  # "camunda:assignee", "camunda:taskListener", "bpmn:serviceTask"
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "element_id": self.element_id,
            "line": self.line,
            "attribute": self.attribute,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ImportResult:
    warnings: list[ImportWarning] = field(default_factory=list)
    problems: list[DefinitionProblem] = field(default_factory=list)


class Context:
    """One file's import: where warnings and refusals go."""

    def __init__(self, file_name: str, root: etree._Element) -> None:
        self.file_name = file_name
        self.root = root
        self.result = ImportResult()
        self.candidate_groups: list[tuple[etree._Element, str]] = []
        self.created_lanes: dict[tuple[Any, ...], etree._Element] = {}

    def warn(self, element: etree._Element, attribute: str, value: Any, message: str) -> None:
        owner = owner_of(element)
        text = " ".join(str(value or "").split())
        self.result.warnings.append(
            ImportWarning(
                self.file_name,
                owner.get("id") if owner is not None else None,
                element.sourceline,
                attribute if ":" in attribute else f"{CAMUNDA_PREFIX}:{attribute}",
                text[:_MAX_VALUE],
                message,
            )
        )

    def refuse(self, element: etree._Element, message: str) -> None:
        owner = owner_of(element)
        self.result.problems.append(
            DefinitionProblem(
                self.file_name,
                message,
                element_id=owner.get("id") if owner is not None else None,
                line=element.sourceline,
            )
        )

    def unique_id(self, base: str) -> str:
        taken = {e.get("id") for e in self.root.iter() if isinstance(e.tag, str)}
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        return candidate


def owner_of(element: etree._Element) -> etree._Element | None:
    """The nearest element (itself or an ancestor) with an id."""
    owner = element
    while owner is not None and not (isinstance(owner.tag, str) and owner.get("id")):
        owner = owner.getparent()
    return owner


def pop(element: etree._Element, name: str) -> str | None:
    """Take a camunda attribute off the element, returning its value."""
    key = camunda(name)
    value = element.get(key)
    if value is not None:
        del element.attrib[key]
    return value


def camunda_extensions(element: etree._Element, name: str | None = None) -> list[etree._Element]:
    ext = element.find(bpmn("extensionElements"))
    if ext is None:
        return []
    return [
        child
        for child in ext
        if isinstance(child.tag, str)
        and is_camunda(child.tag)
        and (name is None or local(child) == name)
    ]


def extension_elements(element: etree._Element) -> etree._Element:
    """The element's bpmn:extensionElements, created after any documentation (the XSD order)."""
    ext = element.find(bpmn("extensionElements"))
    if ext is not None:
        return ext
    ext = etree.Element(bpmn("extensionElements"))
    position = 0
    for index, child in enumerate(element):
        if isinstance(child.tag, str) and child.tag != bpmn("documentation"):
            break
        position = index + 1
    element.insert(position, ext)
    return ext


def properties(element: etree._Element) -> dict[str, str]:
    found = element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
        namespaces={"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS},
    )
    return {p.get("name"): p.get("value", "") for p in found if p.get("name")}


def set_property(element: etree._Element, name: str, value: str) -> None:
    ext = extension_elements(element)
    holder = ext.find(spiff("properties"))
    if holder is None:
        holder = etree.SubElement(ext, spiff("properties"))
    for existing in holder.findall(spiff("property")):
        if existing.get("name") == name:
            existing.set("value", value)
            return
    etree.SubElement(holder, spiff("property"), name=name, value=value)


def add_script(element: etree._Element, kind: str, code: str) -> None:
    """Append lines to the element's spiffworkflow preScript or postScript."""
    ext = extension_elements(element)
    script = ext.find(spiff(kind))
    if script is None:
        script = etree.SubElement(ext, spiff(kind))
        script.text = code
    else:
        script.text = f"{script.text or ''}\n{code}".strip("\n")


def set_extension_text(element: etree._Element, tag: str, text: str) -> None:
    ext = extension_elements(element)
    child = ext.find(spiff(tag))
    if child is None:
        child = etree.SubElement(ext, spiff(tag))
    child.text = text
