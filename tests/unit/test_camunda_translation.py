"""The pieces of the Camunda import: JUEL expressions into the restricted language, Camunda's
mapDecisionResult over our decision tables (run for real), and our own models left alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import expressions
from engine.bpmn import ProcessRuntime, compile_definitions, load_spec
from engine.bpmn.camunda_import import is_camunda_model
from engine.bpmn.juel import NotTranslatable, translate
from engine.bpmn.xml import parse_definition_xml
from engine.clock import SettableClock

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("juel", "python", "context", "value"),
    [
        ("${approved}", "approved", {"approved": True}, True),
        ("${amount > 1000 && !urgent}", "((amount > 1000) and (not urgent))", None, None),
        ("#{use eq '商业' or empty reviewers}", None, {"use": "工业", "reviewers": []}, True),
        ("${a.b['c'] == null ? 1 : -2}", None, {"a": {"b": {"c": None}}}, 1),
        ("${count div 2 mod 3 ge 1}", None, {"count": 10}, True),
        ('${x ne "是"}', None, {"x": "否"}, True),
    ],
)
def test_juel_becomes_the_restricted_language(juel, python, context, value):
    translated = translate(juel)
    expressions.validate(translated)
    if python is not None:
        assert translated == python
    if context is not None:
        assert expressions.evaluate(translated, context, functions={}) == value


@pytest.mark.parametrize(
    "juel", ["${a ?}", "Hello ${name}", "${x instanceof y}", "${(a}", "${a @ b}", "${}"]
)
def test_what_does_not_translate_says_so(juel):
    with pytest.raises(NotTranslatable) as refused:
        translate(juel)
    assert str(refused.value) and not str(refused.value).isascii()


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d"
  namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="fees" name="费用">
    <decisionTable id="t" hitPolicy="{policy}">
      <input id="i1"><inputExpression id="ie1" typeRef="number"><text>area</text>
      </inputExpression></input>
      {outputs}
      <rule id="r1"><inputEntry id="e1"><text>&gt; 10</text></inputEntry>{first}</rule>
      <rule id="r2"><inputEntry id="e2"><text>&gt; 100</text></inputEntry>{second}</rule>
    </decisionTable>
  </decision>
</definitions>"""
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://x">
  <bpmn:process id="fee_process" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:businessRuleTask id="rules" camunda:decisionRef="fees"
      camunda:resultVariable="result" camunda:mapDecisionResult="{mapping}"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rules"/>
    <bpmn:sequenceFlow id="f2" sourceRef="rules" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def decide(mapping: str, policy: str, names: list[str], area: int):
    outputs = "".join(f'<output id="o_{n}" name="{n}" typeRef="string"/>' for n in names)

    def entries(rule: str) -> str:
        return "".join(
            f'<outputEntry id="{rule}_{n}"><text>"{rule}-{n}"</text></outputEntry>' for n in names
        )

    dmn = DMN.format(policy=policy, outputs=outputs, first=entries("r1"), second=entries("r2"))
    warnings: list = []
    compiled = compile_definitions(
        {"p.bpmn": BPMN.format(mapping=mapping).encode(), "fees.dmn": dmn.encode()}, warnings
    )[0]
    assert warnings == []
    spec = load_spec(1, compiled.process_id, compiled.spec_json, compiled.subprocess_specs_json)
    runtime = ProcessRuntime(SettableClock(datetime(2026, 11, 2, tzinfo=UTC)), "Asia/Shanghai")
    data = runtime.start(spec, {"area": area}).data()
    assert not set(names) - {"result"} & set(data)  # only the result variable is left
    return data["result"]


@pytest.mark.parametrize(
    ("mapping", "policy", "names", "area", "result"),
    [
        ("singleEntry", "FIRST", ["level"], 50, "r1-level"),
        ("singleEntry", "FIRST", ["level"], 5, None),
        ("singleResult", "FIRST", ["level", "fee"], 50, {"level": "r1-level", "fee": "r1-fee"}),
        ("singleResult", "FIRST", ["level", "fee"], 5, None),
        ("collectEntries", "FIRST", ["level"], 50, ["r1-level"]),
        ("resultList", "FIRST", ["level", "fee"], 5, []),
        ("collectEntries", "COLLECT", ["level"], 500, ["r1-level", "r2-level"]),
        (
            "resultList",
            "COLLECT",
            ["level", "fee"],
            500,
            [{"level": "r1-level", "fee": "r1-fee"}, {"level": "r2-level", "fee": "r2-fee"}],
        ),
        ("singleEntry", "COLLECT", ["level"], 500, "r1-level"),
    ],
)
def test_map_decision_result_gives_what_camunda_gives(mapping, policy, names, area, result):
    assert decide(mapping, policy, names, area) == result


def test_our_own_processes_are_not_camunda_models():
    for path in sorted((PROJECT / "processes").glob("*.bpmn")):
        assert not is_camunda_model(parse_definition_xml(path.read_bytes(), path.name)), path


LANED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://x"
  exporter="Camunda Modeler" exporterVersion="5.21.0">
  <bpmn:collaboration id="collab"><bpmn:participant id="pool" processRef="routed"/>
  </bpmn:collaboration>
  <bpmn:process id="routed" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="office" name="审查科">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>a</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>b</bpmn:flowNodeRef><bpmn:flowNodeRef>c</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>d</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="a" camunda:candidateGroups="zrzy:county"/>
    <bpmn:userTask id="b" camunda:candidateGroups="xz"/>
    <bpmn:userTask id="c" camunda:candidateGroups="${chosen}:county"/>
    <bpmn:userTask id="d"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a"/>
    <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b"/>
    <bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="c"/>
    <bpmn:sequenceFlow id="f4" sourceRef="c" targetRef="d"/>
    <bpmn:sequenceFlow id="f5" sourceRef="d" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_candidate_groups_take_tasks_out_of_a_drawn_lane_into_routing_lanes():
    warnings: list = []
    compiled = compile_definitions({"routed.bpmn": LANED.encode()}, warnings)[0]
    spec = load_spec(1, "routed", compiled.spec_json, compiled.subprocess_specs_json).spec
    lanes = compiled.metadata["lanes"]["routed"]
    routing = {t: lanes[spec.task_specs[t].lane]["properties"] for t in "abcd"}
    assert routing == {
        "a": {"dept_type": "zrzy", "level": "county"},
        "b": {"dept_type": "xz", "level": "township"},  # 乡镇人民政府 exist at one level only
        "c": {"level": "county"},
        "d": {},  # still in the drawn lane 审查科, which routes nowhere
    }
    assert spec.task_specs["c"].extensions["properties"] == {"dept_type_from": "chosen"}
    assert [(w.element_id, w.attribute) for w in warnings] == [("d", "camunda:candidateGroups")]
    assert "无人可办" in warnings[0].message
