"""集体民主决策 四议两公开 (processes/collective_decision.bpmn, DOMAIN.md §6) through the harness:
the main path, every alternative path, who receives each task, the vote thresholds of the DMN
table collective_decision_thresholds on boundary numbers, and the end state.

The helpers here (`walk_to_vote`, `vote_counts`, `run_decision`, ...) are reused by
test_joint_review_entry.py, which calls this process twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from engine.errors import NotFound, ValidationFailed
from tests.scenarios.harness import Scenario

PROCESS = "collective_decision"
VILLAGE = "330702101201"  # 古方村, 白龙桥镇 (330702101), 婺城区 (330702)
ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 2026-03-02 09:00 in Beijing

PARTY = "dzz@village"
COMMITTEE = "cwh@village"
COLLECTIVE = "jjzz@village"
TOWNSHIP = "xz@township"
OBJECTION = "decision_objection"


def start(lf, matter: str = "入市方案", body: str = "村民代表会议", **data: Any) -> Scenario:
    lf.clock.set(START)
    return Scenario(lf, PROCESS, VILLAGE, data={"matter": matter, "deciding_body": body, **data})


def organiser(body: str) -> str:
    return COMMITTEE if body in ("村民会议", "村民代表会议") else COLLECTIVE


def vote_counts(
    eligible: int, present: int, yes: int, no: int = 0, abstain: int = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "meeting_held_on": "2026-03-20",
        "eligible_count": eligible,
        "present_count": present,
        "for_count": yes,
        "against_count": no,
        "abstain_count": abstain,
        "sign_in_sheet": "att-2026-031-签到表.pdf",
        "minutes": "att-2026-032-会议记录.pdf",
        **extra,
    }


def propose_to_notice(case: Scenario, body: str) -> None:
    """村党组织提议 → 村两委会议商议 → 党员大会审议 → 会议通知 (by the organiser of the body)."""
    case.complete(
        "propose",
        {"proposal_summary": "拟定方案并提请决策", "proposed_on": "2026-03-02"},
        by=PARTY,
    )
    case.complete(
        "consult",
        {"consult_held_on": "2026-03-02", "consult_outcome": "同意提交党员大会审议"},
        by=COMMITTEE,
    )
    case.complete(
        "party_review",
        {
            "party_meeting_held_on": "2026-03-02",
            "party_members_present_count": 23,
            "party_review_outcome": "同意提交表决",
        },
        by=PARTY,
    )
    by = organiser(body)
    case.complete(
        f"notice_{by.split('@')[0]}",
        {
            "meeting_notice_published_on": "2026-03-02",
            "meeting_planned_on": "2026-03-20",
            "notice_locations": "村务公开栏、村微信群",
        },
        by=by,
    )


def advance_until_open(case: Scenario, name: str, max_days: int = 45) -> int:
    """Move the clock a day at a time until `name` is open; returns the days it took."""
    for day in range(1, max_days + 1):
        case.advance(days=1)
        if case.open_tasks(name):
            return day
    raise AssertionError(f"'{name}' did not open within {max_days} days: {case.open_names()}")


def walk_to_vote(case: Scenario, body: str) -> str:
    """From 村党组织提议 to the open vote task; returns the vote task's name."""
    propose_to_notice(case, body)
    name = f"record_vote_{organiser(body).split('@')[0]}"
    advance_until_open(case, name)
    return name


def finish_publicity(case: Scenario) -> None:
    """决议公开 → publicity period without objection → 实施结果公开."""
    case.complete(
        "publish_decision",
        {"decision_published_on": "2026-03-20", "publicity_location": "村务公开栏"},
        by=COMMITTEE,
    )
    advance_until_open(case, "publish_result")
    case.complete("publish_result", {"result_published_on": "2026-03-30"}, by=COMMITTEE)


def run_decision(case: Scenario, body: str, counts: dict[str, Any]) -> None:
    """A whole decision inside a caller: vote with `counts`, then publicity if it passed."""
    name = walk_to_vote(case, body)
    case.complete(name, counts, by=organiser(body))
    if case.open_tasks("publish_decision"):
        finish_publicity(case)


# ------------------------------------------------------------------------------ main path
def test_main_path_representatives_decide_entry_plan(product_lf):
    case = start(product_lf, "入市方案", "村民代表会议")
    assert case.open_names() == ["propose"]
    data = case.data
    assert data["allowed"] is True
    assert data["vote_rule"]["pass_base"] == "eligible"
    assert (data["notice_days"], data["publicity_days"]) == (15, 5)

    propose_to_notice(case, "村民代表会议")
    # 浙江: the 入市方案 is posted ≥ 15 days; days(15) from Mon 2026-03-02 ends Tue 03-17 24:00
    assert case.data["notice_ends_at"] == "2026-03-17T23:59:59+08:00"
    assert case.status == "waiting" and case.open_names() == []
    case.advance(days=15)  # 2026-03-17 09:00: still within the notice period
    assert case.open_names() == []
    case.advance(days=1)
    assert case.open_names() == ["record_vote_cwh"]

    case.complete("record_vote_cwh", vote_counts(30, 26, 24, 1, 1), by=COMMITTEE)
    data = case.data
    assert data["quorum_met"] is True and data["decision_passed"] is True
    assert data["vote"] == {
        "deciding_body": "村民代表会议",
        "matter": "入市方案",
        "round": 1,
        "meeting_held_on": "2026-03-20",
        "eligible_count": 30,
        "present_count": 26,
        "for_count": 24,
        "against_count": 1,
        "abstain_count": 1,
        "household_count": 0,
        "households_present_count": 0,
        "sign_in_sheet": "att-2026-031-签到表.pdf",
        "minutes": "att-2026-032-会议记录.pdf",
        "quorum_met": True,
        "passed": True,
        "pass_base_count": 30,
    }
    assert case.open_names() == ["publish_decision"]
    case.complete(
        "publish_decision",
        {"decision_published_on": "2026-03-18", "publicity_location": "村务公开栏"},
        by=COMMITTEE,
    )
    # publicity: days(5) from Wed 2026-03-18 ends Mon 03-23 24:00; objections are accepted
    assert case.data["publicity_ends_at"] == "2026-03-23T23:59:59+08:00"
    assert case.open_names() == []
    case.advance(days=5)  # 03-23 09:00
    assert case.open_names() == []
    case.advance(days=1)
    assert case.open_names() == ["publish_result"]
    with pytest.raises(NotFound):  # the publicity is over: no more objections
        case.message(OBJECTION, "太晚的异议")
    case.complete("publish_result", {"result_published_on": "2026-03-24"}, by=COMMITTEE)

    assert case.status == "completed"
    data = case.data
    assert data["decision_passed"] is True
    assert data["decision_failure_reason"] == ""
    assert data["decision_round"] == 1
    assert data["objections"] == [] and data["objection_count"] == 0
    assert data["result_published_on"] == "2026-03-24"
    assert "instance_completed" in case.history_actions()


def test_member_assembly_is_organised_by_the_collective(product_lf):
    case = start(product_lf, "宅基地方案", "成员大会")
    propose_to_notice(case, "成员大会")
    assert case.data["notice_days"] == 10
    assert case.data["notice_ends_at"] == "2026-03-12T23:59:59+08:00"
    case.advance(days=10)  # 03-12 09:00: the notice period runs to the end of that day
    assert case.open_names() == []
    case.advance(days=1)
    assert case.open_names() == ["record_vote_jjzz"]
    case.complete("record_vote_jjzz", vote_counts(90, 60, 60), by=COLLECTIVE)
    assert case.data["decision_passed"] is True
    finish_publicity(case)
    assert case.status == "completed"
    assert case.data["decision_passed"] is True


# ------------------------------------------------------------------- thresholds (DMN)
BOUNDARIES = [
    # body, matter, (eligible, present, for), extra, quorum_met, passed
    # 村民代表会议, 入市方案: ≥ 2/3 present, ≥ 2/3 of ALL representatives agree (土地管理法 §63)
    ("村民代表会议", "入市方案", (30, 20, 20), {}, True, True),  # exactly 2/3 and 2/3
    ("村民代表会议", "入市方案", (30, 19, 19), {}, False, False),  # quorum just below 2/3
    ("村民代表会议", "入市方案", (30, 30, 19), {}, True, False),  # for just below 2/3 of all
    # 村民代表会议, other matters: > 1/2 of those present
    ("村民代表会议", "收益分配方案", (30, 20, 11), {}, True, True),
    ("村民代表会议", "收益分配方案", (30, 20, 10), {}, True, False),  # exactly half is not more
    # 村民会议, general: > 1/2 of villagers present (strict), decided by > 1/2 of those present
    ("村民会议", "收益分配方案", (100, 50, 50), {}, False, False),  # exactly half: no quorum
    ("村民会议", "收益分配方案", (100, 51, 26), {}, True, True),  # quorum just met, 26 > 25.5
    ("村民会议", "收益分配方案", (100, 51, 25), {}, True, False),
    # ... or ≥ 2/3 of the household representatives present
    (
        "村民会议",
        "宅基地方案",
        (100, 40, 21),
        {"household_count": 135, "households_present_count": 90},
        True,
        True,
    ),
    (
        "村民会议",
        "宅基地方案",
        (100, 40, 21),
        {"household_count": 135, "households_present_count": 89},
        False,
        False,
    ),
    # 村民会议, 入市方案: ≥ 2/3 of ALL members agree
    ("村民会议", "入市方案", (99, 70, 66), {}, True, True),  # 66 = exactly 2/3 of 99
    ("村民会议", "入市方案", (99, 70, 65), {}, True, False),  # majority present, not 2/3 of all
    # 成员大会: ≥ 2/3 of members present and ≥ 2/3 of ALL members agree
    ("成员大会", "宅基地方案", (90, 60, 60), {}, True, True),
    ("成员大会", "宅基地方案", (90, 59, 59), {}, False, False),
    ("成员大会", "收益分配方案", (90, 90, 59), {}, True, False),
    # 成员代表大会 may decide an 入市 plan
    ("成员代表大会", "入市方案", (45, 30, 30), {}, True, True),
    ("成员代表大会", "入市方案", (45, 30, 29), {}, True, False),
]


@pytest.mark.parametrize(("body", "matter", "numbers", "extra", "quorum", "passed"), BOUNDARIES)
def test_vote_thresholds_on_boundary_numbers(
    product_lf, body, matter, numbers, extra, quorum, passed
):
    case = start(product_lf, matter, body)
    name = walk_to_vote(case, body)
    eligible, present, yes = numbers
    case.complete(name, vote_counts(eligible, present, yes, **extra), by=organiser(body))
    data = case.data
    assert (data["quorum_met"], data["decision_passed"]) == (quorum, passed)
    assert data["vote"]["quorum_met"] is quorum and data["vote"]["passed"] is passed
    if passed:
        assert case.open_names() == ["publish_decision"]
        assert data["decision_failure_reason"] == ""
    else:
        assert case.status == "completed"
        reason = data["decision_failure_reason"]
        assert reason.startswith("到会人数未达到法定要求" if not quorum else "赞成票未达到法定比例")


def test_member_representatives_may_not_decide_a_homestead_plan(product_lf):
    case = start(product_lf, "宅基地方案", "成员代表大会")
    assert case.status == "completed"
    data = case.data
    assert data["allowed"] is False
    assert data["decision_passed"] is False and data["quorum_met"] is False
    assert "成员代表大会不得决定宅基地方案" in data["decision_failure_reason"]
    assert data["vote"] == {}
    assert [t for t in case.refresh()["tasks"]] == []  # nobody was asked to do anything


def test_an_unknown_body_cannot_decide(product_lf):
    """Started directly, the start form refuses it; called from another process (which passes
    its own data) the diagram's threshold table refuses it and the decision fails."""
    with pytest.raises(ValidationFailed) as refused:
        start(product_lf, "入市方案", "村委会扩大会议")
    assert [e.field for e in refused.value.errors] == ["deciding_body"]


# --------------------------------------------------------------------- alternative paths
def test_consultation_and_party_meeting_can_send_the_proposal_back(product_lf):
    case = start(product_lf, "土地整治方案", "村民代表会议")
    case.complete("propose", {"proposal_summary": "初稿", "proposed_on": "2026-03-02"}, by=PARTY)
    case.complete(
        "consult",
        {
            "consult_held_on": "2026-03-03",
            "consult_outcome": "退回重新提议",
            "consult_opinion": "补充复垦范围",
        },
        by=COMMITTEE,
    )
    assert case.open_names() == ["propose"]
    case.complete("propose", {"proposal_summary": "二稿", "proposed_on": "2026-03-04"}, by=PARTY)
    case.complete(
        "consult",
        {"consult_held_on": "2026-03-05", "consult_outcome": "同意提交党员大会审议"},
        by=COMMITTEE,
    )
    case.complete(
        "party_review",
        {
            "party_meeting_held_on": "2026-03-06",
            "party_members_present_count": 20,
            "party_review_outcome": "退回重新提议",
            "party_review_opinion": "复垦范围与村规划不一致",
        },
        by=PARTY,
    )
    assert case.open_names() == ["propose"]
    assert case.data["decision_round"] == 1  # returns inside a round do not start a new round
    propose_to_notice(case, "村民代表会议")
    advance_until_open(case, "record_vote_cwh")
    # 土地整治方案 needs 2/3 of all representatives as 入市 does (浙江省土地整治条例)
    case.complete("record_vote_cwh", vote_counts(30, 25, 19), by=COMMITTEE)
    assert case.data["decision_passed"] is False
    assert case.status == "completed"


def test_inconsistent_vote_numbers_are_refused_by_the_vote_form(product_lf):
    case = start(product_lf, "收益分配方案", "村民会议")
    walk_to_vote(case, "村民会议")
    with pytest.raises(ValidationFailed) as refused:
        case.complete("record_vote_cwh", vote_counts(100, 101, 60), by=COMMITTEE)
    assert {e.message for e in refused.value.errors} == {"到会人数不能超过应到人数"}
    assert case.open_names() == ["record_vote_cwh"]
    with pytest.raises(ValidationFailed) as refused:
        case.complete("record_vote_cwh", vote_counts(100, 60, 40, 15, 10), by=COMMITTEE)
    assert {e.message for e in refused.value.errors} == {"赞成、反对、弃权票数之和不能超过到会人数"}
    assert case.open_names() == ["record_vote_cwh"]
    case.complete("record_vote_cwh", vote_counts(100, 60, 40, 15, 5), by=COMMITTEE)
    assert case.open_names() == ["publish_decision"]
    assert case.data["vote_check_message"] == ""
    assert case.data["decision_passed"] is True


def test_the_vote_form_requires_the_sign_in_sheet_and_minutes(product_lf):
    case = start(product_lf, "收益分配方案", "村民会议")
    walk_to_vote(case, "村民会议")
    counts = vote_counts(100, 60, 40)
    del counts["minutes"]
    with pytest.raises(ValidationFailed):
        case.complete("record_vote_cwh", counts, by=COMMITTEE)
    with pytest.raises(ValidationFailed):
        case.complete(
            "record_vote_cwh", {**vote_counts(100, 60, 40), "sign_in_sheet": ""}, by=COMMITTEE
        )
    assert case.open_names() == ["record_vote_cwh"]


def _passed_and_published(product_lf, matter: str = "收益分配方案") -> Scenario:
    case = start(product_lf, matter, "村民代表会议")
    walk_to_vote(case, "村民代表会议")
    case.complete("record_vote_cwh", vote_counts(30, 25, 20), by=COMMITTEE)
    case.complete(
        "publish_decision",
        {"decision_published_on": "2026-03-12", "publicity_location": "村务公开栏"},
        by=COMMITTEE,
    )
    return case


def test_objection_dismissed_publicity_continues(product_lf):
    case = _passed_and_published(product_lf)
    ends_at = case.data["publicity_ends_at"]
    case.advance(days=1)
    case.message(OBJECTION, "分配方案未考虑外嫁女")
    assert case.open_names() == ["review_objection"]
    with pytest.raises(NotFound):  # one objection under review at a time
        case.message(OBJECTION, "同时提出的另一条异议")
    case.complete(
        "review_objection",
        {"objection_review_result": "异议不成立", "objection_review_opinion": "已按章程保障"},
        by=TOWNSHIP,
    )
    assert case.open_names() == []
    assert case.data["publicity_ends_at"] == ends_at  # the period is not restarted
    case.message(OBJECTION, "第二条异议")
    case.complete(
        "review_objection",
        {"objection_review_result": "异议不成立", "objection_review_opinion": "重复异议"},
        by=TOWNSHIP,
    )
    advance_until_open(case, "publish_result")
    case.complete("publish_result", {"result_published_on": "2026-03-20"}, by=COMMITTEE)
    assert case.status == "completed"
    data = case.data
    assert data["decision_passed"] is True
    assert data["objections"] == ["分配方案未考虑外嫁女", "第二条异议"]
    assert data["objection_count"] == 2
    assert data["objection_review_result"] == "异议不成立"


def test_objection_upheld_leads_to_a_new_vote(product_lf):
    case = _passed_and_published(product_lf)
    case.message(OBJECTION, "表决时未达法定人数的签到表有涂改")
    case.complete(
        "review_objection",
        {"objection_review_result": "异议成立，重新表决", "objection_review_opinion": "重新表决"},
        by=TOWNSHIP,
    )
    assert case.open_names() == ["propose"]
    assert case.data["decision_round"] == 2
    walk_to_vote(case, "村民代表会议")
    case.complete("record_vote_cwh", vote_counts(30, 28, 27), by=COMMITTEE)
    assert case.data["vote"]["round"] == 2
    finish_publicity(case)
    assert case.status == "completed"
    assert case.data["decision_passed"] is True
    assert case.data["vote"]["for_count"] == 27


def test_objection_upheld_invalidates_the_decision(product_lf):
    case = _passed_and_published(product_lf, matter="入市方案")
    case.message(OBJECTION, "方案未按规定公示15日")
    case.complete(
        "review_objection",
        {"objection_review_result": "异议成立，决议无效", "objection_review_opinion": "程序违法"},
        by=TOWNSHIP,
    )
    assert case.status == "completed"
    data = case.data
    assert data["decision_passed"] is False
    assert data["decision_failure_reason"] == "决议公开期间异议成立，决议无效"
    assert data["quorum_met"] is True  # the vote itself was valid
    assert case.open_names() == []


# ------------------------------------------------------------------------- static checks
BPMN_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_TAGS = (
    "startEvent",
    "endEvent",
    "userTask",
    "scriptTask",
    "businessRuleTask",
    "callActivity",
    "receiveTask",
    "exclusiveGateway",
    "parallelGateway",
    "intermediateCatchEvent",
    "boundaryEvent",
)


def check_diagram(file_name: str, form_prefixes: tuple[str, ...]) -> None:
    """Lanes carry dept_type + level, user tasks have forms and ids, every element and flow is
    drawn, and no two shapes overlap."""
    tree = etree.parse(str(ROOT / "processes" / file_name))
    process = tree.find("bpmn:process", BPMN_NS)
    lanes = process.findall(".//bpmn:lane", BPMN_NS)
    assert lanes
    for lane in lanes:
        props = {
            p.get("name"): p.get("value")
            for p in lane.findall(".//spiffworkflow:property", BPMN_NS)
        }
        assert props.get("dept_type") and props.get("level"), lane.get("id")
    in_lane = {ref.text for ref in process.findall(".//bpmn:flowNodeRef", BPMN_NS)}
    shapes = {
        s.get("bpmnElement"): s.find("{http://www.omg.org/spec/DD/20100524/DC}Bounds")
        for s in tree.iter(f"{{{BPMN_NS['bpmndi']}}}BPMNShape")
    }
    edges = {e.get("bpmnElement") for e in tree.iter(f"{{{BPMN_NS['bpmndi']}}}BPMNEdge")}
    nodes = [e for tag in FLOW_TAGS for e in process.findall(f"bpmn:{tag}", BPMN_NS)]
    for node in nodes:
        assert node.get("id") in shapes, f"{node.get('id')} is not drawn"
        assert node.get("id") in in_lane, f"{node.get('id')} is in no lane"
    for flow in process.findall("bpmn:sequenceFlow", BPMN_NS):
        assert flow.get("id") in edges, f"{flow.get('id')} is not drawn"
    for lane in lanes:
        assert lane.get("id") in shapes
    boxes = {}
    for node in nodes:
        if node.tag.endswith("boundaryEvent"):
            continue
        b = shapes[node.get("id")]
        boxes[node.get("id")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    ids = sorted(boxes)
    for i, a in enumerate(ids):
        ax, ay, aw, ah = boxes[a]
        for b in ids[i + 1 :]:
            bx, by, bw, bh = boxes[b]
            overlap = ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah
            assert not overlap, f"{a} overlaps {b}"
    for task in process.findall("bpmn:userTask", BPMN_NS):
        props = {
            p.get("name"): p.get("value")
            for p in task.findall(".//spiffworkflow:property", BPMN_NS)
        }
        form_key = props.get("formKey")
        assert form_key and form_key.startswith(form_prefixes), task.get("id")
        path = ROOT / "forms" / f"{form_key}.json"
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False


def test_diagram_conventions_and_forms():
    check_diagram("collective_decision.bpmn", ("decision_",))
    for path in sorted((ROOT / "forms").glob("decision_*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
