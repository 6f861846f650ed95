"""材料清单: the materials each process step requires, from `processes/materials.csv`, a file
an administrator edits (one row per material; re-read when the file changes):

    process_id,task_spec,task_name,material,required,note
    joint_review_entry,apply,提出入市申请,宗地图,是,标明四至界址

`required` is 是 or 否. A required material the case does not have blocks the step's
submission; an optional one is listed for the clerk. `task_name` is for the reader only.

A task whose diagram holds a `materials` extension property (edited in the modeler,
engine/domain/materials.py) uses that list instead: the property travels with the deployed
version into the task's properties, so the file is the default for tasks without one."""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.domain.materials import PROPERTY, Material, parse_property
from engine.errors import DefinitionInvalid, DefinitionProblem

log = logging.getLogger(__name__)

FILE_NAME = "materials.csv"
COLUMNS = ("process_id", "task_spec", "task_name", "material", "required", "note")
YES, NO = {"是", "1", "y", "yes", "true"}, {"否", "0", "n", "no", "false", ""}
MAX_NAME = 60


class MaterialsCatalog:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str], tuple[Material, ...]] = {}
        self._mtime: float | None = None

    def check(self) -> None:
        """Load the file; a broken one stops start-up with what is wrong, line by line."""
        self._load()

    def for_task(
        self, process_id: str, task_spec: str, properties: Mapping[str, Any] | None = None
    ) -> tuple[Material, ...]:
        """The diagram's list when the task's properties hold one, else the file's rows."""
        if properties and isinstance(properties.get(PROPERTY), str):
            try:
                return parse_property(properties[PROPERTY])
            except ValueError as exc:  # deployment refuses these; an old row may still hold one
                log.warning("%s/%s: materials property ignored: %s", process_id, task_spec, exc)
        self._load()
        return self._rows.get((process_id, task_spec), ())

    def _load(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._rows, self._mtime = {}, None
            return
        with self._lock:
            if mtime == self._mtime:
                return
            self._rows = parse_materials(self.path.read_text(encoding="utf-8-sig"))
            self._mtime = mtime


def parse_materials(text: str) -> dict[tuple[str, str], tuple[Material, ...]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise _invalid([f"缺少列：{', '.join(missing)}"])
    rows: dict[tuple[str, str], list[Material]] = {}
    problems = []
    for line, row in enumerate(reader, start=2):
        values = {k: (row.get(k) or "").strip() for k in COLUMNS}
        process_id, task_spec, name = values["process_id"], values["task_spec"], values["material"]
        required = values["required"].lower()
        if not process_id or not task_spec or not name:
            problems.append(f"第 {line} 行：process_id、task_spec 和 material 不能为空")
            continue
        if len(name) > MAX_NAME or any(c in name for c in "./\\*\"'<>"):
            problems.append(f"第 {line} 行：材料名称“{name}”过长或含有 . / \\ * 引号 尖括号")
            continue
        if required not in YES | NO:
            problems.append(f"第 {line} 行：required 应为“是”或“否”，而不是“{values['required']}”")
            continue
        listed = rows.setdefault((process_id, task_spec), [])
        if any(m.name == name for m in listed):
            problems.append(f"第 {line} 行：{process_id}/{task_spec} 的“{name}”重复")
            continue
        listed.append(Material(name, required in YES, values["note"]))
    if problems:
        raise _invalid(problems)
    return {key: tuple(materials) for key, materials in rows.items()}


def _invalid(problems: list[str]) -> DefinitionInvalid:
    return DefinitionInvalid(
        [DefinitionProblem(FILE_NAME, f"材料清单配置有误：{p}") for p in problems]
    )
