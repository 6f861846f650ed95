"""What a case holds, in the words of its forms: labelled values (the field titles, the
options' labels, the units) grouped in one section per form that collected them, the
application among them, and where a submitted step sent the case next.

Everything here reads a case view (`InstanceService.get`) and the form schemas; nothing
touches the database, so the task page, the case page and the approval form share it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.domain.organisation import DEPARTMENT_TYPES
from engine.errors import LandflowError

from .forms import FormRegistry

UNITS = frozenset(
    {
        "亩",
        "元",
        "万元",
        "元/亩",
        "户",
        "人",
        "个",
        "项",
        "宗",
        "年",
        "月",
        "日",
        "天",
        "日历日",
        "工作日",
        "米",
        "平方米",
        "%",
        "条",
    }
)
_TRAILING_NOTE = re.compile(r"^(?P<label>.*?)（(?P<note>[^（）]*)）$")
_NOTE_SEPARATORS = re.compile(r"[，,]")


@dataclass(frozen=True)
class LabelledValue:
    key: str
    label: str
    text: str  # the value as a clerk reads it, unit included
    columns: tuple[str, ...] = ()  # a list of rows: the column labels …
    rows: tuple[tuple[str, ...], ...] = ()  # … and each row's texts


@dataclass(frozen=True)
class Section:
    title: str  # the form's title
    step: str  # the step that collected it ("" for the application at the start)
    department: str | None
    by: str | None
    at: str | None
    items: tuple[LabelledValue, ...] = field(default_factory=tuple)


def split_unit(title: str) -> tuple[str, str]:
    """ "宗地面积（亩）" → ("宗地面积", "亩"); "本次预算调整额（元，调减填负数）" →
    ("本次预算调整额（调减填负数）", "元"); a title without a unit stays as it is."""
    found = _TRAILING_NOTE.match(title or "")
    if not found:
        return title, ""
    parts = [p.strip() for p in _NOTE_SEPARATORS.split(found["note"]) if p.strip()]
    units = [p for p in parts if p in UNITS]
    if not units:
        return title, ""
    rest = [p for p in parts if p not in UNITS]
    label = found["label"] + (f"（{'，'.join(rest)}）" if rest else "")
    return label, units[0]


def unit_of(prop: Mapping[str, Any]) -> str:
    """A number's unit: `x-unit` if the form gives one, else the unit named in the title."""
    explicit = prop.get("x-unit")
    if isinstance(explicit, str) and explicit:
        return explicit
    if _type(prop) not in ("number", "integer"):
        return ""
    return split_unit(str(prop.get("title", "")))[1]


def label_of(name: str, prop: Mapping[str, Any]) -> str:
    """The field's title, without the unit when the unit is shown next to the value."""
    title = str(prop.get("title") or name)
    if prop.get("x-unit") or _type(prop) not in ("number", "integer"):
        return title
    return split_unit(title)[0]


def choices(prop: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """(value, label) of a select or of the items of a multi-select: `enum` with optional
    `x-enum-labels` (a list in the enum's order or a mapping), or `oneOf`/`anyOf` of
    {"const", "title"}. Options that are department types (routing data such as "fgw") are
    labelled with the type's name (发展和改革委员会)."""
    source = prop
    if _type(prop) == "array" and isinstance(prop.get("items"), Mapping):
        source = prop["items"]
    if isinstance(source.get("enum"), list):
        labels = source.get("x-enum-labels")
        values = source["enum"]
        if isinstance(labels, list) and len(labels) == len(values):
            return [(v, str(label)) for v, label in zip(values, labels, strict=True)]
        if isinstance(labels, Mapping):
            return [(v, str(labels.get(str(v), _plain(v)))) for v in values]
        if values and all(v in DEPARTMENT_TYPES for v in values):  # routing data: dept types
            return [(v, DEPARTMENT_TYPES[v]) for v in values]
        return [(v, _plain(v)) for v in values]
    options = source.get("oneOf") or source.get("anyOf")
    if (
        isinstance(options, list)
        and options
        and all(isinstance(o, Mapping) and "const" in o for o in options)
    ):
        return [(o["const"], str(o.get("title") or _plain(o["const"]))) for o in options]
    return []


def display(prop: Mapping[str, Any], value: Any) -> str:
    """One value as text: option labels, 是/否, numbers without a trailing .0, the unit."""
    if value is None or value == "" or value == []:
        return "—"
    labels = {_plain(v): label for v, label in choices(prop)}
    if isinstance(value, list):
        items = prop.get("items")
        item: Mapping[str, Any] = items if isinstance(items, Mapping) else {}
        return "、".join(labels.get(_plain(v)) or display(item, v) for v in value)
    if isinstance(value, Mapping):
        inner = prop.get("properties", {})
        return "；".join(
            f"{label_of(k, inner.get(k, {}))}：{display(inner.get(k, {}), v)}"
            for k, v in value.items()
            if v not in (None, "", [])
        )
    if labels:
        return labels.get(_plain(value), _plain(value))
    text = _plain(value)
    unit = unit_of(prop)
    return f"{text} {unit}" if unit else text


def labelled(schema: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[LabelledValue, ...]:
    """The filled fields of `data` in the form's order, labelled by the form."""
    result = []
    for name, prop in (schema.get("properties") or {}).items():
        value = data.get(name)
        if value is None or value == "" or value == []:
            continue
        if _is_rows(prop) and isinstance(value, list):
            inner = prop["items"].get("properties", {})
            result.append(
                LabelledValue(
                    name,
                    label_of(name, prop),
                    f"{len(value)} 项",
                    tuple(label_of(k, p) for k, p in inner.items()),
                    tuple(
                        tuple(display(p, row.get(k)) for k, p in inner.items())
                        for row in value
                        if isinstance(row, Mapping)
                    ),
                )
            )
            continue
        result.append(LabelledValue(name, label_of(name, prop), display(prop, value)))
    return tuple(result)


def case_sections(
    case: Mapping[str, Any], forms: FormRegistry, start_form_key: str | None = None
) -> list[Section]:
    """One section per form that collected data, in the order the case went: the start form,
    then each completed step (a step completed again after a return shows its last
    submission). Steps without data, and forms that cannot be loaded, are left out."""
    tasks = {t["id"]: t for t in case.get("tasks", [])}
    sections: dict[tuple[Any, ...], Section] = {}
    for entry in case.get("history", []):
        details = entry.get("details") or {}
        data = details.get("data")
        if not isinstance(data, Mapping) or not data:
            continue
        if entry["action"] == "instance_started" and start_form_key:
            key: tuple[Any, ...] = ("start",)
            form_key, step, department = start_form_key, "", None
        elif entry["action"] == "task_completed" and entry.get("task_id") in tasks:
            task = tasks[entry["task_id"]]
            form_key, step, department = task.get("form_key"), task["title"], task["department"]
            key = (task["process_id"], task["name"], _item(task))
        else:
            continue
        schema = _schema(forms, form_key)
        if schema is None:
            continue
        items = labelled(schema, data)
        if not items:
            continue
        sections.pop(key, None)  # re-inserted: a resubmission moves to where it happened
        sections[key] = Section(
            str(schema.get("title") or step),
            step,
            department,
            entry.get("on_behalf_of") or entry.get("actor"),
            entry.get("at"),
            items,
        )
    return list(sections.values())


def application(
    case: Mapping[str, Any], forms: FormRegistry, start_form_key: str | None = None
) -> Section | None:
    """The application the case is about: the start form's data, else the first step's."""
    sections = case_sections(case, forms, start_form_key)
    return sections[0] if sections else None


def next_steps(case: Mapping[str, Any], task_id: str) -> list[dict[str, Any]] | None:
    """Where the last submission of `task_id` sent the case: the steps it opened, each with
    its department code (None when the history predates this record)."""
    completed = [
        h
        for h in case.get("history", [])
        if h["action"] == "task_completed" and h.get("task_id") == task_id
    ]
    if not completed:
        return None
    opened = (completed[-1].get("details") or {}).get("next")
    return list(opened) if isinstance(opened, list) else None


def in_words(prop: Mapping[str, Any], value: Any) -> str:
    """A value as a clerk reads it (see `display`), "" for an empty one."""
    text = display(prop, value)
    return "" if text == "—" else text


def schema_or_none(forms: FormRegistry, form_key: str | None) -> dict[str, Any] | None:
    """The form's schema, or None when the step has no form or its file cannot be loaded."""
    return _schema(forms, form_key)


def _schema(forms: FormRegistry, form_key: str | None) -> dict[str, Any] | None:
    if not form_key:
        return None
    try:
        return forms.schema(form_key)
    except LandflowError:
        return None


def _item(task: Mapping[str, Any]) -> Any:
    item = (task.get("properties") or {}).get("item")
    return item if isinstance(item, str | int | float | bool) or item is None else str(item)


def _is_rows(prop: Mapping[str, Any]) -> bool:
    items = prop.get("items")
    return (
        _type(prop) == "array" and isinstance(items, Mapping) and _type(items) == "object"
    ) or False


def _type(prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind or "")


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
