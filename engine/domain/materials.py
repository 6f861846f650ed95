"""材料清单 kept in a diagram: a human task's `materials` extension property, a JSON list

    [{"name": "宗地图", "required": true, "note": "标明四至界址"}, ...]

When a task has the property (even an empty list), it is the task's list in that process
version; a task without it uses `processes/materials.csv`. Messages are Chinese: they reach
the administrator through the modeler and the deployment's refusal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROPERTY = "materials"
MAX_NAME = 60
MAX_NOTE = 200
MAX_ITEMS = 50
FORBIDDEN = "./\\*\"'<>"


@dataclass(frozen=True)
class Material:
    name: str
    required: bool
    note: str


def name_problem(name: str) -> str | None:
    if not name:
        return "材料名称不能为空"
    if len(name) > MAX_NAME or any(c in name for c in FORBIDDEN):
        return f"材料名称“{name}”过长（不超过 {MAX_NAME} 字）或含有 . / \\ * 引号 尖括号"
    return None


def parse_property(value: str) -> tuple[Material, ...]:
    """The materials a `materials` property lists; ValueError says (in Chinese) what is wrong."""
    try:
        items = json.loads(value) if value.strip() else []
    except json.JSONDecodeError:
        raise ValueError("所需材料（materials）不是有效的 JSON 列表") from None
    if not isinstance(items, list):
        raise ValueError("所需材料（materials）应为列表")
    if len(items) > MAX_ITEMS:
        raise ValueError(f"所需材料最多 {MAX_ITEMS} 项")
    found: list[Material] = []
    for number, item in enumerate(items, start=1):
        found.append(_material(number, item, found))
    return tuple(found)


def _material(number: int, item: Any, found: list[Material]) -> Material:
    where = f"所需材料第 {number} 项"
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ValueError(f"{where}应有名称（name）")
    unknown = set(item) - {"name", "required", "note"}
    if unknown:
        raise ValueError(f"{where}含有未知字段：{'、'.join(sorted(unknown))}")
    name = item["name"].strip()
    problem = name_problem(name)
    if problem:
        raise ValueError(f"{where}：{problem}")
    if any(m.name == name for m in found):
        raise ValueError(f"{where}：材料“{name}”重复")
    required, note = item.get("required", False), item.get("note", "")
    if not isinstance(required, bool):
        raise ValueError(f"{where}：是否必交（required）应为 true 或 false")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ValueError(f"{where}：说明（note）应为不超过 {MAX_NOTE} 字的文字")
    return Material(name, required, note.strip())


def to_property(materials: list[Material] | tuple[Material, ...]) -> str:
    return json.dumps(
        [{"name": m.name, "required": m.required, "note": m.note} for m in materials],
        ensure_ascii=False,
    )
