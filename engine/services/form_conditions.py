"""Conditional requirements of a form ("required only when …"), read from its JSON Schema so
that the page can show and toggle them exactly as the server (jsonschema) enforces them.

Understood shapes, at the top level or inside a top-level "allOf":
  {"if": {"properties": {"<field>": {"const": v} | {"enum": [...]}, ...}, "required": [...]},
   "then": {"required": [...]}, "else": {"required": [...]}}
  "dependentRequired": {"<field>": ["<field required once it is filled>", ...]}
  "dependentSchemas": {"<field>": {"required": [...]}}
A field marked "x-show": "when-required" is shown on the page only while it is required."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SHOW = "x-show"
SHOW_WHEN_REQUIRED = "when-required"


@dataclass(frozen=True)
class Clause:
    """`field` holds one of `values` (or, with values None, is filled at all). A field that is
    not filled satisfies the clause only when the `if` did not list it as required."""

    field: str
    values: tuple[Any, ...] | None
    when_absent: bool

    def holds(self, data: Mapping[str, Any]) -> bool:
        if data.get(self.field) in (None, "", []):
            return self.when_absent
        return self.values is None or data[self.field] in self.values

    def as_page_data(self) -> dict[str, Any]:
        values = None if self.values is None else [_posted(v) for v in self.values]
        return {"field": self.field, "in": values, "when_absent": self.when_absent}


@dataclass(frozen=True)
class Condition:
    clauses: tuple[Clause, ...]
    negate: bool = False

    def holds(self, data: Mapping[str, Any]) -> bool:
        return all(c.holds(data) for c in self.clauses) != self.negate

    def as_page_data(self) -> dict[str, Any]:
        return {"all": [c.as_page_data() for c in self.clauses], "negate": self.negate}


class ConditionProblem(ValueError):
    """A conditional requirement the page could not mirror, or one naming undeclared fields."""


def conditional_requirements(schema: Mapping[str, Any]) -> dict[str, list[Condition]]:
    """For each field, the conditions under which it is required (any one suffices)."""
    declared = schema.get("properties", {})
    found: dict[str, list[Condition]] = {}

    def require(names: Any, condition: Condition, where: str) -> None:
        if not isinstance(names, list) or not all(n in declared for n in names):
            raise ConditionProblem(f"{where}: 'required' must list declared fields")
        for name in names:
            found.setdefault(name, []).append(condition)

    branches = [schema, *schema.get("allOf", [])]
    for number, branch in enumerate(branches):
        where = "top level" if number == 0 else f"allOf[{number - 1}]"
        if not isinstance(branch, dict):
            raise ConditionProblem(f"{where}: expected an object")
        if number and set(branch) - {"if", "then", "else"}:
            raise ConditionProblem(f"{where}: only if/then/else is understood inside allOf")
        if "if" not in branch:
            continue
        clauses = _clauses(branch["if"], declared, where)
        for key, negate in (("then", False), ("else", True)):
            if key in branch:
                part = branch[key]
                if part is True:
                    continue
                if not isinstance(part, dict) or set(part) - {"required", "properties"}:
                    raise ConditionProblem(f"{where}.{key}: only required/properties allowed")
                require(part.get("required", []), Condition(clauses, negate), f"{where}.{key}")
    for trigger, names in schema.get("dependentRequired", {}).items():
        condition = Condition((Clause(_declared(trigger, declared), None, False),))
        require(names, condition, f"dependentRequired.{trigger}")
    for trigger, part in schema.get("dependentSchemas", {}).items():
        if not isinstance(part, dict) or set(part) - {"required", "properties"}:
            raise ConditionProblem(f"dependentSchemas.{trigger}: only required/properties")
        condition = Condition((Clause(_declared(trigger, declared), None, False),))
        require(part.get("required", []), condition, f"dependentSchemas.{trigger}")
    _check_show(schema, found)
    return found


def _check_show(schema: Mapping[str, Any], found: Mapping[str, list[Condition]]) -> None:
    """ "x-show": "when-required" hides a field while it is not required; only a field that is
    required under some condition can carry it (otherwise it would never show)."""
    always = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        show = prop.get(SHOW) if isinstance(prop, dict) else None
        if show is None:
            continue
        if show != SHOW_WHEN_REQUIRED or name not in found or name in always:
            raise ConditionProblem(
                f"field '{name}': x-show must be '{SHOW_WHEN_REQUIRED}' on a field that is "
                "required only under a condition"
            )


def _clauses(test: Any, declared: Mapping[str, Any], where: str) -> tuple[Clause, ...]:
    if not isinstance(test, dict) or set(test) - {"properties", "required"}:
        raise ConditionProblem(f"{where}.if: only properties/required are understood")
    present = test.get("required", [])
    clauses = []
    for name, rule in test.get("properties", {}).items():
        _declared(name, declared)
        if isinstance(rule, dict) and set(rule) == {"const"}:
            values = (rule["const"],)
        elif isinstance(rule, dict) and set(rule) == {"enum"} and isinstance(rule["enum"], list):
            values = tuple(rule["enum"])
        else:
            raise ConditionProblem(f"{where}.if.{name}: use const or enum")
        clauses.append(Clause(name, values, name not in present))
    for name in present:
        if name not in test.get("properties", {}):
            clauses.append(Clause(_declared(name, declared), None, False))
    if not clauses:
        raise ConditionProblem(f"{where}.if: names no field")
    return tuple(clauses)


def _declared(name: str, declared: Mapping[str, Any]) -> str:
    if name not in declared:
        raise ConditionProblem(f"the condition names the undeclared field '{name}'")
    return name


def _posted(value: Any) -> str:
    """A schema value as the page posts it (booleans are the radio values true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
