"""Form rules: checks across the fields of one submission, declared in a form's "x-rules" and
evaluated with the restricted expression interpreter before the task completes.

    "x-rules": [{"check": "for_count + against_count + abstain_count <= present_count",
                 "fields": ["for_count", "against_count", "abstain_count"],
                 "message": "赞成、反对、弃权票数之和不能超过到会人数"}]

`check` reads submitted fields by name and read-only case data as `case.<name>`; it must be
true for the submission to pass. A rule is checked only when every field it reads was submitted
and passed the schema (missing or malformed fields are the schema's to report). `message` may
quote values as `{field}` or `{case.name}`."""

from __future__ import annotations

import ast
import copy
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine import expressions
from engine.errors import FieldError
from engine.expressions.safe_builtins import BUILTIN_NAMES

log = logging.getLogger(__name__)

RULES_KEY = "x-rules"
CASE = "case"
_RULE_KEYS = {"check", "fields", "message", "description"}
_PLACEHOLDER = re.compile(r"\{(case\.)?([A-Za-z][A-Za-z0-9_]*)\}")
UNCHECKABLE = "无法按规则核对此项，请检查填写内容；如仍有问题请联系管理员"


def _no_clock() -> datetime:
    raise expressions.ExpressionError("form rules cannot read the clock")


# Pure date helpers only: a rule gives the same answer whenever it is checked.
FUNCTIONS = {
    name: function
    for name, function in expressions.default_functions(_no_clock).items()
    if name not in ("now", "today")
}


class FormRuleProblem(ValueError):
    """A rule that cannot be used: reported when the form is loaded, never at submission."""


@dataclass(frozen=True)
class FormRule:
    number: int
    check: str
    fields: tuple[str, ...]
    message: str
    reads: frozenset[str]
    reads_case: bool


def compile_rules(schema: Mapping[str, Any]) -> tuple[FormRule, ...]:
    raw = schema.get(RULES_KEY, [])
    if not isinstance(raw, list):
        raise FormRuleProblem(f'"{RULES_KEY}" must be a list of rules')
    declared = schema.get("properties", {})
    if CASE in declared:
        raise FormRuleProblem(f"a form with {RULES_KEY} cannot declare a field named '{CASE}'")
    return tuple(_compile(number, entry, declared) for number, entry in enumerate(raw, start=1))


def _compile(number: int, entry: Any, declared: Mapping[str, Any]) -> FormRule:
    where = f"{RULES_KEY} rule {number}"
    if not isinstance(entry, dict):
        raise FormRuleProblem(f"{where}: a rule is an object with check, fields and message")
    unknown = set(entry) - _RULE_KEYS
    if unknown:
        raise FormRuleProblem(f"{where}: unknown keys {sorted(unknown)}")
    check, fields, message = entry.get("check"), entry.get("fields"), entry.get("message")
    if not isinstance(check, str) or not check.strip():
        raise FormRuleProblem(f"{where}: 'check' must be a non-empty expression")
    if not isinstance(message, str) or not message.strip():
        raise FormRuleProblem(f"{where}: 'message' must be a non-empty text")
    if (
        not isinstance(fields, list)
        or not fields
        or not all(isinstance(f, str) and f in declared for f in fields)
    ):
        raise FormRuleProblem(f"{where}: 'fields' must list fields the form declares")
    try:
        expressions.validate(check)
    except expressions.ExpressionError as exc:
        raise FormRuleProblem(f"{where}: {exc}") from None
    names = _free_names(check)
    undefined = sorted(names - set(declared) - {CASE})
    if undefined:
        raise FormRuleProblem(f"{where}: the check reads undeclared names {undefined}")
    for is_case, name in _PLACEHOLDER.findall(message):
        if not is_case and name not in declared:
            raise FormRuleProblem(f"{where}: the message quotes the undeclared field '{name}'")
    return FormRule(number, check, tuple(fields), message, frozenset(names - {CASE}), CASE in names)


def _free_names(source: str) -> set[str]:
    """Names the expression reads from its context (not functions, not comprehension names)."""
    tree = ast.parse(source.strip(), mode="eval")
    bound = {
        node.id
        for comp in ast.walk(tree)
        if isinstance(comp, ast.comprehension)
        for node in ast.walk(comp.target)
        if isinstance(node, ast.Name)
    }
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    used = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    functions = (set(FUNCTIONS) | BUILTIN_NAMES) & called
    return used - bound - functions


def check_rules(
    form_key: str,
    rules: tuple[FormRule, ...],
    data: Mapping[str, Any],
    case: Mapping[str, Any] | None = None,
    invalid: frozenset[str] = frozenset(),
) -> list[FieldError]:
    """Field errors for every rule the submission breaks. Rules that read case data are
    checked only when the caller passes the case data."""
    errors: list[FieldError] = []
    for rule in rules:
        if rule.reads_case and case is None:
            continue
        if any(name not in data or name in invalid for name in rule.reads):
            continue
        context = copy.deepcopy({name: data[name] for name in rule.reads})
        if rule.reads_case:
            context[CASE] = copy.deepcopy(dict(case or {}))
        try:
            holds = expressions.evaluate(rule.check, context, FUNCTIONS)
        except expressions.ExpressionError as exc:
            log.warning("form %s, rule %d could not be checked: %s", form_key, rule.number, exc)
            message = UNCHECKABLE
        else:
            if holds:
                continue
            message = _quote(rule.message, data, case or {})
        errors.extend(FieldError(field, message) for field in rule.fields)
    return errors


def _quote(message: str, data: Mapping[str, Any], case: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        return _readable((case if match.group(1) else data).get(match.group(2)))

    return _PLACEHOLDER.sub(value, message)


def _readable(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "、".join(_readable(v) for v in value)
    return str(value)
