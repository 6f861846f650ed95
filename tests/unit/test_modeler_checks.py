"""The modeler's checks without a server: the syntax check as you type (Chinese messages), the
variables expressions read, complete gateway conditions, our rules on a diagram (each problem
on its element), the version diff and the round-trip comparison."""

from __future__ import annotations

import itertools

import pytest
from lxml import etree

from engine.domain.organisation import DEPARTMENT_TYPES, LEVELS
from engine.errors import NotFound
from engine.services import modeler_expressions as exprs
from engine.services.modeler_diff import diff_models
from engine.services.modeler_roundtrip import compare
from engine.services.modeler_rules import RuleContext, check_model

ALL_DEPARTMENTS = frozenset(itertools.product(DEPARTMENT_TYPES, LEVELS))
FORMS = {
    "review": {
        "properties": {
            "result": {"title": "结论", "type": "string", "enum": ["同意", "不同意"]},
            "remark": {"title": "说明", "type": "string"},
        }
    }
}


def load_form(key: str) -> dict:
    if key not in FORMS:
        raise NotFound(key)
    return FORMS[key]


def document(
    lane_props: str = '<p name="dept_type" value="zrzy"/><p name="level" value="county"/>',
    task_props: str = '<p name="formKey" value="review"/><p name="sla_committed" value="5wd"/>',
    condition: str = 'result == "同意"',
    other_condition: str = 'result == "不同意"',
    default: str = "",
    executable: str = "true",
    extra: str = "",
) -> bytes:
    """start → review (user task in a lane) → gateway → approve | refuse → end."""
    expand = lambda text: text.replace("<p ", "<spiffworkflow:property ")  # noqa: E731
    other = (
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{other_condition}'
        "</bpmn:conditionExpression>"
        if other_condition
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://t">
<bpmn:process id="p" name="测试流程" isExecutable="{executable}">
  <bpmn:laneSet id="ls"><bpmn:lane id="lane" name="县自然资源和规划局">
    <bpmn:extensionElements><spiffworkflow:properties>{expand(lane_props)}
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start"/>
  <bpmn:userTask id="review" name="审查"><bpmn:extensionElements><spiffworkflow:properties>
    {expand(task_props)}</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
  <bpmn:exclusiveGateway id="gw" name="是否同意" {default}/>
  <bpmn:scriptTask id="approve"><bpmn:script>approved = True</bpmn:script></bpmn:scriptTask>
  <bpmn:scriptTask id="refuse"><bpmn:script>approved = False</bpmn:script></bpmn:scriptTask>
  <bpmn:endEvent id="end"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
  <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw"/>
  <bpmn:sequenceFlow id="yes" sourceRef="gw" targetRef="approve">
    <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}
    </bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="refuse">{other}</bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="end"/>
  <bpmn:sequenceFlow id="f4" sourceRef="refuse" targetRef="end"/>
  {extra}
</bpmn:process></bpmn:definitions>""".encode()


def problems(content: bytes, departments=ALL_DEPARTMENTS, decisions=None, processes=None):
    tree = etree.ElementTree(etree.fromstring(content))
    context = RuleContext(load_form, departments, processes or {"p": "测试流程"}, decisions or {})
    return [(p.severity, p.element_id, p.message) for p in check_model(tree, "t.bpmn", context)]


def errors_on(found, element_id):
    return [m for s, e, m in found if s == "error" and e == element_id]


# ---- the syntax check ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "mode", "message"),
    [
        ("a ==", "eval", "语法错误（第 1 行）：无法解析"),
        ("(a", "eval", "括号未闭合"),
        ('"abc', "eval", "字符串缺少结束引号"),
        ("a ＝ 1", "eval", "含有不允许的字符"),
        ("import os", "exec", "不允许导入模块"),
        ("__class__", "eval", "名称不能以下划线开头：__class__"),
        ("lambda: 1", "eval", "不允许使用 lambda"),
        ('"{}".format(1)', "eval", "不能调用方法 format"),
        ("", "eval", "表达式为空"),
    ],
)
def test_the_syntax_check_says_what_is_wrong_in_chinese(text, mode, message):
    checked = exprs.check(text, mode)
    assert not checked.ok
    assert message in checked.message


def test_valid_expressions_and_scripts_pass():
    assert exprs.check("precheck_passed == True and area_mu > 10", "eval").ok
    assert exprs.check("total = sum([a for a in amounts])\nok = total > 0", "exec").ok
    assert not exprs.check("total = 1", "eval").ok  # an assignment is no condition


def test_names_read_leave_out_functions_builtins_and_local_names():
    read = exprs.names_read("x = a + len(b)\ny = x + workdays(5)\n[z for z in q if z > w]", "exec")
    assert read == {"a", "b", "q", "w"}
    assert exprs.names_written("x = 1\nfor i in items:\n    total += i") == {"x", "i", "total"}


@pytest.mark.parametrize(
    ("conditions", "options", "complete"),
    [
        (["area >= 60", "area < 60"], {}, True),
        (["ok", "not ok"], {}, True),
        (["ok == True", "ok == False"], {}, True),
        (['r == "A"', 'r == "B"'], {"r": {"A", "B"}}, True),
        (['r == "A"', 'r in ("B", "C")'], {"r": {"A", "B", "C"}}, True),
        (['r == "A"', 'r == "B"'], {"r": {"A", "B", "C"}}, False),
        (["area > 60", "area < 60"], {}, False),
    ],
)
def test_gateway_conditions_are_complete_only_when_provably_so(conditions, options, complete):
    assert exprs.conditions_complete(conditions, options) is complete


# ---- our rules -----------------------------------------------------------------------------
def test_a_correct_diagram_has_no_problems():
    assert problems(document()) == []


def test_lane_problems_are_on_the_lane():
    assert errors_on(problems(document(lane_props="")), "lane") == [
        "泳道“县自然资源和规划局”未设置部门类型，其中的环节无法派发",
        "泳道“县自然资源和规划局”未设置层级（省、市、县、乡镇、村）",
    ]
    found = problems(
        document(lane_props='<p name="dept_type" value="xx"/><p name="level" value="county"/>')
    )
    assert errors_on(found, "lane") == ["泳道“县自然资源和规划局”的部门类型“xx”不存在"]
    none_there = problems(document(), departments=frozenset({("fgw", "county")}))
    assert [(s, e) for s, e, _m in none_there] == [("warning", "lane")]
    assert "组织机构中还没有县（区）级的自然资源和规划局" in none_there[0][2]


def test_user_task_problems_are_on_the_task():
    assert errors_on(problems(document(task_props="")), "review") == ["环节“审查”未指定表单"]
    missing = problems(document(task_props='<p name="formKey" value="nope"/>'))
    assert errors_on(missing, "review") == ["环节“审查”的表单“nope”不存在（forms/nope.json）"]
    limits = problems(
        document(
            task_props='<p name="formKey" value="review"/><p name="sla_committed" value="5 days"/>'
            '<p name="sla_yellow" value="soon"/><p name="return_to" value="nowhere"/>'
        )
    )
    messages = errors_on(limits, "review")
    assert any("承诺时限“5 days”无法识别" in m for m in messages)
    assert any("黄灯阈值“soon”无法识别" in m for m in messages)
    assert any("可退回环节“nowhere”" in m for m in messages)
    longer = problems(
        document(
            task_props='<p name="formKey" value="review"/><p name="sla_committed" value="10wd"/>'
            '<p name="sla_statutory" value="5wd"/>'
        )
    )
    assert errors_on(longer, "review") == ["承诺时限不能长于法定时限"]


def test_gateway_problems():
    unguarded = problems(document(other_condition=""))
    assert errors_on(unguarded, "no") == ["网关“是否同意”的这条流向既没有条件，也不是默认流向"]
    assert problems(document(other_condition="", default='default="no"')) == []
    partial = problems(document(other_condition='result == "补正"'))
    assert "没有默认流向，且不能确认各条件覆盖了全部情况" in errors_on(partial, "gw")[0]


def test_a_broken_condition_is_an_error_on_its_flow_and_unknown_names_a_warning():
    found = problems(document(condition="result =="))
    assert errors_on(found, "yes") == ["条件：语法错误（第 1 行）：无法解析"]
    unknown = problems(document(condition='verdict == "同意"'))
    assert ("warning", "yes") in [(s, e) for s, e, _m in unknown]
    assert any("读取的变量 verdict 没有表单字段" in m for _s, _e, m in unknown)


def test_references_decisions_calls_and_timers():
    extra = (
        '<bpmn:businessRuleTask id="rule"><bpmn:extensionElements>'
        "<spiffworkflow:calledDecisionId>fees</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements></bpmn:businessRuleTask>"
        '<bpmn:callActivity id="call" calledElement="elsewhere"/>'
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition/>'
        "</bpmn:intermediateCatchEvent>"
    )
    found = problems(document(extra=extra))
    assert errors_on(found, "rule") == ["决策表“fees”不存在（既未部署，也不在本次修改的文件中）"]
    assert errors_on(found, "call") == ["被调用的流程“elsewhere”不存在（既未部署，也不在本文件中）"]
    assert errors_on(found, "wait") == ["定时事件“wait”未设置时间"]
    known = problems(
        document(
            extra=extra.replace(
                "<bpmn:timerEventDefinition/>",
                "<bpmn:timerEventDefinition>"
                "<bpmn:timeDate>workdays(5)</bpmn:timeDate></bpmn:timerEventDefinition>",
            )
        ),
        decisions={"fees": {"fee_yuan": set()}},
        processes={"p": "测试流程", "elsewhere": "别处"},
    )
    assert [e for s, e, _m in known if s == "error"] == []


def test_a_non_executable_process_is_refused():
    found = problems(document(executable="false"))
    assert [(s, e) for s, e, _m in found] == [("error", "p")]
    assert "未标记为可执行" in found[0][2] and "勾选“可执行”" in found[0][2]


# ---- diff and round trip ---------------------------------------------------------------------
def test_the_diff_names_added_removed_and_changed_properties():
    before = document()
    after = (
        document(
            task_props='<p name="formKey" value="review"/><p name="sla_committed" value="3wd"/>'
        )
        .replace(
            b'<bpmn:scriptTask id="refuse">', b'<bpmn:scriptTask id="refuse" name="\xe9\x80\x80">'
        )
        .replace(b'<bpmn:endEvent id="end"/>', b'<bpmn:endEvent id="end"/><bpmn:task id="extra"/>')
        .replace(b'<bpmn:startEvent id="start"/>', b"")
    )
    found = diff_models(before, after)
    assert [e["id"] for e in found["added"]] == ["extra"]
    assert [e["id"] for e in found["removed"]] == ["start"]
    changes = {e["id"]: e["changes"] for e in found["changed"]}
    assert changes["review"] == [
        {"property": "property:sla_committed", "label": "承诺时限", "before": "5wd", "after": "3wd"}
    ]
    assert changes["refuse"][0]["label"] == "名称"


def test_the_round_trip_comparison_allows_defaults_and_finds_losses():
    original = document().replace(
        b'<bpmn:userTask id="review"', b'<bpmn:userTask isForCompensation="false" id="review"'
    )
    assert compare(original, document())["ok"]  # a schema default left out is not lost
    lost = compare(original, document(task_props='<p name="formKey" value="review"/>'))
    assert not lost["ok"]
    assert {(x["element_id"], x["problem"]) for x in lost["lost"]} == {("review", "元素丢失")}
    renamed = compare(
        document(), document().replace(b'name="\xe5\xae\xa1\xe6\x9f\xa5"', b'name="x"')
    )
    assert renamed["lost"] == [
        {"element_id": "review", "path": "userTask", "problem": "属性 name 由“审查”变为“x”"}
    ]
