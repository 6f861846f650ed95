"""JSON Schema form → HTML fields, and posted HTML values → typed data for validation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.errors import FieldError
from engine.services.form_conditions import SHOW, SHOW_WHEN_REQUIRED, conditional_requirements


@dataclass(frozen=True)
class Field:
    name: str
    title: str
    kind: str  # text | textarea | number | integer | boolean | select | multiselect | lines | date
    required: bool  # required now: always, or because its condition holds for `value`s given
    description: str
    options: tuple[str, ...] = ()
    value: Any = None
    always_required: bool = False
    required_when: tuple[dict[str, Any], ...] = ()  # conditions, as forms.js reads them
    show_when_required: bool = False

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


def fields_of(schema: dict[str, Any] | None, values: dict[str, Any] | None = None) -> list[Field]:
    if not schema:
        return []
    values = values or {}
    required = set(schema.get("required", []))
    conditions = conditional_requirements(schema)
    result = []
    for name, prop in schema.get("properties", {}).items():
        when = conditions.get(name, [])
        result.append(
            Field(
                name,
                prop.get("title", name),
                _kind(prop),
                name in required or any(c.holds(values) for c in when),
                prop.get("description", ""),
                _options(prop),
                values.get(name),
                always_required=name in required,
                required_when=tuple(c.as_page_data() for c in when),
                show_when_required=prop.get(SHOW) == SHOW_WHEN_REQUIRED,
            )
        )
    return result


def errors_by_field(
    fields: Iterable[Field], errors: Iterable[FieldError]
) -> tuple[dict[str, list[str]], list[str]]:
    """Messages per shown field (an error on `villages.0.count` belongs to `villages`), and the
    messages that belong to no shown field, to show above the form."""
    names = {f.name for f in fields}
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for error in errors:
        name = error.field.split(".")[0]
        target = by_field.setdefault(name, []) if name in names else general
        if error.message not in target:
            target.append(error.message)
    return by_field, general


def _is_iso_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _kind(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if "enum" in prop:
        return "select"
    if kind == "array":
        return "multiselect" if "enum" in prop.get("items", {}) else "lines"
    if kind in ("number", "integer", "boolean"):
        return kind
    if prop.get("format") == "date" or prop.get("pattern") == r"^\d{4}-\d{2}-\d{2}$":
        return "date"
    if prop.get("maxLength", 0) > 200:
        return "textarea"
    return "text"


def _options(prop: dict[str, Any]) -> tuple[str, ...]:
    source = prop.get("enum") or prop.get("items", {}).get("enum") or ()
    return tuple(str(v) for v in source)


def parse_posted(schema: dict[str, Any] | None, form: Any) -> dict[str, Any]:
    """Turn posted strings into the types the schema asks for; leave bad input for the
    validator to report (a number field with 'abc' stays 'abc' and fails with a field error)."""
    if not schema:
        return {}
    data: dict[str, Any] = {}
    for field in fields_of(schema):
        if field.kind == "multiselect":
            posted = form.getlist(field.name)  # holds "" when the field was shown at all
            picked = [v for v in posted if v != ""]
            if picked or (posted and not schema["properties"][field.name].get("minItems")):
                data[field.name] = picked
            continue
        raw = form.get(field.name)
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            continue
        raw = raw.strip()
        data[field.name] = _convert(field.kind, raw)
    return data


def _convert(kind: str, raw: str) -> Any:
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
    return raw
