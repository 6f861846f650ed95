"""Hardened XML parsing for uploaded definitions: no DTDs, entities, network or huge trees."""

from __future__ import annotations

import re

from lxml import etree

from engine.errors import DefinitionProblem

_DTD_MARKERS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NSMAP = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}


class XmlRefused(Exception):
    def __init__(self, problem: DefinitionProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_definition_xml(content: bytes, file_name: str) -> etree._ElementTree:
    """Parse a BPMN/DMN document, refusing any document type declaration outright:
    definitions never need one, and it is where entity expansion and XXE attacks live."""
    marker = _DTD_MARKERS.search(content)
    if marker:
        line = content.count(b"\n", 0, marker.start()) + 1
        raise XmlRefused(
            DefinitionProblem(
                file_name,
                "DOCTYPE and ENTITY declarations are not allowed in definitions",
                line=line,
            )
        )
    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlRefused(
            DefinitionProblem(
                file_name, f"malformed XML: {exc.msg}", line=exc.lineno if exc.lineno else None
            )
        ) from exc
    return etree.ElementTree(root)


def line_of(tree: etree._ElementTree, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = tree.getroot().xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def id_at_line(tree: etree._ElementTree, line: int | None) -> str | None:
    """The id of the innermost element starting at `line` (or the nearest one before it)."""
    if not line:
        return None
    best = None
    for element in tree.getroot().iter():
        if not isinstance(element.tag, str) or element.sourceline is None:
            continue
        if element.sourceline > line:
            break
        if element.get("id"):
            best = element.get("id")
    return best
