"""The processes as the dashboard shows them: the newest version of each, its diagram's XML and
the names of its user tasks (steps are grouped by element id; the names come from the newest
diagram, read once per version)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn.xml import NSMAP, parse_definition_xml
from engine.db.tables import ProcessVersion

from .case_diagram import version_xml

STEP_KINDS = ("userTask", "manualTask")


@dataclass(frozen=True)
class ProcessDiagram:
    process_id: str
    name: str
    version_id: int
    xml: str
    steps: dict[str, str]  # user task id -> name, in diagram order


class DiagramBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_version: dict[int, ProcessDiagram] = {}

    def latest(self, session: Session) -> dict[str, ProcessDiagram]:
        """The newest version of each process (only its few small columns are read: the
        serialized specs are large), its diagram parsed once per version."""
        newest = (
            select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("version"))
            .group_by(ProcessVersion.process_id)
            .subquery()
        )
        versions = session.execute(
            select(
                ProcessVersion.id,
                ProcessVersion.process_id,
                ProcessVersion.name,
                ProcessVersion.file_name,
                ProcessVersion.deployment_id,
            )
            .join(
                newest,
                (newest.c.process_id == ProcessVersion.process_id)
                & (newest.c.version == ProcessVersion.version),
            )
            .order_by(ProcessVersion.process_id)
        ).all()
        return {v.process_id: self._diagram(session, v) for v in versions}

    def _diagram(self, session: Session, version: Any) -> ProcessDiagram:
        with self._lock:
            known = self._by_version.get(version.id)
        if known is not None:
            return known
        xml = version_xml(session, version)
        diagram = ProcessDiagram(
            version.process_id,
            version.name or version.process_id,
            version.id,
            xml,
            step_names(xml, version.process_id),
        )
        with self._lock:
            self._by_version[version.id] = diagram
        return diagram


def step_names(xml: str, process_id: str) -> dict[str, str]:
    """The user tasks of one process of a BPMN document (embedded sub-processes included)."""
    if not xml:
        return {}
    root = parse_definition_xml(xml.encode(), process_id).getroot()
    process = next(
        (p for p in root.iterfind("bpmn:process", NSMAP) if p.get("id") == process_id), None
    )
    if process is None:
        return {}
    kinds = {f"{{{NSMAP['bpmn']}}}{kind}" for kind in STEP_KINDS}
    return {
        element.get("id"): " ".join((element.get("name") or element.get("id")).split())
        for element in process.iter()
        if isinstance(element.tag, str) and element.tag in kinds
    }
