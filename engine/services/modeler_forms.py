"""Editing task forms (administrators only). A form stays the file forms/<formKey>.json that
FormRegistry reads (it reloads a file whose modification time changed), so saving writes the
file; every saved version is also kept in the database (form_revisions: content, who, when,
a note), the first save keeping the file it replaced, so any version can be looked at and
restored. Checks before saving: what FormRegistry refuses at start-up, our conventions (titles,
no undeclared fields), and fields that deployed diagrams still read but the form no longer has."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine.bpmn import kind_of
from engine.bpmn.xml import XmlRefused, parse_definition_xml
from engine.clock import Clock
from engine.db.modeler_tables import FormRevision
from engine.db.tables import DefinitionFile
from engine.errors import Conflict, DefinitionInvalid, FieldError, NotFound, ValidationFailed

from . import modeler_expressions as exprs
from .access import Access
from .actor import Actor
from .forms import FormInvalid, FormRegistry
from .modeler_dataflow import decision_inputs, process_writes
from .modeler_model import (
    HUMAN_TASKS,
    elements,
    expressions,
    extension_text,
    processes,
    properties,
)
from .uow import UnitOfWork

FORM_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,119}$")
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,119}$")
MAX_FORM_BYTES = 200_000
_PREFIXES = (("not JSON:", "不是有效的 JSON："), ("not a JSON Schema:", "不是有效的 JSON Schema："))
NEW_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "新表单",
    "type": "object",
    "properties": {"opinion": {"title": "办理意见", "type": "string", "maxLength": 2000}},
    "required": ["opinion"],
    "additionalProperties": False,
}


class FormEditorService:
    def __init__(self, uow: UnitOfWork, clock: Clock, access: Access, forms: FormRegistry) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.forms = forms

    def list(self, actor: Actor) -> list[dict[str, Any]]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            saved = dict(
                session.execute(
                    select(FormRevision.form_key, func.max(FormRevision.saved_at)).group_by(
                        FormRevision.form_key
                    )
                ).all()
            )
        found = []
        for path in sorted(self.forms.directory.glob("*.json")):
            try:
                title, broken = str(self.forms.schema(path.stem).get("title", "")), False
            except (NotFound, DefinitionInvalid):
                title, broken = "", True
            last = saved.get(path.stem)
            found.append(
                {
                    "key": path.stem,
                    "title": title,
                    "broken": broken,
                    "saved_at": last.isoformat() if last else None,
                }
            )
        return found

    def get(self, actor: Actor, form_key: str) -> dict[str, Any]:
        """The form's file text (a template for a form that does not exist yet), its saved
        versions and the deployed steps that use it."""
        self.access.require_admin(actor)
        path = self._path(form_key)
        exists = path.is_file()
        content = (
            path.read_text(encoding="utf-8")
            if exists
            else json.dumps(NEW_FORM, ensure_ascii=False, indent=2) + "\n"
        )
        with self.uow.read() as session:
            revisions = session.scalars(
                select(FormRevision)
                .where(FormRevision.form_key == form_key)
                .order_by(FormRevision.revision.desc())
            ).all()
            used_by = _used_by(self._deployed(session), form_key)
            return {
                "key": form_key,
                "exists": exists,
                "content": content,
                "revisions": [_revision_dict(r) for r in revisions],
                "used_by": used_by,
            }

    def revision(self, actor: Actor, form_key: str, revision: int) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            row = session.scalar(
                select(FormRevision).where(
                    FormRevision.form_key == form_key, FormRevision.revision == revision
                )
            )
            if row is None:
                raise NotFound(f"表单“{form_key}”没有第 {revision} 版")
            return {**_revision_dict(row), "content": row.content}

    def check(self, actor: Actor, form_key: str, content: str) -> dict[str, Any]:
        """{"valid", "errors": [...], "warnings": [...], "schema"}: never raises for content."""
        self.access.require_admin(actor)
        self._path(form_key)
        errors, warnings, schema = _check_content(form_key, content)
        if schema is not None and not errors:
            with self.uow.read() as session:
                deployed = self._deployed(session)
            warnings += _removed_but_read(deployed, form_key, self._fields_now(form_key), schema)
        return {"valid": not errors, "errors": errors, "warnings": warnings, "schema": schema}

    def schema_for_preview(self, actor: Actor, form_key: str, content: str) -> dict[str, Any]:
        """The schema to render, or ValidationFailed with why it cannot be."""
        self.access.require_admin(actor)
        errors, _warnings, schema = _check_content(form_key, content)
        if errors or schema is None:
            raise ValidationFailed("表单定义有误", [FieldError("content", e) for e in errors])
        return schema

    def save(self, actor: Actor, form_key: str, content: str, note: str = "") -> dict[str, Any]:
        self.access.require_admin(actor)
        path = self._path(form_key)
        errors, _warnings, _schema = _check_content(form_key, content)
        if errors:
            raise ValidationFailed(
                "表单定义有误，未保存", [FieldError("content", e) for e in errors]
            )
        previous = path.read_text(encoding="utf-8") if path.is_file() else None
        try:
            with self.uow.write() as session:
                number = session.scalar(
                    select(func.max(FormRevision.revision)).where(FormRevision.form_key == form_key)
                )
                now = self.clock.now()
                if number is None and previous is not None:
                    number = 1
                    session.add(_row(form_key, 1, previous, None, "保存前的文件", "file", now))
                row = _row(
                    form_key,
                    (number or 0) + 1,
                    content,
                    _sha(previous) if previous is not None else None,
                    note,
                    actor.username,
                    now,
                )
                session.add(row)
                session.flush()
                _write_atomically(path, content)
                saved = _revision_dict(row)
        except IntegrityError:
            raise Conflict("表单刚刚已被他人保存，请刷新后重试") from None
        return saved

    # ---- internals --------------------------------------------------------------------------
    def _fields_now(self, form_key: str) -> set[str]:
        try:
            return set(self.forms.schema(form_key).get("properties", {}))
        except (NotFound, DefinitionInvalid):
            return set()

    def _path(self, form_key: str) -> Path:
        if not FORM_KEY.match(form_key):
            raise NotFound(f"表单标识“{form_key}”无效：以字母开头，只含字母、数字和下划线")
        return self.forms.directory / f"{form_key}.json"

    @staticmethod
    def _deployed(session) -> dict[str, bytes]:
        newest = (
            select(DefinitionFile.file_name, func.max(DefinitionFile.id).label("id"))
            .group_by(DefinitionFile.file_name)
            .subquery()
        )
        rows = session.scalars(
            select(DefinitionFile).join(newest, DefinitionFile.id == newest.c.id)
        )
        return {r.file_name: r.content.encode("utf-8") for r in rows}


def _check_content(form_key: str, content: str) -> tuple[list[str], list[str], dict | None]:
    if len(content.encode("utf-8")) > MAX_FORM_BYTES:
        return [f"表单超过 {MAX_FORM_BYTES // 1000} KB"], [], None
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / f"{form_key}.json").write_text(content, encoding="utf-8")
        registry = FormRegistry(Path(scratch))
        try:
            registry.check_all()
            schema = registry.schema(form_key)
        except FormInvalid as refused:
            return [_chinese(p.message) for p in refused.problems], [], None
    errors, warnings = [], []
    declared = schema.get("properties", {})
    for name, prop in declared.items():
        if not FIELD_NAME.match(name):
            errors.append(f"字段名“{name}”无效：以字母开头，只含字母、数字和下划线")
        elif not isinstance(prop, dict) or not prop.get("title"):
            warnings.append(f"字段“{name}”没有标题（title），办理人员将看到字段名")
    if schema.get("additionalProperties") is not False:
        warnings.append('表单应声明 "additionalProperties": false，以免写入未声明的办件数据')
    if not schema.get("title"):
        warnings.append("表单没有标题（title）")
    return errors, warnings, schema


def _chinese(message: str) -> str:
    for english, chinese in _PREFIXES:
        if message.startswith(english):
            return chinese + message.removeprefix(english).strip()
    return f"表单定义有误：{message}"


def _used_by(deployed: dict[str, bytes], form_key: str) -> list[dict[str, str]]:
    found = []
    for file_name, content in sorted(deployed.items()):
        if kind_of(file_name) != "bpmn":
            continue
        for process in _processes(content, file_name):
            if properties(process).get("startFormKey") == form_key:
                found.append(_use(process, process))
            for task in elements(process, *HUMAN_TASKS):
                if properties(task).get("formKey") == form_key:
                    found.append(_use(process, task))
    return found


def _use(process, element) -> dict[str, str]:
    return {
        "process_id": process.get("id"),
        "process_name": process.get("name") or process.get("id"),
        "element_id": element.get("id"),
        "element_name": element.get("name") or element.get("id"),
    }


def _removed_but_read(
    deployed: dict[str, bytes], form_key: str, before: set[str], schema: dict[str, Any]
) -> list[str]:
    """Fields the form had that a diagram using it reads, that the new version lacks and
    that nothing else in that diagram writes."""
    removed = before - set(schema.get("properties", {}))
    if not removed:
        return []
    decision_reads: dict[str, set[str]] = {}
    for file_name, content in deployed.items():
        if kind_of(file_name) == "dmn":
            try:
                decision_reads.update(decision_inputs(parse_definition_xml(content, file_name)))
            except XmlRefused:
                continue

    def load_form(key: str) -> dict[str, Any]:
        return schema if key == form_key else {}

    warnings = []
    for file_name, content in sorted(deployed.items()):
        if kind_of(file_name) != "bpmn":
            continue
        for process in _processes(content, file_name):
            tasks = list(elements(process, *HUMAN_TASKS))
            if not any(properties(t).get("formKey") == form_key for t in tasks):
                continue
            read: set[str] = set()
            for expression in expressions(process):
                read |= exprs.names_read(expression.text, expression.mode)
            for task in elements(process, "businessRuleTask"):
                read |= decision_reads.get(extension_text(task, "calledDecisionId") or "", set())
            missing = sorted((read & removed) - process_writes(process, load_form, {}))
            if missing:
                warnings.append(
                    f"流程“{process.get('name') or process.get('id')}”的条件或脚本读取字段 "
                    f"{'、'.join(missing)}，新表单中已没有这些字段"
                )
    return warnings


def _processes(content: bytes, file_name: str) -> list:
    try:
        return processes(parse_definition_xml(content, file_name))
    except XmlRefused:
        return []


def _row(form_key, number, content, previous_sha, note, by, at) -> FormRevision:
    return FormRevision(
        form_key=form_key,
        revision=number,
        content=content,
        sha256=_sha(content),
        previous_sha256=previous_sha,
        note=(note or "")[:400],
        saved_by=by,
        saved_at=at,
    )


def _revision_dict(row: FormRevision) -> dict[str, Any]:
    return {
        "revision": row.revision,
        "sha256": row.sha256,
        "note": row.note,
        "saved_by": row.saved_by,
        "saved_at": row.saved_at.isoformat(),
    }


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_atomically(path: Path, content: str) -> None:
    """Replace the file in one step: a reader sees the old form or the new, never half."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
