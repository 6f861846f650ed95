"""Form rules ("x-rules") and form loading: what compiles, what is refused when the form is
loaded or at start-up (check_all), how rules are evaluated, and the Chinese field errors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from engine.errors import DefinitionInvalid, ValidationFailed
from engine.services.forms import FormInvalid, FormRegistry

COUNTS = {
    "present": {"title": "到会人数", "type": "integer", "minimum": 0},
    "yes": {"title": "赞成票", "type": "integer", "minimum": 0},
    "no": {"title": "反对票", "type": "integer", "minimum": 0},
    "held_on": {
        "title": "会议日期",
        "type": "string",
        "format": "date",
        "pattern": r"^\d{4}-\d{2}-\d{2}$",
    },
}
SUM_RULE = {"check": "yes + no <= present", "fields": ["yes", "no"], "message": "票数超过到会人数"}


def form(rules: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": extra.pop("properties", COUNTS),
        "required": ["present", "yes"],
        "additionalProperties": False,
        "x-rules": rules,
        **extra,
    }


def registry(tmp_path: Path, **forms: dict[str, Any] | str) -> FormRegistry:
    for key, schema in forms.items():
        text = schema if isinstance(schema, str) else json.dumps(schema, ensure_ascii=False)
        (tmp_path / f"{key}.json").write_text(text, encoding="utf-8")
    return FormRegistry(tmp_path)


def refused(forms: FormRegistry, key: str, data: dict[str, Any], case=None) -> list[tuple]:
    with pytest.raises(ValidationFailed) as caught:
        forms.validate(key, data, case)
    return [(e.field, e.message) for e in caught.value.errors]


def test_a_broken_rule_shows_on_each_named_field(tmp_path):
    forms = registry(tmp_path, vote=form([SUM_RULE]))
    assert forms.validate("vote", {"present": 5, "yes": 3, "no": 2}) == {
        "present": 5,
        "yes": 3,
        "no": 2,
    }
    assert refused(forms, "vote", {"present": 5, "yes": 4, "no": 2}) == [
        ("yes", "票数超过到会人数"),
        ("no", "票数超过到会人数"),
    ]


def test_a_rule_waits_until_its_fields_are_filled_and_pass_the_schema(tmp_path):
    forms = registry(tmp_path, vote=form([SUM_RULE]))
    assert forms.validate("vote", {"present": 1, "yes": 9}) == {"present": 1, "yes": 9}
    assert refused(forms, "vote", {"present": 1, "yes": 9, "no": -1}) == [
        ("no", "反对票：不能小于 0")
    ]


def test_messages_quote_submitted_values_and_case_data(tmp_path):
    rule = {
        "check": "yes <= case.limit",
        "fields": ["yes"],
        "message": "赞成票{yes}张超过{case.body}上限{case.limit}张（{case.missing}）",
    }
    forms = registry(tmp_path, vote=form([rule]))
    case = {"limit": 3, "body": "村民代表会议"}
    assert forms.validate("vote", {"present": 9, "yes": 3}, case)
    assert refused(forms, "vote", {"present": 9, "yes": 4}, case) == [
        ("yes", "赞成票4张超过村民代表会议上限3张（—）")
    ]
    # without case data the rule cannot be checked here; the service passes the case data
    assert forms.validate("vote", {"present": 9, "yes": 4}) == {"present": 9, "yes": 4}


def test_rules_see_a_copy_of_the_case_and_cannot_change_it(tmp_path):
    rule = {"check": "case.items.append(1) is None and yes >= 0", "fields": ["yes"], "message": "x"}
    forms = registry(tmp_path, vote=form([rule]))
    case = {"items": []}
    forms.validate("vote", {"present": 1, "yes": 1}, case)
    assert case == {"items": []}


def test_a_rule_that_fails_while_running_refuses_the_submission(tmp_path):
    rule = {"check": "yes / (present - present) > 0", "fields": ["yes"], "message": "不会出现"}
    forms = registry(tmp_path, vote=form([rule]))
    [(field, message)] = refused(forms, "vote", {"present": 1, "yes": 1})
    assert field == "yes" and "无法按规则核对" in message


def test_rules_may_use_pure_date_helpers_and_comprehensions(tmp_path):
    rules = [
        {
            "check": "parse_date(held_on) >= date(2026, 1, 1)",
            "fields": ["held_on"],
            "message": "会议日期不能早于2026年",
        },
        {"check": "all(n >= 0 for n in [yes, present])", "fields": ["yes"], "message": "负数"},
    ]
    forms = registry(tmp_path, vote=form(rules))
    assert forms.validate("vote", {"present": 1, "yes": 1, "held_on": "2026-03-20"})
    assert refused(forms, "vote", {"present": 1, "yes": 1, "held_on": "2025-12-31"}) == [
        ("held_on", "会议日期不能早于2026年")
    ]


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ([{"check": "yes +", "fields": ["yes"], "message": "m"}], "syntax error"),
        ([{"check": "__import__('os')", "fields": ["yes"], "message": "m"}], "rule 1"),
        ([{"check": "yes.__class__", "fields": ["yes"], "message": "m"}], "rule 1"),
        ([{"check": "ys <= present", "fields": ["yes"], "message": "m"}], "['ys']"),
        ([{"check": "today() > 0", "fields": ["yes"], "message": "m"}], "['today']"),
        ([{"check": "yes > 0", "fields": ["maybe"], "message": "m"}], "'fields'"),
        ([{"check": "yes > 0", "fields": [], "message": "m"}], "'fields'"),
        ([{"check": "yes > 0", "fields": ["yes"], "message": ""}], "'message'"),
        ([{"check": "yes > 0", "fields": ["yes"], "message": "{yse}"}], "'yse'"),
        ([{"check": "yes > 0", "fields": ["yes"], "message": "m", "when": "x"}], "['when']"),
        ([SUM_RULE, "yes > 0"], "rule 2"),
        ({"check": "yes > 0"}, "must be a list"),
    ],
)
def test_a_rule_that_cannot_be_used_is_refused_when_the_form_is_loaded(tmp_path, rules, problem):
    forms = registry(tmp_path, vote=form(rules))
    with pytest.raises(FormInvalid) as caught:
        forms.schema("vote")
    assert isinstance(caught.value, DefinitionInvalid)  # 422 through the API
    assert problem in caught.value.problems[0].message
    assert caught.value.message.startswith("表单定义有误")
    with pytest.raises(FormInvalid):  # never validates submissions with a broken rule
        forms.validate("vote", {"present": 1, "yes": 1})


def test_check_all_names_every_broken_form(tmp_path):
    conditional = form(
        [],
        allOf=[{"if": {"properties": {"present": {"minimum": 3}}}, "then": {"required": ["no"]}}],
    )
    forms = registry(
        tmp_path,
        good=form([SUM_RULE]),
        bad_rule=form([{"check": "yes >", "fields": ["yes"], "message": "m"}]),
        bad_json="{not json",
        bad_shape="true",
        bad_schema={"type": "no-such-type"},
        bad_condition=conditional,
        hidden_always={
            **form([]),
            "properties": {**COUNTS, "no": {**COUNTS["no"], "x-show": "when-required"}},
        },
    )
    with pytest.raises(FormInvalid) as caught:
        forms.check_all()
    files = sorted(p.file for p in caught.value.problems)
    assert files == [
        f"{tmp_path.name}/{key}.json"
        for key in (
            "bad_condition",
            "bad_json",
            "bad_rule",
            "bad_schema",
            "bad_shape",
            "hidden_always",
        )
    ]
    (tmp_path / "bad_rule.json").unlink()
    for key in ("bad_json", "bad_schema", "bad_shape", "bad_condition", "hidden_always"):
        (tmp_path / f"{key}.json").unlink()
    assert forms.check_all() == ["good"]


def test_a_changed_file_is_loaded_again(tmp_path):
    forms = registry(tmp_path, vote=form([]))
    votes = {"present": 1, "yes": 5, "no": 0}
    assert forms.validate("vote", votes)
    path = tmp_path / "vote.json"
    path.write_text(json.dumps(form([SUM_RULE])), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert refused(forms, "vote", votes) == [
        ("yes", "票数超过到会人数"),
        ("no", "票数超过到会人数"),
    ]


def test_field_errors_are_chinese_and_name_the_field(tmp_path):
    villages = {
        "title": "各村表决结果",
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"count": {"title": "同意人数", "type": "integer"}},
            "required": ["count"],
            "additionalProperties": False,
        },
    }
    schema = form(
        [],
        properties={
            **COUNTS,
            "villages": villages,
            "body": {"title": "决策机构", "enum": ["村民会议", "成员大会"]},
            "signed": {"title": "已签署", "type": "boolean", "const": True},
            "household_count": {"title": "总户数", "type": "integer"},
            "households_present": {"title": "到会户数", "type": "integer"},
        },
        dependentRequired={"household_count": ["households_present"]},
    )
    forms = registry(tmp_path, vote=schema)
    errors = refused(
        forms,
        "vote",
        {
            "present": "五",
            "villages": [{"count": 1}, {"count": "x"}, {}],
            "body": "乡镇",
            "signed": False,
            "household_count": 3,
            "held_on": "2026-3-1",
            "extra": 1,
        },
    )
    assert sorted(errors) == sorted(
        [
            ("extra", "表单中没有此字段"),
            ("yes", "赞成票：必填"),
            ("present", "到会人数：应为整数"),
            ("villages.1.count", "各村表决结果 第2项 同意人数：应为整数"),
            ("villages.2.count", "各村表决结果 第3项 同意人数：必填"),
            ("body", "决策机构：取值应为：村民会议、成员大会"),
            ("signed", "已签署：应选“是”"),
            ("households_present", "到会户数：填写“总户数”时必填"),
            ("held_on", "会议日期：日期格式应为 年-月-日"),
        ]
    )
    for _field, message in errors:
        assert not any("a" <= ch.lower() <= "z" for ch in message), message
