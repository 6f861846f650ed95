"""Every shipped form renders on the task page and round-trips (generated over forms/): each
field has a Chinese label; rendered with example data and posted back as a browser would post
it, the page gives back the very data (tables of rows and object fields included). Plus the
pieces the page is built from: units, option labels, opinions and their stances, row errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import html
from starlette.datastructures import FormData

from engine.demo_cases import generated
from engine.errors import FieldError, ValidationFailed
from engine.services.case_summary import display, labelled, split_unit
from engine.services.forms import FormRegistry
from engine.services.opinions import (
    AGREE,
    DISAGREE,
    MODIFY,
    missing_reason,
    opinion_fields,
    opinion_of,
    stance_of,
    validate_with_opinion,
)
from engine.web.form_fields import errors_by_field, fields_of, parse_posted
from engine.web.rendering import TEMPLATES

FORMS = Path(__file__).resolve().parents[2] / "forms"
REGISTRY = FormRegistry(FORMS)
KEYS = REGISTRY.check_all()
TEMPLATE = TEMPLATES.env.get_template("form_fields.html")
CJK = re.compile(r"[\u4e00-\u9fff]")


def example(form_key: str) -> dict:
    return generated(SimpleNamespace(forms=REGISTRY), form_key)


def render(schema: dict, values: dict, errors: dict | None = None) -> str:
    return TEMPLATE.render(fields=fields_of(schema, values), errors=errors or {})


def posted(page: str) -> FormData:
    """What a browser posts from the rendered controls (the blank-row template is inert)."""
    root = html.fromstring(f"<form>{page}</form>")
    for template in root.iter("template"):
        template.drop_tree()
    pairs: list[tuple[str, str]] = []
    for element in root.iter("input", "select", "textarea"):
        name = element.get("name")
        if not name or element.get("disabled") is not None:
            continue
        if element.tag == "select":
            chosen = [
                o.get("value", o.text or "")
                for o in element.iter("option")
                if o.get("selected") is not None
            ]
            pairs.extend((name, v) for v in chosen[:1] or [""])
        elif element.tag == "textarea":
            pairs.append((name, element.text or ""))
        elif element.get("type") in ("radio", "checkbox"):
            if element.get("checked") is not None:
                pairs.append((name, element.get("value", "")))
        else:
            pairs.append((name, element.get("value", "")))
    return FormData(pairs)


def titles(fields) -> list[str]:
    found = []
    for field in fields:
        found.append(field.title)
        found.extend(titles(field.children))
    return found


@pytest.mark.parametrize("form_key", KEYS)
def test_every_form_renders_with_chinese_labels_and_round_trips(form_key):
    schema = REGISTRY.schema(form_key)
    data = example(form_key)
    fields = fields_of(schema, {})
    for title in titles(fields):
        assert CJK.search(title), f"{form_key}: label {title!r} is not Chinese"
    assert all(f.title not in schema["properties"] for f in fields), form_key
    for field in fields:
        for value, label in field.options:
            assert CJK.search(label) or label in ("是", "否"), (form_key, field.name, value)
    assert render(schema, {})
    page = render(schema, data)
    assert parse_posted(schema, posted(page)) == data, form_key


def test_numbers_show_their_unit_after_the_box():
    assert split_unit("宗地面积（亩）") == ("宗地面积", "亩")
    assert split_unit("本次预算调整额（元，调减填负数）") == ("本次预算调整额（调减填负数）", "元")
    assert split_unit("土地补偿（参照征地区片综合地价，元）") == (
        "土地补偿（参照征地区片综合地价）",
        "元",
    )
    assert split_unit("宗地代码（19位）") == ("宗地代码（19位）", "")
    schema = REGISTRY.schema("entry_application")
    area = next(f for f in fields_of(schema) if f.name == "parcel_area_mu")
    assert (area.title, area.unit) == ("宗地面积", "亩")
    code = next(f for f in fields_of(schema) if f.name == "parcel_code")
    assert (code.title, code.unit) == ("宗地代码（19位）", "")
    page = html.fromstring(render(schema, {"parcel_area_mu": 12.5}))
    box = page.get_element_by_id("f_parcel_area_mu")
    assert box.getnext().text == "亩" and box.get("value") == "12.5"


def test_options_show_their_labels_and_post_their_values():
    schema = {
        "type": "object",
        "properties": {
            "level": {
                "title": "等级",
                "type": "integer",
                "enum": [1, 2],
                "x-enum-labels": ["一级", "二级"],
            },
            "kind": {
                "title": "类型",
                "type": "string",
                "oneOf": [{"const": "a", "title": "甲类"}, {"const": "b", "title": "乙类"}],
            },
            "checks": {
                "title": "核查项",
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": ["x", "y"],
                    "x-enum-labels": {"x": "权属", "y": "界址"},
                },
            },
        },
    }
    page = render(schema, {"level": 2, "kind": "b", "checks": ["y"]})
    assert "二级" in page and "乙类" in page and "界址" in page
    assert parse_posted(schema, posted(page)) == {"level": 2, "kind": "b", "checks": ["y"]}
    assert display(schema["properties"]["checks"], ["x", "y"]) == "权属、界址"
    assert display({"type": "boolean"}, False) == "否"


def test_rows_come_back_in_order_without_blank_or_removed_rows():
    schema = REGISTRY.schema("consolidation_consent")
    form = FormData(
        [
            ("consent_villages", ""),
            ("consent_villages.5.village_name", "筱溪村"),
            ("consent_villages.5.member_count", "45"),
            ("consent_villages.2.village_name", "古方村"),
            ("consent_villages.2.agree_count", "abc"),  # kept for the validator to refuse
            ("consent_villages.3.village_name", ""),  # a blank row
        ]
    )
    rows = parse_posted(schema, form)["consent_villages"]
    assert rows == [
        {"village_name": "古方村", "agree_count": "abc"},
        {"village_name": "筱溪村", "member_count": 45},
    ]
    fields = fields_of(schema, {"consent_villages": rows})
    errors, general = errors_by_field(
        fields,
        [
            FieldError("consent_villages.0.agree_count", "同意人数：应为整数"),
            FieldError("consent_villages", "表决数据有误"),
            FieldError("consent_villages.7.agree_count", "不在页面上的一行"),
            FieldError("materials.宗地图", "缺少必需材料：宗地图"),
        ],
    )
    assert errors == {
        "consent_villages.0.agree_count": ["同意人数：应为整数"],
        "consent_villages": ["表决数据有误", "不在页面上的一行"],
    }
    assert general == ["缺少必需材料：宗地图"]
    page = html.fromstring(render(schema, {"consent_villages": rows}, errors))
    cell = page.get_element_by_id("f_consent_villages-0-agree_count")
    assert cell.get("value") == "abc" and cell.get("type") == "text"  # kept as typed
    assert (
        "同意人数：应为整数"
        in page.get_element_by_id("e_consent_villages-0-agree_count").text_content()
    )


@pytest.mark.parametrize(
    ("option", "stance"),
    [
        ("同意", AGREE),
        ("同意报批", AGREE),
        ("无修改意见", AGREE),
        ("异议不成立", AGREE),
        ("验收合格", AGREE),
        ("继续", AGREE),
        ("有修改意见", MODIFY),
        ("退回修改", MODIFY),
        ("修改后同意", MODIFY),
        ("限期整改", MODIFY),
        ("异议成立，重新表决", MODIFY),
        ("不同意", DISAGREE),
        ("不予入库", DISAGREE),
        ("不合格", DISAGREE),
        ("异议成立，决议无效", DISAGREE),
        ("退出", DISAGREE),
    ],
)
def test_what_a_decision_means(option, stance):
    assert stance_of(option) == stance


def test_every_shipped_decision_has_a_reason_beside_it():
    for key in KEYS:
        fields = opinion_fields(REGISTRY.schema(key))
        if fields is not None and fields.decision is not None:
            assert fields.reason is not None, key
            assert set(fields.stances.values()) <= {AGREE, DISAGREE, MODIFY}, key


def test_a_reason_is_required_when_not_agreeing_and_recorded_with_the_opinion():
    schema = REGISTRY.schema("entry_review_opinion")
    agreed = {"review_opinion": {"conclusion": "无修改意见"}}
    modified = {"review_opinion": {"conclusion": "有修改意见"}}
    assert missing_reason(schema, agreed) == []
    [problem] = missing_reason(schema, modified)
    assert (
        problem.field == "review_opinion.comments" and "选择“有修改意见”时必填" in problem.message
    )
    with pytest.raises(ValidationFailed) as refused:
        validate_with_opinion(REGISTRY, "entry_review_opinion", modified, {})
    assert [e.field for e in refused.value.errors] == ["review_opinion.comments"]
    # together with the form's own errors, in one answer
    with pytest.raises(ValidationFailed) as refused:
        validate_with_opinion(
            REGISTRY, "consolidation_assessment", {"assessment_decision": "退回修改"}, {}
        )
    assert "assessment_opinion" in {e.field for e in refused.value.errors}
    written = {"review_opinion": {"conclusion": "有修改意见", "comments": "补充测算"}}
    assert validate_with_opinion(REGISTRY, "entry_review_opinion", written, {}) == written
    assert opinion_of(schema, written) == {
        "decision": "有修改意见",
        "stance": MODIFY,
        "stance_label": "修改意见",
        "reason": "补充测算",
    }
    precheck = opinion_of(REGISTRY.schema("entry_precheck"), {"precheck_opinion": "符合入市条件"})
    assert precheck == {
        "decision": "",
        "stance": None,
        "stance_label": "",
        "reason": "符合入市条件",
    }


def test_the_reason_turns_required_on_the_page_while_the_decision_disagrees():
    schema = REGISTRY.schema("consolidation_change_approval")
    reason = next(
        f for f in fields_of(schema, {"change_decision": "不批准"}) if f.opinion == "reason"
    )
    decision = next(f for f in fields_of(schema, {}) if f.opinion == "decision")
    assert reason.required
    assert dict(decision.stances) == {"批准": AGREE, "不批准": DISAGREE}
    optional = REGISTRY.schema("decision_party_review")
    [reason] = [f for f in fields_of(optional, {}) if f.opinion == "reason"]
    assert not reason.required
    assert reason.required_when == (
        {
            "all": [
                {"field": "party_review_outcome", "in": ["退回重新提议"], "when_absent": False}
            ],
            "negate": False,
        },
    )
    [reason] = [
        f
        for f in fields_of(optional, {"party_review_outcome": "退回重新提议"})
        if f.opinion == "reason"
    ]
    assert reason.required


def test_labelled_values_use_the_forms_words():
    schema = REGISTRY.schema("entry_application")
    data = json.loads(
        (FORMS.parent / "processes" / "demo" / "joint_review_entry.json").read_text()
    )["answers"]["apply"]
    items = {i.label: i.text for i in labelled(schema, data)}
    assert items["宗地面积"] == "12.5 亩"
    assert items["位于城镇开发边界内"] == "是"
    assert items["入市主体名称"] == "古方村股份经济合作社"
    consent = REGISTRY.schema("consolidation_consent")
    [table] = [i for i in labelled(consent, example("consolidation_consent")) if i.columns]
    assert table.columns[0] == "村名" and len(table.rows) == 1
