"""The browser modeler's service (administrators only): a process's current diagram and its
versions, what the property panel offers (department types, forms, processes, decisions),
validation, deployment of a new version, the differences between two versions, the DMN file of
a decision, the syntax check as you type, and the round-trip check of an export."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn import kind_of
from engine.bpmn.xml import XmlRefused, parse_definition_xml
from engine.clock import Clock
from engine.db.tables import (
    DefinitionFile,
    Department,
    Deployment,
    ProcessVersion,
    Region,
)
from engine.domain.organisation import DEPARTMENT_TYPES, LEVEL_NAMES, LEVELS
from engine.errors import DefinitionInvalid, DefinitionProblem, NotFound

from . import modeler_expressions, modeler_roundtrip
from .access import Access
from .actor import Actor
from .attachment_materials import MaterialsCatalog
from .case_diagram import version_xml
from .definitions import DefinitionService
from .forms import FormRegistry
from .modeler_diff import diff_models
from .modeler_drafts import ModelDrafts
from .modeler_model import HUMAN_TASKS, elements, local, processes
from .modeler_validation import Validation, validate_bundle
from .uow import UnitOfWork

DEPLOY_SOURCE = "modeler"


class ModelRefused(DefinitionInvalid):
    """A model with errors: nothing is deployed. 422 with every problem."""

    def __init__(self, validation: Validation) -> None:
        super().__init__(
            [
                DefinitionProblem(p.file or "", p.message, p.element_id, p.line)
                for p in validation.errors
            ]
        )
        self.message = _refusal(validation)
        self.details["warnings"] = [p.as_dict() for p in validation.warnings]


def _refusal(validation: Validation) -> str:
    not_executable = [p for p in validation.errors if "未标记为可执行" in p.message]
    if not_executable and len(not_executable) == len(validation.errors):
        return f"该模型不能部署：{not_executable[0].message}"
    return f"模型有 {len(validation.errors)} 处错误，未部署。请按图中标红处修改后再部署"


class ModelerService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        access: Access,
        definitions: DefinitionService,
        forms: FormRegistry,
        max_bytes: int,
        materials: MaterialsCatalog | None = None,
    ) -> None:
        self.uow = uow
        self.materials = materials
        self.access = access
        self.definitions = definitions
        self.forms = forms
        self.max_bytes = max_bytes
        self.drafts = ModelDrafts(uow, clock, access, max_bytes)

    # ---- reading ----------------------------------------------------------------------------
    def model(self, actor: Actor, process_id: str) -> dict[str, Any]:
        """The process's newest deployed diagram, its versions and its drafts."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            latest = DefinitionService.latest(session, process_id)
            xml = version_xml(session, latest)
            versions = self._versions(session, process_id)
        return {
            "process_id": process_id,
            "name": latest.name,
            "file_name": latest.file_name,
            "version": latest.version,
            "xml": xml,
            "versions": versions,
            "drafts": self.drafts.list(actor, process_id),
            "materials": self._materials(process_id, xml),
        }

    def choices(self, actor: Actor) -> dict[str, Any]:
        """What the property panel's drop-downs offer."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            names = {
                row.process_id: row.name
                for row in session.scalars(select(ProcessVersion).order_by(ProcessVersion.version))
            }
            deployed = self._deployed_files(session)
        decisions = []
        for file_name, content in sorted(deployed.items()):
            if kind_of(file_name) == "dmn":
                decisions += [{**d, "file_name": file_name} for d in _decisions_in(content)]
        return {
            "department_types": [{"code": c, "name": n} for c, n in DEPARTMENT_TYPES.items()],
            "levels": [{"code": c, "name": LEVEL_NAMES[c]} for c in LEVELS],
            "forms": self._forms(),
            "processes": [{"id": p, "name": n} for p, n in sorted(names.items())],
            "decisions": decisions,
        }

    def decision(self, actor: Actor, decision_id: str) -> dict[str, Any]:
        """The deployed DMN file that holds `decision_id`, for the decision table editor."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            deployed = self._deployed_files(session)
        for file_name, content in sorted(deployed.items()):
            if kind_of(file_name) != "dmn":
                continue
            if any(d["id"] == decision_id for d in _decisions_in(content)):
                return {
                    "decision_id": decision_id,
                    "file_name": file_name,
                    "xml": content.decode("utf-8"),
                }
        raise NotFound(f"没有部署名为“{decision_id}”的决策表")

    # ---- checking ---------------------------------------------------------------------------
    def validate(
        self, actor: Actor, file_name: str, xml: str, extra_files: Mapping[str, str] | None = None
    ) -> Validation:
        self.access.require_admin(actor)
        files = {file_name: xml.encode("utf-8")}
        files.update({n: c.encode("utf-8") for n, c in (extra_files or {}).items()})
        with self.uow.read() as session:
            deployed = self._deployed_files(session)
            departments = self._departments(session)
        return validate_bundle(
            file_name, files, deployed, self.forms.schema, departments, self.max_bytes
        )

    def check_expression(self, actor: Actor, text: str, mode: str) -> dict[str, Any]:
        self.access.require_admin(actor)
        return modeler_expressions.check(text, mode).as_dict()

    def round_trip(
        self, actor: Actor, original: str, exported: str, file_name: str
    ) -> dict[str, Any]:
        self.access.require_admin(actor)
        return modeler_roundtrip.compare(_utf8(original), _utf8(exported), file_name)

    # ---- deploying --------------------------------------------------------------------------
    def deploy(
        self, actor: Actor, file_name: str, xml: str, extra_files: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Validate, then deploy through DefinitionService: a process whose compiled spec
        changed gets a new version; running cases stay on theirs."""
        validation = self.validate(actor, file_name, xml, extra_files)
        if validation.errors:
            raise ModelRefused(validation)
        files = {file_name: xml.encode("utf-8")}
        files.update({n: c.encode("utf-8") for n, c in (extra_files or {}).items()})
        outcome = self.definitions.deploy(files, actor, source=DEPLOY_SOURCE)
        return {**outcome.as_dict(), "warnings": [p.as_dict() for p in validation.warnings]}

    # ---- versions ---------------------------------------------------------------------------
    def diff(
        self, actor: Actor, process_id: str, base: int | None = None, target: int | None = None
    ) -> dict[str, Any]:
        """Elements added, removed and changed (with the changed properties) from version
        `base` (default: the one before `target`) to version `target` (default: the newest),
        and both diagrams to show them on."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            if target is None:
                target = DefinitionService.latest(session, process_id).version
            if base is None:
                base = max(target - 1, 1)
            rows = {
                row.version: row
                for row in session.scalars(
                    select(ProcessVersion).where(
                        ProcessVersion.process_id == process_id,
                        ProcessVersion.version.in_([base, target]),
                    )
                )
            }
            for number in (base, target):
                if number not in rows:
                    raise NotFound(f"流程“{process_id}”没有版本 {number}")
            xml = {number: version_xml(session, rows[number]) for number in (base, target)}
            versions = self._versions(session, process_id)
        return {
            "process_id": process_id,
            "name": rows[target].name,
            "base": base,
            "target": target,
            "base_xml": xml[base],
            "target_xml": xml[target],
            "versions": versions,
            **diff_models(xml[base].encode("utf-8"), xml[target].encode("utf-8")),
        }

    # ---- internals --------------------------------------------------------------------------
    @staticmethod
    def _versions(session: Session, process_id: str) -> list[dict[str, Any]]:
        rows = session.execute(
            select(ProcessVersion, Deployment)
            .join(Deployment, Deployment.id == ProcessVersion.deployment_id)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
        ).all()
        return [
            {
                "version": version.version,
                "name": version.name,
                "deployed_at": version.deployed_at.isoformat(),
                "deployed_by": deployment.deployed_by,
                "source": deployment.source,
            }
            for version, deployment in rows
        ]

    @staticmethod
    def _deployed_files(session: Session) -> dict[str, bytes]:
        newest = (
            select(DefinitionFile.file_name, func.max(DefinitionFile.id).label("id"))
            .group_by(DefinitionFile.file_name)
            .subquery()
        )
        rows = session.scalars(
            select(DefinitionFile).join(newest, DefinitionFile.id == newest.c.id)
        )
        return {row.file_name: row.content.encode("utf-8") for row in rows}

    @staticmethod
    def _departments(session: Session) -> frozenset[tuple[str, str]]:
        rows = session.execute(
            select(Department.dept_type, Region.level)
            .join(Region, Region.code == Department.region_code)
            .where(Department.is_active)
            .distinct()
        ).all()
        return frozenset((dept_type, level) for dept_type, level in rows)

    def _materials(self, process_id: str, xml: str) -> dict[str, list[dict[str, Any]]]:
        """processes/materials.csv's rows by human task: what a task without a `materials`
        property of its own asks for (the panel offers them as the start of its own list)."""
        if self.materials is None:
            return {}
        try:
            tree = parse_definition_xml(xml.encode("utf-8"), "model.bpmn")
        except XmlRefused:
            return {}
        found = {}
        for process in processes(tree):
            for element in elements(process, *HUMAN_TASKS):
                owner = process.get("id") or process_id
                rows = self.materials.for_task(owner, element.get("id") or "")
                if rows:
                    found[element.get("id")] = [
                        {"name": m.name, "required": m.required, "note": m.note} for m in rows
                    ]
        return found

    def _forms(self) -> list[dict[str, str]]:
        found = []
        for path in sorted(self.forms.directory.glob("*.json")):
            try:
                title = str(self.forms.schema(path.stem).get("title") or path.stem)
            except (NotFound, DefinitionInvalid):
                title = f"{path.stem}（定义有误）"
            found.append({"key": path.stem, "title": title})
        return found


def _decisions_in(content: bytes) -> list[dict[str, str]]:
    try:
        tree = parse_definition_xml(content, "decision.dmn")
    except XmlRefused:
        return []
    return [
        {"id": e.get("id"), "name": e.get("name") or e.get("id")}
        for e in tree.getroot().iter()
        if local(e) == "decision" and e.get("id")
    ]


_ENCODING = re.compile(r"^(\s*<\?xml[^>]*?)\s+encoding=[\"'][^\"']*[\"']")


def _utf8(text: str) -> bytes:
    """Text already decoded: its declaration may name another encoding (ISO-8859-1)."""
    return _ENCODING.sub(r"\1", text, count=1).encode("utf-8")
