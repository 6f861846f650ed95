"""JSON Schema form → HTML fields, and posted HTML values → typed data for validation.

Controls: text, textarea, number/integer (with the unit after the box), date, select and
multi-select with option labels, 是/否, lines (a list of texts), an object's fields as a group,
a list of objects as a table of rows (`name.<row>.<column>`, rows added and removed by
static/rows.js) and attachment references (a text box offering the case's uploaded files).
The fields of a step's opinion (engine.services.opinions) are marked so the page shows them
as one block, the reason required while the decision does not agree."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.errors import FieldError
from engine.services.case_summary import choices, label_of, unit_of
from engine.services.form_conditions import SHOW, SHOW_WHEN_REQUIRED, conditional_requirements
from engine.services.opinions import OpinionFields, opinion_fields

ATTACHMENT = "x-attachment"
ROW = "__row__"  # the row number of the blank row rows.js copies


@dataclass(frozen=True)
class Field:
    name: str  # the posted name: "area", "review_opinion.conclusion", "villages.0.count"
    title: str
    kind: str  # text textarea number integer boolean select multiselect lines date group rows file
    required: bool  # required now: always, or because its condition holds for the values given
    description: str
    options: tuple[tuple[str, str], ...] = ()  # (posted value, label)
    value: Any = None
    always_required: bool = False
    required_when: tuple[dict[str, Any], ...] = ()  # conditions, as forms.js reads them
    show_when_required: bool = False
    unit: str = ""
    children: tuple[Field, ...] = ()  # a group's fields; a table's columns (for its blank row)
    rows: tuple[tuple[Field, ...], ...] = ()  # a table's rows of cells
    opinion: str = ""  # "decision" | "reason": the step's opinion
    stances: tuple[tuple[str, str], ...] = ()  # a decision's (option, agree|disagree|modify)

    @property
    def input_type(self) -> str:
        """The <input> type; text when the value kept from a refused submission would not
        survive a number or date input (the browser would blank it)."""
        if self.kind in ("number", "integer"):
            typed = isinstance(self.value, int | float) and not isinstance(self.value, bool)
            return "number" if self.value is None or typed else "text"
        if self.kind == "date":
            return "date" if self.value is None or _is_iso_date(self.value) else "text"
        return "text"

    @property
    def posted(self) -> str:
        """The value as the control posts it (what a select or radio compares with)."""
        return _posted(self.value)

    @property
    def picked(self) -> frozenset[str]:
        values = self.value if isinstance(self.value, list) else []
        return frozenset(_posted(v) for v in values)

    @property
    def text(self) -> str:
        if isinstance(self.value, list):
            return "\n".join(_posted(v) for v in self.value)
        return "" if self.value is None else _posted(self.value)

    def stance(self, option: str) -> str:
        return dict(self.stances).get(option, "")

    def paths(self) -> Iterable[str]:
        """Every posted name this field shows an error for."""
        yield self.name
        for child in self.children if self.kind == "group" else ():
            yield from child.paths()
        for row in self.rows:
            for cell in row:
                yield cell.name


def fields_of(schema: dict[str, Any] | None, values: dict[str, Any] | None = None) -> list[Field]:
    if not schema:
        return []
    values = values or {}
    conditions = conditional_requirements(schema)
    opinion = _Opinion(opinion_fields(schema), values)
    result = []
    for name, prop in schema.get("properties", {}).items():
        when = conditions.get(name, [])
        required = name in set(schema.get("required", []))
        field = _field(name, prop, values.get(name), required, opinion)
        extra = field.required_when
        result.append(
            _with(
                field,
                required=field.required or any(c.holds(values) for c in when),
                required_when=_distinct(tuple(c.as_page_data() for c in when) + extra),
                show_when_required=prop.get(SHOW) == SHOW_WHEN_REQUIRED,
            )
        )
    return result


class _Opinion:
    """Where the form's opinion is, and whether the values given disagree (reason needed)."""

    def __init__(self, fields: OpinionFields | None, values: Mapping[str, Any]) -> None:
        self.fields = fields
        self.roles: dict[str | None, str] = {}
        self.disagreeing: list[str] = []
        self.reason_needed = False
        if fields is None or fields.decision is None:
            if fields is not None:
                self.roles = {fields.reason_name: "reason"}
            return
        self.roles = {fields.decision_name: "decision", fields.reason_name: "reason"}
        self.disagreeing = fields.not_agreeing()
        node: Any = values
        for step in fields.decision:
            node = node.get(step) if isinstance(node, Mapping) else None
        self.reason_needed = _posted(node) in self.disagreeing

    def role(self, name: str) -> str:
        return self.roles.get(name, "")

    def decorate(self, field: Field) -> Field:
        if field.opinion == "decision" and self.fields is not None:
            return _with(field, stances=tuple(self.fields.stances.items()))
        if (
            field.opinion != "reason"
            or self.fields is None
            or not self.disagreeing
            or field.always_required
        ):
            return field
        condition = {
            "all": [
                {"field": self.fields.decision_name, "in": self.disagreeing, "when_absent": False}
            ],
            "negate": False,
        }
        return _with(
            field, required=field.required or self.reason_needed, required_when=(condition,)
        )


def _field(name: str, prop: dict[str, Any], value: Any, required: bool, opinion: _Opinion) -> Field:
    kind = _kind(prop)
    field = Field(
        name,
        label_of(name.rsplit(".", 1)[-1], prop),
        kind,
        required,
        str(prop.get("description", "")),
        tuple((_posted(v), label) for v, label in choices(prop)),
        value,
        always_required=required,
        unit=unit_of(prop),
        opinion=opinion.role(name),
    )
    if kind == "group":
        inner_required = set(prop.get("required", []))
        inner = value if isinstance(value, dict) else {}
        children = tuple(
            _field(f"{name}.{key}", p, inner.get(key), key in inner_required, opinion)
            for key, p in prop.get("properties", {}).items()
        )
        field = _with(field, children=children, opinion=field.opinion or _group_role(children))
    elif kind == "rows":
        field = _with(field, children=_cells(prop, {}), rows=_rows(name, prop, value))
    return opinion.decorate(field)


def _group_role(children: tuple[Field, ...]) -> str:
    return "group" if any(c.opinion for c in children) else ""


def _cells(prop: dict[str, Any], values: Mapping[str, Any]) -> tuple[Field, ...]:
    item = prop.get("items", {})
    required = set(item.get("required", []))
    return tuple(
        Field(
            str(key),
            label_of(key, p),
            _kind(p),
            key in required,
            str(p.get("description", "")),
            tuple((_posted(v), label) for v, label in choices(p)),
            values.get(key),
            always_required=key in required,
            unit=unit_of(p),
        )
        for key, p in item.get("properties", {}).items()
    )


def _rows(name: str, prop: dict[str, Any], value: Any) -> tuple[tuple[Field, ...], ...]:
    rows = value if isinstance(value, list) else []
    return tuple(
        tuple(
            _with(cell, name=f"{name}.{number}.{cell.name}")
            for cell in _cells(prop, row if isinstance(row, dict) else {})
        )
        for number, row in enumerate(rows)
    )


def _distinct(conditions: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
    return tuple({json.dumps(c, sort_keys=True): c for c in conditions}.values())


def _with(field: Field, **changes: Any) -> Field:
    return Field(**{**field.__dict__, **changes})


def errors_by_field(
    fields: Iterable[Field], errors: Iterable[FieldError]
) -> tuple[dict[str, list[str]], list[str]]:
    """Messages per shown control (an error on `villages.0.count` goes to that cell, or to
    `villages` when that row is not shown), and those that belong to no shown control."""
    known = {path for f in fields for path in f.paths()}
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for error in errors:
        parts = error.field.split(".")
        path = next(
            (".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in known),
            None,
        )
        target = by_field.setdefault(path, []) if path else general
        if error.message not in target:
            target.append(error.message)
    return by_field, general


def parse_posted(schema: dict[str, Any] | None, form: Any) -> dict[str, Any]:
    """Turn posted strings into the types the schema asks for; leave bad input for the
    validator to report (a number field with 'abc' stays 'abc' and fails with a field error)."""
    if not schema:
        return {}
    return _parse_object(schema, form, "")


def _parse_object(schema: Mapping[str, Any], form: Any, prefix: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, prop in (schema.get("properties") or {}).items():
        name = f"{prefix}{key}"
        kind = _kind(prop)
        if kind == "multiselect":
            posted = form.getlist(name)  # holds "" when the field was shown at all
            picked = [_typed(prop.get("items", {}), v) for v in posted if v != ""]
            if picked or (posted and not prop.get("minItems")):
                data[key] = picked
        elif kind == "group":
            inner = _parse_object(prop, form, f"{name}.")
            if inner:
                data[key] = inner
        elif kind == "rows":
            rows = _parse_rows(prop, form, name)
            if rows or (name in form and not prop.get("minItems")):
                data[key] = rows
        else:
            raw = form.get(name)
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            data[key] = _convert(kind, raw.strip(), prop)
    return data


def _parse_rows(prop: Mapping[str, Any], form: Any, name: str) -> list[dict[str, Any]]:
    pattern = re.compile(rf"^{re.escape(name)}\.(\d+)\.[A-Za-z][A-Za-z0-9_]*$")
    numbers = sorted({int(m[1]) for key in form if (m := pattern.match(key))})
    item = prop.get("items", {})
    rows = [_parse_object(item, form, f"{name}.{number}.") for number in numbers]
    return [row for row in rows if row]


def _convert(kind: str, raw: str, prop: Mapping[str, Any] | None = None) -> Any:
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            number = float(raw)
            return int(number) if number.is_integer() and "." not in raw else number
    except ValueError:
        return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if kind == "select" and prop is not None:
        return _typed(prop, raw)
    return raw


def _typed(prop: Mapping[str, Any], raw: str) -> Any:
    """An option as the schema spells it (an enum of numbers posts text)."""
    return next((v for v, _ in choices(prop) if _posted(v) == raw), raw)


def _is_iso_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _kind(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "array":
        items = prop.get("items", {})
        if isinstance(items, dict) and items.get("type") == "object":
            return "rows"
        return "multiselect" if choices(prop) else "lines"
    if choices(prop):
        return "select"
    if kind == "object":
        return "group"
    if kind in ("number", "integer", "boolean"):
        return kind
    if prop.get("format") == "date" or prop.get("pattern") == r"^\d{4}-\d{2}-\d{2}$":
        return "date"
    if prop.get(ATTACHMENT) or "附件" in str(prop.get("title", "")):
        return "file"
    if prop.get("maxLength", 0) > 200:
        return "textarea"
    return "text"


def _posted(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)
