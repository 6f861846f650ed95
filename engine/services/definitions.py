"""Deploying BPMN/DMN definitions and finding the version an instance runs on."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn import Budgets, LoadedSpec, compile_definitions, kind_of, load_spec
from engine.clock import Clock
from engine.db.tables import DefinitionFile, Deployment, ProcessVersion
from engine.errors import (
    BadRequest,
    Conflict,
    DefinitionInvalid,
    DefinitionProblem,
    NotFound,
    PermissionDenied,
)

from .actor import Actor
from .uow import UnitOfWork

DEPLOY_ATTEMPTS = 3


@dataclass(frozen=True)
class DeployOutcome:
    deployment_id: int | None
    created: list[dict[str, Any]]
    unchanged: list[dict[str, Any]]
    # what the import of a Camunda model left out (engine/bpmn/camunda_import.py)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "deployment_id": self.deployment_id,
            "created": self.created,
            "unchanged": self.unchanged,
            "warnings": self.warnings,
        }


class DefinitionService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        max_upload_bytes: int,
        budgets: Budgets | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.max_upload_bytes = max_upload_bytes
        self.budgets = budgets or Budgets()

    def deploy(
        self, files: Mapping[str, bytes], actor: Actor, source: str = "api"
    ) -> DeployOutcome:
        """Deploy files together with every current file (call activities and DMN decisions
        resolve across files). A process whose compiled spec changed gets a new version."""
        if not actor.is_admin:
            raise PermissionDenied("此功能仅限系统管理员使用")
        if not files:
            raise BadRequest("请以 multipart 字段 files 上传 .bpmn/.dmn 文件")
        self._check_files(files)
        for _ in range(DEPLOY_ATTEMPTS):
            with self.uow.read() as session:
                current = {
                    n: (f.id, f.sha256, f.content) for n, f in self._current_files(session).items()
                }
            changed = {
                n: c for n, c in files.items() if n not in current or current[n][1] != _sha(c)
            }
            bundle = {n: content.encode() for n, (_, _, content) in current.items()}
            bundle.update(files)
            import_warnings: list[Any] = []
            # compiled outside any transaction: a large or hostile model takes seconds to parse
            # and check, and on SQLite a write transaction would hold the one write lock meanwhile
            compiled = compile_definitions(
                bundle, import_warnings, budgets=self.budgets, now=self.clock.now(), new_files=files
            )
            with self.uow.write() as session:
                now_current = {n: f.id for n, f in self._current_files(session).items()}
                if now_current != {n: ids for n, (ids, _, _) in current.items()}:
                    continue  # another deployment landed meanwhile: compile against its files
                outcome = self._record(session, compiled, changed, actor, source)
            warnings = [w.as_dict() for w in import_warnings if w.file in files]
            return DeployOutcome(
                outcome.deployment_id, outcome.created, outcome.unchanged, warnings
            )
        raise Conflict("其他管理员正在部署流程，请稍后重试")

    def _record(
        self,
        session: Session,
        compiled: list[Any],
        changed: Mapping[str, bytes],
        actor: Actor,
        source: str,
    ) -> DeployOutcome:
        latest = self._latest_versions(session)
        now = self.clock.now()
        deployment = Deployment(deployed_at=now, deployed_by=actor.username, source=source)
        created, unchanged = [], []
        for process in compiled:
            previous = latest.get(process.process_id)
            if previous is not None and previous.spec_hash == process.spec_hash:
                unchanged.append(_version_dict(previous))
                continue
            if deployment.id is None:
                session.add(deployment)
                session.flush()
            row = ProcessVersion(
                process_id=process.process_id,
                version=(previous.version + 1) if previous else 1,
                name=process.name,
                spec_hash=process.spec_hash,
                spec_json=process.spec_json,
                subprocess_specs_json=process.subprocess_specs_json,
                metadata_json=process.metadata,
                file_name=process.file_name,
                deployment_id=deployment.id,
                deployed_at=now,
            )
            session.add(row)
            session.flush()
            created.append(_version_dict(row))
        if changed:
            if deployment.id is None:
                session.add(deployment)
                session.flush()
            for name, content in changed.items():
                session.add(
                    DefinitionFile(
                        deployment_id=deployment.id,
                        file_name=name,
                        kind=kind_of(name),
                        sha256=_sha(content),
                        content=content.decode("utf-8"),
                        deployed_at=now,
                    )
                )
        return DeployOutcome(deployment.id, created, unchanged)

    def deploy_directory(self, directory: Path, actor: Actor) -> DeployOutcome:
        """Deploy the directory's files. A file the directory still holds as it was last
        deployed from here, but that was deployed since from elsewhere (the modeler, the
        API), keeps that newer content: a restart does not undo an administrator's change."""
        files = {
            p.name: p.read_bytes()
            for p in sorted(directory.glob("*"))
            if p.is_file() and kind_of(p.name)
        }
        if not files:
            return DeployOutcome(None, [], [])
        with self.uow.read() as session:
            current = self._current_files(session)
            from_here = self._startup_hashes(session)
        for name, content in files.items():
            newer = current.get(name)
            if newer is not None and from_here.get(name) == _sha(content) != newer.sha256:
                files[name] = newer.content.encode()
        return self.deploy(files, actor, source="startup")

    def list_versions(self, process_id: str | None = None) -> list[dict[str, Any]]:
        with self.uow.read() as session:
            query = select(ProcessVersion).order_by(
                ProcessVersion.process_id, ProcessVersion.version.desc()
            )
            if process_id:
                query = query.where(ProcessVersion.process_id == process_id)
            return [_version_dict(v) for v in session.scalars(query)]

    def file_content(self, file_name: str) -> str:
        with self.uow.read() as session:
            row = self._current_files(session).get(file_name)
            if row is None:
                raise NotFound(f"没有已部署的文件 {file_name}")
            return row.content

    # ---- used by other services inside their own transaction ---------------------------
    @staticmethod
    def latest(session: Session, process_id: str) -> ProcessVersion:
        row = session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        ).first()
        if row is None:
            raise NotFound(f"没有已部署的流程 {process_id}")
        return row

    @staticmethod
    def loaded(row: ProcessVersion) -> LoadedSpec:
        return load_spec(row.id, row.process_id, row.spec_json, row.subprocess_specs_json)

    # ---- internals ----------------------------------------------------------------------
    def _check_files(self, files: Mapping[str, bytes]) -> None:
        problems = []
        for name, content in files.items():
            if "/" in name or "\\" in name or name.startswith("."):
                problems.append(DefinitionProblem(name, "file names may not contain paths"))
            elif kind_of(name) is None:
                problems.append(
                    DefinitionProblem(name, "only .bpmn and .dmn files can be deployed")
                )
            elif len(content) > self.max_upload_bytes:
                problems.append(
                    DefinitionProblem(name, f"file is larger than {self.max_upload_bytes} bytes")
                )
            else:
                try:
                    content.decode("utf-8")
                except UnicodeDecodeError:
                    problems.append(DefinitionProblem(name, "file is not UTF-8 text"))
        if problems:
            raise DefinitionInvalid(problems)

    @staticmethod
    def _current_files(session: Session) -> dict[str, DefinitionFile]:
        newest = (
            select(DefinitionFile.file_name, func.max(DefinitionFile.id).label("id"))
            .group_by(DefinitionFile.file_name)
            .subquery()
        )
        rows = session.scalars(
            select(DefinitionFile).join(newest, DefinitionFile.id == newest.c.id)
        )
        return {r.file_name: r for r in rows}

    @staticmethod
    def _startup_hashes(session: Session) -> dict[str, str]:
        newest = (
            select(DefinitionFile.file_name, func.max(DefinitionFile.id).label("id"))
            .join(Deployment, Deployment.id == DefinitionFile.deployment_id)
            .where(Deployment.source == "startup")
            .group_by(DefinitionFile.file_name)
            .subquery()
        )
        rows = session.execute(
            select(DefinitionFile.file_name, DefinitionFile.sha256).join(
                newest, DefinitionFile.id == newest.c.id
            )
        )
        return {name: sha for name, sha in rows}

    @staticmethod
    def _latest_versions(session: Session) -> dict[str, ProcessVersion]:
        newest = (
            select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("v"))
            .group_by(ProcessVersion.process_id)
            .subquery()
        )
        rows = session.scalars(
            select(ProcessVersion).join(
                newest,
                (ProcessVersion.process_id == newest.c.process_id)
                & (ProcessVersion.version == newest.c.v),
            )
        )
        return {r.process_id: r for r in rows}


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _version_dict(row: ProcessVersion) -> dict[str, Any]:
    return {
        "id": row.id,
        "process_id": row.process_id,
        "version": row.version,
        "name": row.name,
        "file_name": row.file_name,
        "spec_hash": row.spec_hash,
        "deployed_at": row.deployed_at.isoformat(),
        "called_processes": row.metadata_json.get("called_processes", []),
        "start_form_key": row.metadata_json.get("process_properties", {}).get("startFormKey"),
    }
