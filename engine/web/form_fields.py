"""JSON Schema form → HTML fields, and posted HTML values → typed data for validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    name: str
    title: str
    kind: str  # text | textarea | number | integer | boolean | select | multiselect | lines | date
    required: bool
    description: str
    options: tuple[str, ...] = ()
    value: Any = None


def fields_of(schema: dict[str, Any] | None, values: dict[str, Any] | None = None) -> list[Field]:
    if not schema:
        return []
    values = values or {}
    required = set(schema.get("required", []))
    result = []
    for name, prop in schema.get("properties", {}).items():
        result.append(
            Field(
                name,
                prop.get("title", name),
                _kind(prop),
                name in required,
                prop.get("description", ""),
                _options(prop),
                values.get(name),
            )
        )
    return result


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
            picked = form.getlist(field.name)
            if picked:
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
