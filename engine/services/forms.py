"""Task forms: JSON Schema 2020-12 documents in forms/<formKey>.json, and validation of what a
clerk submits against them — the schema, its conditional requirements and its "x-rules" —
with messages a clerk can read."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from engine.errors import (
    DefinitionInvalid,
    DefinitionProblem,
    FieldError,
    NotFound,
    ValidationFailed,
)

from .form_conditions import ConditionProblem, conditional_requirements
from .form_rules import FormRule, FormRuleProblem, check_rules, compile_rules

_FORM_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")
_DATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,119}$")
# Checking a schema against the 2020-12 meta-schema costs ~50 ms a form; the same text is
# checked once per process however many registries (start-ups, tests) load it.
_CHECKED: dict[str, tuple[dict[str, Any], tuple[FormRule, ...]]] = {}
_CHECKED_MAX = 2048


class FormInvalid(DefinitionInvalid):
    """A form file that cannot be used (bad JSON, bad schema, a rule that does not compile)."""

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        super().__init__(problems)
        self.message = "表单定义有误，请联系管理员：" + "；".join(p.file for p in problems)


@dataclass(frozen=True)
class LoadedForm:
    mtime: float
    schema: dict[str, Any]
    rules: tuple[FormRule, ...]


class FormRegistry:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, LoadedForm] = {}

    def schema(self, form_key: str) -> dict[str, Any]:
        return self._load(form_key).schema

    def check_all(self) -> list[str]:
        """Load every form in the directory; raise FormInvalid naming each broken one.
        Call at start-up so a broken form stops the deployment, not a clerk's submission."""
        problems: list[DefinitionProblem] = []
        keys = sorted(path.stem for path in self.directory.glob("*.json"))
        for key in keys:
            try:
                self._load(key)
            except FormInvalid as exc:
                problems.extend(exc.problems)
        if problems:
            raise FormInvalid(problems)
        return keys

    def validate(
        self, form_key: str | None, data: Any, case: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Return the submitted data if it satisfies the form; raise ValidationFailed otherwise.
        Fields the form does not declare are refused so a form cannot overwrite case variables.
        `case` (read-only case data) lets rules that read `case.<name>` be checked."""
        if not isinstance(data, dict):
            raise ValidationFailed("表单数据必须是对象", [FieldError("", "表单数据格式不正确")])
        bad_keys = [k for k in data if not _DATA_KEY.match(str(k))]
        if bad_keys:
            raise ValidationFailed(
                "字段名不合法",
                [
                    FieldError(str(k), "字段名须以字母开头，只含字母、数字和下划线")
                    for k in bad_keys
                ],
            )
        if form_key is None:
            return data
        form = self._load(form_key)
        declared = form.schema.get("properties", {})
        errors = [FieldError(k, "表单中没有此字段") for k in data if declared and k not in declared]
        validator = Draft202012Validator(form.schema)
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
            if error.validator == "additionalProperties" and not error.absolute_path and declared:
                continue  # reported above, one error per unknown field
            errors.append(_field_error(error, form.schema))
        invalid = frozenset(e.field.split(".")[0] for e in errors)
        errors += check_rules(form_key, form.rules, data, case, invalid)
        if errors:
            raise ValidationFailed("表单数据未通过校验", errors)
        return data

    def _load(self, form_key: str) -> LoadedForm:
        if not _FORM_KEY.match(form_key) or ".." in form_key:
            raise NotFound(f"没有表单 {form_key}")
        path = self.directory / f"{form_key}.json"
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            raise NotFound(f"{self.directory.name}/ 中没有表单 {form_key}") from None
        cached = self._cache.get(form_key)
        if cached and cached.mtime == mtime:
            return cached
        where = f"{self.directory.name}/{path.name}"
        try:
            text = path.read_text(encoding="utf-8")
            checked = _CHECKED.get(text)
            if checked is None:
                checked = _check(text)
                if len(_CHECKED) >= _CHECKED_MAX:
                    _CHECKED.clear()
                _CHECKED[text] = checked
            loaded = LoadedForm(mtime, copy.deepcopy(checked[0]), checked[1])
        except json.JSONDecodeError as exc:
            problem = DefinitionProblem(where, f"not JSON: {exc.msg}", line=exc.lineno)
            raise FormInvalid([problem]) from None
        except SchemaError as exc:
            problem = DefinitionProblem(where, f"not a JSON Schema: {exc.message}")
            raise FormInvalid([problem]) from None
        except (FormRuleProblem, ConditionProblem) as exc:
            raise FormInvalid([DefinitionProblem(where, str(exc))]) from None
        self._cache[form_key] = loaded
        return loaded


def _check(text: str) -> tuple[dict[str, Any], tuple[FormRule, ...]]:
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    if not isinstance(schema, dict) or not isinstance(schema.get("properties", {}), dict):
        raise SchemaError("a form is an object schema with properties")
    conditional_requirements(schema)  # refuses conditions the page could not mirror
    return schema, tuple(compile_rules(schema))


def _field_error(error: ValidationError, schema: dict[str, Any]) -> FieldError:
    path = [str(p) for p in error.absolute_path]
    message = _chinese(error)
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        path.extend(missing[:1])
    elif error.validator == "dependentRequired":
        found = re.findall(r"'([^']+)' is a dependency of '([^']+)'", error.message)
        if found:
            needed, trigger = found[0]
            path.append(needed)
            message = f"填写“{label_of(schema, [*path[:-1], trigger])}”时必填"
    return FieldError(".".join(path), f"{label_of(schema, path)}：{message}")


def label_of(schema: dict[str, Any], path: list[str]) -> str:
    """A readable name for a field path: titles, with '第 n 项' for list items."""
    parts, node = [], schema
    for step in path:
        if step.isdigit() and isinstance(node, dict) and isinstance(node.get("items"), dict):
            parts.append(f"第{int(step) + 1}项")
            node = node["items"]
            continue
        node = node.get("properties", {}).get(step, {}) if isinstance(node, dict) else {}
        parts.append(node.get("title", step) if isinstance(node, dict) else step)
    return " ".join(parts) or "表单"


_TYPES = {
    "integer": "整数",
    "number": "数字",
    "string": "文字",
    "boolean": "是或否",
    "array": "列表",
    "object": "对象",
    "null": "空",
}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _chinese(error: ValidationError) -> str:
    v, value = error.validator, error.validator_value
    if v == "type":
        kinds = value if isinstance(value, list) else [value]
        return "应为" + "或".join(_TYPES.get(k, "有效值") for k in kinds)
    if v == "enum":
        options = value if isinstance(value, list) else []
        return "取值应为：" + "、".join(map(_shown, options)) if options else "取值无效"
    if v == "const":
        return "应选“是”" if value is True else f"取值应为 {_shown(value)}"
    messages = {
        "required": "必填",
        "minimum": f"不能小于 {value}",
        "maximum": f"不能大于 {value}",
        "exclusiveMinimum": f"必须大于 {value}",
        "exclusiveMaximum": f"必须小于 {value}",
        "minLength": "必填" if value == 1 else f"至少 {value} 个字",
        "maxLength": f"最多 {value} 个字",
        "minItems": f"至少 {value} 项",
        "maxItems": f"最多 {value} 项",
        "uniqueItems": "各项不能重复",
        "multipleOf": f"应为 {value} 的整数倍",
        "pattern": "日期格式应为 年-月-日"
        if isinstance(error.schema, dict) and error.schema.get("format") == "date"
        else "格式不正确",
        "format": "日期格式应为 年-月-日" if value == "date" else "格式不正确",
        "additionalProperties": "含有表单没有的项目",
        "dependentRequired": "必填",
    }
    return messages.get(v, "填写不符合要求")
