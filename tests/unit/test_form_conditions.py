"""The real forms/ files: every conditional requirement and every x-rule, generated from the
schemas. For each field required only under a condition, every combination of the controlling
fields' values is submitted without the field: the server (jsonschema) must refuse it exactly
when the condition the page shows holds. Every x-rule has a valid and a breaking example."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ValidationFailed
from engine.services.form_conditions import SHOW, Condition, conditional_requirements
from engine.services.form_rules import RULES_KEY
from engine.services.forms import FormRegistry
from engine.web.form_fields import fields_of

FORMS = Path(__file__).resolve().parents[2] / "forms"
REGISTRY = FormRegistry(FORMS)
ABSENT = object()
SAMPLE_TEXTS = ("2026-03-20", "2026-Q1", "2026-03", "13800000000", "6222020200012345678")


def schema_of(key: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{key}.json").read_text(encoding="utf-8"))


def all_keys() -> list[str]:
    return sorted(p.stem for p in FORMS.glob("*.json"))


def conditional_keys() -> list[str]:
    return [k for k in all_keys() if conditional_requirements(schema_of(k))]


def rule_keys() -> list[str]:
    return [k for k in all_keys() if schema_of(k).get(RULES_KEY)]


def sample(prop: dict[str, Any]) -> Any:
    if "const" in prop:
        return prop["const"]
    if prop.get("enum"):
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0))
        value = max(low + 1, 1)
        value = min(value, prop.get("maximum", value))
        return int(value) if kind == "integer" else float(value)
    if kind == "array":
        items = prop.get("items", {"type": "string"})
        count = max(prop.get("minItems", 1), 1)
        if items.get("enum"):
            return items["enum"][:count]
        if items.get("type", "string") == "string":
            return [f"第{n}项" for n in range(1, count + 1)]
        return [sample(items) for _ in range(count)]
    if kind == "object":
        return {n: sample(p) for n, p in prop.get("properties", {}).items()}
    if "pattern" in prop:
        return next(t for t in SAMPLE_TEXTS if re.search(prop["pattern"], t))
    return "材料齐全"


def full_submission(key: str) -> dict[str, Any]:
    """Every declared field filled; forms with x-rules start from their valid example."""
    schema = schema_of(key)
    data = {name: sample(prop) for name, prop in schema["properties"].items()}
    if key in RULE_EXAMPLES:
        data.update(RULE_EXAMPLES[key]["valid"])
    return data


def options(schema: dict[str, Any], name: str, base: Any) -> list[Any]:
    prop = schema["properties"][name]
    if prop.get("enum"):
        return [*prop["enum"], ABSENT]
    if prop.get("type") == "boolean":
        return [True, False, ABSENT]
    return [base, ABSENT]


def controllers(conditions: list[Condition]) -> list[str]:
    return sorted({clause.field for c in conditions for clause in c.clauses})


def field_errors(key: str, data: dict[str, Any], case: dict[str, Any] | None = None):
    try:
        REGISTRY.validate(key, data, case)
    except ValidationFailed as exc:
        return {e.field for e in exc.errors}, exc.errors
    return set(), []


def test_every_form_loads_and_check_all_passes():
    assert REGISTRY.check_all() == all_keys()


@pytest.mark.parametrize("key", conditional_keys())
def test_conditional_fields_are_required_exactly_when_the_page_says(key):
    schema = schema_of(key)
    conditions = conditional_requirements(schema)
    base = full_submission(key)
    assert field_errors(key, base, CASES.get(key))[0] == set(), "the full example must pass"
    for name, when in conditions.items():
        assert name not in schema.get("required", []), f"{name} is conditional, not always"
        names = controllers(when)
        seen = set()
        for values in itertools.product(*(options(schema, n, base[n]) for n in names)):
            data = {k: v for k, v in base.items() if k != name}
            for controller, value in zip(names, values, strict=True):
                if value is ABSENT:
                    data.pop(controller, None)
                else:
                    data[controller] = value
            expected = any(c.holds(data) for c in when)
            refused = name in field_errors(key, data, CASES.get(key))[0]
            assert refused == expected, (name, dict(zip(names, values, strict=True)))
            seen.add(expected)
            if expected:  # filling the field is enough
                assert name not in field_errors(key, {**data, name: base[name]})[0]
        assert seen == {True, False}, f"{name} is never (or always) required"


@pytest.mark.parametrize("key", conditional_keys())
def test_the_page_marks_required_fields_from_the_same_conditions(key):
    schema = schema_of(key)
    conditions = conditional_requirements(schema)
    for name, when in conditions.items():
        clause = when[0].clauses[0]
        for value in options(schema, clause.field, full_submission(key)[clause.field]):
            values = {} if value is ABSENT else {clause.field: value}
            field = next(f for f in fields_of(schema, values) if f.name == name)
            assert field.required == any(c.holds(values) for c in when)
            assert field.required_when and not field.always_required
            assert field.show_when_required == (schema["properties"][name].get(SHOW) is not None)


def test_acceptance_remark_only_when_the_joint_acceptance_fails():
    key = "consolidation_joint_acceptance"
    assert field_errors(key, {"acceptance_result": "合格"})[0] == set()
    fields, errors = field_errors(key, {"acceptance_result": "不合格"})
    assert fields == {"acceptance_remark"}
    assert errors[0].message == "验收说明（不合格时必填）：必填"
    fields, _ = field_errors(key, {"acceptance_result": "不合格", "acceptance_remark": ""})
    assert fields == {"acceptance_remark"}
    assert (
        field_errors(key, {"acceptance_result": "不合格", "acceptance_remark": "沟渠未达标"})[0]
        == set()
    )


def test_the_special_approval_asks_for_the_document_or_the_reason_not_both():
    key = "consolidation_special_approval"
    agreed = {"special_decision": "同意", "special_category": "投资项目备案"}
    assert field_errors(key, agreed)[0] == {"special_doc_no"}
    assert field_errors(key, {**agreed, "special_doc_no": "婺发改备〔2026〕7号"})[0] == set()
    refused = {**agreed, "special_decision": "不同意"}
    assert field_errors(key, refused)[0] == {"special_opinion"}


def test_household_counts_are_filled_together():
    key = "decision_vote"
    base = RULE_EXAMPLES[key]["valid"]
    fields, errors = field_errors(key, {**base, "household_count": 80})
    assert fields == {"households_present_count"}
    assert "填写“本村总户数" in errors[0].message
    assert (
        field_errors(key, {**base, "household_count": 80, "households_present_count": 60})[0]
        == set()
    )


# ---- x-rules ---------------------------------------------------------------------------------
VOTE = {
    "meeting_held_on": "2026-03-20",
    "eligible_count": 100,
    "present_count": 60,
    "for_count": 40,
    "against_count": 15,
    "abstain_count": 5,
    "sign_in_sheet": "签到表.pdf",
    "minutes": "会议记录.pdf",
}
VILLAGE = {
    "village_name": "古方村",
    "decision_body": "村民代表会议",
    "member_count": 45,
    "present_count": 40,
    "agree_count": 36,
    "meeting_date": "2026-01-13",
}
CONSENT = {
    "consent_villages": [VILLAGE],
    "plan_posted_days": 15,
    "demolition_owner_count": 12,
    "demolition_consented_count": 12,
    "consent_minutes_no": "档〔2026〕21号",
}
PLAN = {
    "term_years": 40,
    "trading_method": "挂牌",
    "reserve_price_yuan": 1000000,
    "valuation_report_no": "估〔2026〕1号",
    "income_distribution_arrangement": "按成员分配",
    "plan_includes_planning_conditions": True,
    "plan_includes_industry_requirements": True,
    "plan_includes_eco_requirements": True,
    "deciding_body": "村民代表会议",
}
COMMERCIAL = {"max_term_years": 40, "term_use_category": "商业、旅游、娱乐用地"}
CASES = {"entry_plan": COMMERCIAL}
RULE_EXAMPLES: dict[str, dict[str, Any]] = {
    "decision_vote": {
        "valid": VOTE,
        "broken": [
            (
                {**VOTE, "present_count": 101},
                {"present_count", "eligible_count"},
                "到会人数不能超过应到人数",
            ),
            (
                {**VOTE, "abstain_count": 10},
                {"for_count", "against_count", "abstain_count", "present_count"},
                "赞成、反对、弃权票数之和不能超过到会人数",
            ),
            (
                {**VOTE, "household_count": 80, "households_present_count": 81},
                {"households_present_count", "household_count"},
                "到会户代表数不能超过总户数",
            ),
        ],
    },
    "consolidation_consent": {
        "valid": CONSENT,
        "broken": [
            (
                {**CONSENT, "consent_villages": [VILLAGE, {**VILLAGE, "agree_count": 41}]},
                {"consent_villages"},
                "表决数据有误：同意人数不得多于到会人数，到会人数不得多于成员（代表）总数",
            ),
            (
                {**CONSENT, "consent_villages": [{**VILLAGE, "present_count": 46}]},
                {"consent_villages"},
                "表决数据有误：同意人数不得多于到会人数，到会人数不得多于成员（代表）总数",
            ),
            (
                {**CONSENT, "demolition_consented_count": 13},
                {"demolition_consented_count", "demolition_owner_count"},
                "已书面同意拆除的所有权人不得多于需拆除建筑物所有权人",
            ),
        ],
    },
    "entry_plan": {
        "valid": PLAN,
        "broken": [
            (
                {**PLAN, "term_years": 50},
                {"term_years"},
                "出让年限50年超过商业、旅游、娱乐用地最高年限40年，请修改方案",
            ),
        ],
    },
}


def test_every_form_with_rules_has_examples():
    assert sorted(RULE_EXAMPLES) == rule_keys()


@pytest.mark.parametrize("key", rule_keys())
def test_rules_pass_the_valid_example_and_refuse_each_broken_one(key):
    case = CASES.get(key)
    assert field_errors(key, RULE_EXAMPLES[key]["valid"], case)[0] == set()
    for data, fields, message in RULE_EXAMPLES[key]["broken"]:
        refused, errors = field_errors(key, data, case)
        assert refused == fields
        assert {e.message for e in errors} == {message}


def test_a_rule_on_case_data_is_checked_only_with_the_case_data():
    long_term = {**PLAN, "term_years": 50}
    assert field_errors("entry_plan", long_term)[0] == set()
    industrial = {"max_term_years": 50, "term_use_category": "工业用地"}
    assert field_errors("entry_plan", long_term, industrial)[0] == set()
    assert field_errors("entry_plan", long_term, COMMERCIAL)[0] == {"term_years"}


def test_rules_wait_for_the_schema_when_their_fields_are_missing_or_malformed():
    missing = {k: v for k, v in VOTE.items() if k != "present_count"}
    fields, errors = field_errors("decision_vote", {**missing, "abstain_count": 90})
    assert fields == {"present_count"} and errors[0].message == "实到人数：必填"
    fields, errors = field_errors("decision_vote", {**VOTE, "present_count": "六十"})
    assert fields == {"present_count"} and errors[0].message == "实到人数：应为整数"
