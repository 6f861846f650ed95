"""Task forms: JSON Schema 2020-12 documents in forms/<formKey>.json, and validation of what a
clerk submits against them, with messages a clerk can read."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from engine.errors import FieldError, NotFound, ValidationFailed

_FORM_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")
_DATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,119}$")


class FormRegistry:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    def schema(self, form_key: str) -> dict[str, Any]:
        if not _FORM_KEY.match(form_key) or ".." in form_key:
            raise NotFound(f"no form named '{form_key}'")
        path = self.directory / f"{form_key}.json"
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            raise NotFound(f"no form named '{form_key}' in {self.directory.name}/") from None
        cached = self._cache.get(form_key)
        if cached and cached[0] == mtime:
            return cached[1]
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        self._cache[form_key] = (mtime, schema)
        return schema

    def validate(self, form_key: str | None, data: Any) -> dict[str, Any]:
        """Return the submitted data if it satisfies the form; raise ValidationFailed otherwise.
        Fields the form does not declare are refused so a form cannot overwrite case variables."""
        if not isinstance(data, dict):
            raise ValidationFailed("表单数据必须是对象", [FieldError("", "expected an object")])
        bad_keys = [k for k in data if not _DATA_KEY.match(str(k))]
        if bad_keys:
            raise ValidationFailed(
                "字段名不合法",
                [
                    FieldError(
                        str(k),
                        "field names must start with a letter and use letters, digits and _ only",
                    )
                    for k in bad_keys
                ],
            )
        if form_key is None:
            return data
        try:
            schema = self.schema(form_key)
        except SchemaError as exc:
            raise ValidationFailed("表单定义有误", [FieldError("", exc.message)]) from exc
        declared = schema.get("properties", {})
        errors = [
            FieldError(k, "表单中没有此字段 (unknown field)")
            for k in data
            if declared and k not in declared
        ]
        validator = Draft202012Validator(schema)
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
            if error.validator == "additionalProperties" and not error.absolute_path and declared:
                continue  # reported above, one error per unknown field
            errors.append(_field_error(error, declared))
        if errors:
            raise ValidationFailed("表单数据未通过校验", errors)
        return data


def _field_error(error: ValidationError, declared: dict[str, Any]) -> FieldError:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        if missing:
            path.append(missing[0])
    field = ".".join(path)
    top = declared.get(path[0], {}) if path else {}
    label = top.get("title", field) if isinstance(top, dict) else field
    return FieldError(field, f"{label}：{_chinese(error)}")


def _chinese(error: ValidationError) -> str:
    v, value = error.validator, error.validator_value
    messages = {
        "required": "必填",
        "type": f"类型应为 {value}",
        "minimum": f"不能小于 {value}",
        "maximum": f"不能大于 {value}",
        "exclusiveMinimum": f"必须大于 {value}",
        "exclusiveMaximum": f"必须小于 {value}",
        "minLength": f"至少 {value} 个字符",
        "maxLength": f"最多 {value} 个字符",
        "minItems": f"至少 {value} 项",
        "maxItems": f"最多 {value} 项",
        "enum": "取值应为：" + "、".join(map(str, value))
        if isinstance(value, list)
        else "取值无效",
        "const": f"取值应为 {value}",
        "pattern": "格式不正确",
        "format": f"格式应为 {value}",
    }
    return messages.get(v, error.message)
