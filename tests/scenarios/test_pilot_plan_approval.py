"""试点实施方案审批与监测评估 (processes/pilot_plan_approval.bpmn, DOMAIN.md §4) through the
harness: the main path and every alternative path, who receives each task, the data recorded and
the final state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from engine.errors import ValidationFailed
from tests.scenarios.harness import Scenario

PROCESS = "pilot_plan_approval"
CITY = "330700"  # 金华市: the case region of a city's pilot plan
ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing

OFFICE = "ldxz@city"  # 市城乡融合发展领导小组办公室
PROVINCE_OFFICE = "fgw@province"  # 省发展改革委（省领导小组办公室）
PROVINCE_GOV = "zf@province"  # 省人民政府
COMMENT_DEPTS = ["fgw", "zrzy", "nync", "cz", "zj", "sthj"]


class Case(Scenario):
    """The harness plus a few readers used by these scenarios."""

    def advance_to(self, moment: datetime) -> int:
        return self.advance(seconds=(moment - self.lf.clock.now()).total_seconds())

    def count(self, action: str) -> int:
        return self.history_actions().count(action)


def start(lf) -> Case:
    lf.clock.set(START)
    return Case(lf, PROCESS, CITY, business_key="JH-SYQ-2026-01")


# ---- form data --------------------------------------------------------------------------------
def draft(**overrides: Any) -> dict[str, Any]:
    data = {
        "pilot_name": "金华市城乡融合发展试验区",
        "pilot_type": "城乡融合发展试验区",
        "pilot_scope": "婺城区、金东区、义乌市全域",
        "pilot_term_years": 2,
        "pilot_targets": "城乡要素双向流动的制度性通道基本打通",
        "pilot_measures": "集体经营性建设用地入市、宅基地自愿有偿退出、跨乡镇土地综合整治",
        "policy_support": "市级专项资金、新增建设用地指标倾斜",
        "development_basis": "农村土地制度改革三项试点基础",
        "industry_pilot_area": "婺城区城乡产业协同发展先行区",
        "comment_dept_types": COMMENT_DEPTS,
    }
    data.update(overrides)
    return data


def comments(objecting: str | None = None) -> dict[str, dict[str, Any]]:
    return {
        d: (
            {"opinion": "不同意", "remark": "资金来源不明确"}
            if d == objecting
            else {"opinion": "同意", "remark": ""}
        )
        for d in COMMENT_DEPTS
    }


CONSOLIDATE = {
    "comments_adopted_count": 1,
    "comments_not_adopted_count": 0,
    "adoption_explanation": "已补充资金来源",
}
GROUP_PASS = {
    "city_decision": "通过",
    "meeting_date": "2026-01-06",
    "meeting_minutes_no": "金城融〔2026〕1号",
}
GROUP_RETURN = {
    "city_decision": "退回修改",
    "meeting_date": "2026-01-06",
    "meeting_minutes_no": "金城融〔2026〕1号",
    "city_decision_opinion": "先行区范围需与国土空间规划衔接",
}
REVIEW_PASS = {"provincial_review_decision": "通过", "co_reviewers": ["zrzy"]}
REVIEW_RETURN = {
    "provincial_review_decision": "退回修改",
    "provincial_review_opinion": "补充地方政策保障措施",
}
APPROVE = {
    "provincial_decision": "批准",
    "approval_date": "2026-01-08",
    "approval_doc_no": "浙政函〔2026〕5号",
}
REJECT = {
    "provincial_decision": "不予批准",
    "approval_date": "2026-01-08",
    "provincial_decision_opinion": "改革基础不足，暂不纳入试验区",
}
FILING = {"ndrc_filing_no": "发改规划备〔2026〕12号", "ndrc_filing_date": "2026-01-09"}


def indicators(scale: int) -> dict[str, Any]:
    return {
        "reform_tasks_completed_count": 2 * scale,
        "market_entry_parcel_count": 3 * scale,
        "market_entry_land_mu": 45.5 * scale,
        "market_entry_income_yuan": 18_000_000 * scale,
        "homestead_withdrawn_count": 20 * scale,
        "consolidation_project_count": scale,
        "new_farmland_mu": 300.0 * scale,
        "high_standard_farmland_mu": 1200.0 * scale,
        "reclaimed_village_land_mu": 40.0 * scale,
        "revitalised_inefficient_land_mu": 60.0 * scale,
        "investment_completed_yuan": 250_000_000 * scale,
        "settled_migrants_count": 500 * scale,
    }


def quarterly(period: str, scale: int) -> dict[str, Any]:
    return {"monitoring_period": period, **indicators(scale), "monitoring_problems": "无"}


def self_report(scale: int) -> dict[str, Any]:
    return {
        "reform_tasks_total_count": 12,
        **indicators(scale),
        "self_assessment": "年度任务基本完成",
        "self_score": 88,
    }


def evaluation(outcome: str, **extra: Any) -> dict[str, Any]:
    return {
        "evaluation_outcome": outcome,
        "evaluation_score": {"继续": 86, "限期整改": 62, "退出": 41}[outcome],
        "evaluation_opinion": f"年度评估结论：{outcome}",
        **extra,
    }


RECTIFY = {
    "evaluation_outcome": "限期整改",
    "evaluation_score": 62,
    "evaluation_opinion": "入市改革进展滞后",
    "rectification_days": 90,
    "rectification_requirements": "三个月内完成两宗入市",
}


# ---- walking helpers --------------------------------------------------------------------------
def approve_plan(case: Case, **draft_overrides: Any) -> None:
    case.complete("draft_plan", draft(**draft_overrides), by=OFFICE)
    case.complete_each("city_comment", comments("cz"), by_level="city")
    case.complete("consolidate_plan", CONSOLIDATE, by=OFFICE)
    case.complete("city_group_approval", GROUP_PASS, by=OFFICE)
    case.complete("provincial_review", REVIEW_PASS, by=PROVINCE_OFFICE)
    case.complete("provincial_approval", APPROVE, by=PROVINCE_GOV)
    assert case.data["pilot_status"] == "approved"
    case.complete("file_with_ndrc", FILING, by=PROVINCE_OFFICE)


def due(year: int, quarter: int) -> datetime:
    """When return `quarter` (4 = the year-end report) of monitoring year `year` falls due:
    every three months from the day monitoring started (2026-01-05), 09:00 in Beijing."""
    months = 12 * (year - 1) + 3 * quarter
    return START.replace(year=START.year + months // 12, month=1 + months % 12)


def run_monitoring_year(case: Case, year: int) -> None:
    """Monitoring year `year`: three quarterly data returns, each opening on its due date,
    then the year-end self-report (which carries the fourth quarter's figures)."""
    for quarter in (1, 2, 3):
        case.advance_to(due(year, quarter) - timedelta(minutes=1))
        assert case.open_names() == [], (year, quarter)
        case.advance_to(due(year, quarter) + timedelta(minutes=1))
        assert case.open_names() == ["quarterly_return"], (year, quarter)
        case.complete(
            "quarterly_return", quarterly(f"{2025 + year}-Q{quarter}", quarter), by=OFFICE
        )
    case.advance_to(due(year, 4) - timedelta(minutes=1))
    assert case.open_names() == []  # no fourth quarterly return
    case.advance_to(due(year, 4) + timedelta(minutes=1))
    assert case.open_names() == ["annual_self_report"]
    case.complete("annual_self_report", self_report(4 * year), by=OFFICE)
    assert case.open_names() == ["annual_evaluation"]


# ---- scenarios --------------------------------------------------------------------------------
def test_plan_is_approved_filed_monitored_and_ends_with_its_term(product_lf):
    case = start(product_lf)
    assert case.data["pilot_status"] == "drafting"
    case.complete("draft_plan", draft(), by=OFFICE)
    assert case.data["pilot_status"] == "city_review"
    # one comment task per listed city department, each routed to that department
    items = sorted(t["properties"]["item"] for t in case.open_tasks("city_comment"))
    assert items == sorted(COMMENT_DEPTS)
    assert {t["properties"]["dept_types_from"] for t in case.open_tasks()} == {"comment_dept_types"}
    case.complete_each("city_comment", comments("cz"), by_level="city")
    data = case.data
    assert sorted(c["dept_type"] for c in data["city_comments"]) == sorted(COMMENT_DEPTS)
    assert {"dept_type": "cz", "opinion": "不同意", "remark": "资金来源不明确"} in data[
        "city_comments"
    ]
    assert (data["comment_count"], data["comment_objection_count"]) == (6, 1)
    assert data["comment_revision_count"] == 0
    assert "comment_dept" not in data and "dept_comment" not in data and "c" not in data

    case.complete("consolidate_plan", CONSOLIDATE, by=OFFICE)
    case.complete("city_group_approval", GROUP_PASS, by=OFFICE)
    case.complete("provincial_review", REVIEW_PASS, by=PROVINCE_OFFICE)
    case.complete("provincial_approval", APPROVE, by=PROVINCE_GOV)
    assert case.open_names() == ["file_with_ndrc"]
    case.complete("file_with_ndrc", FILING, by=PROVINCE_OFFICE)
    data = case.data
    assert data["pilot_status"] == "monitoring" and data["pilot_year"] == 1
    assert data["monitoring_started_on"] == "2026-01-05"
    assert data["ndrc_filing_no"] == "发改规划备〔2026〕12号"
    assert data["approval_doc_no"] == "浙政函〔2026〕5号"
    assert case.status == "waiting"  # only the timers can move it now

    run_monitoring_year(case, 1)
    assert case.data["new_farmland_mu"] == 1200.0  # the year-end report's cumulative figure
    case.complete("annual_evaluation", evaluation("继续"), by=PROVINCE_OFFICE)
    assert case.data["pilot_year"] == 2 and case.data["pilot_status"] == "monitoring"

    run_monitoring_year(case, 2)
    case.complete("annual_evaluation", evaluation("继续"), by=PROVINCE_OFFICE)

    assert case.status == "completed"
    data = case.data
    assert data["pilot_status"] == "completed"
    assert data["evaluations"] == [
        {"year": 1, "outcome": "继续", "score": 86},
        {"year": 2, "outcome": "继续", "score": 86},
    ]
    assert data["high_standard_farmland_mu"] == 1200.0 * 8
    assert case.count("timer_fired") == 8  # 2 × (3 quarters + anniversary)
    done = [t for t in case.refresh()["tasks"] if t["name"] == "quarterly_return"]
    assert len(done) == 6 and {t["state"] for t in done} == {"done"}


def test_city_leadership_group_returns_the_plan_for_revision(product_lf):
    case = start(product_lf)
    case.complete("draft_plan", draft(), by=OFFICE)
    case.complete_each("city_comment", comments(), by_level="city")
    case.complete("consolidate_plan", CONSOLIDATE, by=OFFICE)
    task = case.task("city_group_approval")
    assert task["properties"]["return_to"] == "draft_plan"
    case.complete("city_group_approval", GROUP_RETURN, by=OFFICE)
    assert case.open_names() == ["draft_plan"]
    assert case.data["city_decision_opinion"] == "先行区范围需与国土空间规划衔接"

    case.complete("draft_plan", draft(revision_note="先行区范围已调整"), by=OFFICE)
    assert case.data["plan_version"] == 2
    # a fresh comment round on the revised plan
    assert len(case.open_tasks("city_comment")) == len(COMMENT_DEPTS)
    case.complete_each("city_comment", comments(), by_level="city")
    assert len(case.data["city_comments"]) == len(COMMENT_DEPTS)
    case.complete("consolidate_plan", CONSOLIDATE, by=OFFICE)
    case.complete("city_group_approval", GROUP_PASS, by=OFFICE)
    assert case.open_names() == ["provincial_review"]


def test_provincial_office_returns_the_plan_and_it_is_resubmitted(product_lf):
    case = start(product_lf)
    case.complete("draft_plan", draft(), by=OFFICE)
    case.complete_each("city_comment", comments(), by_level="city")
    case.complete("consolidate_plan", CONSOLIDATE, by=OFFICE)
    case.complete("city_group_approval", GROUP_PASS, by=OFFICE)
    assert case.task("provincial_review")["properties"]["return_to"] == "draft_plan"
    case.complete("provincial_review", REVIEW_RETURN, by=PROVINCE_OFFICE)
    assert case.open_names() == ["draft_plan"]

    revised = draft(
        policy_support="市级专项资金、新增建设用地指标倾斜、金融支持",
        revision_note="按省级审查意见补充政策保障",
    )
    case.complete("draft_plan", revised, by=OFFICE)
    case.complete_each("city_comment", comments(), by_level="city")
    case.complete("consolidate_plan", CONSOLIDATE, by=OFFICE)
    case.complete("city_group_approval", GROUP_PASS, by=OFFICE)
    case.complete("provincial_review", REVIEW_PASS, by=PROVINCE_OFFICE)
    case.complete("provincial_approval", APPROVE, by=PROVINCE_GOV)
    case.complete("file_with_ndrc", FILING, by=PROVINCE_OFFICE)
    data = case.data
    assert data["plan_version"] == 2 and data["pilot_status"] == "monitoring"
    assert data["policy_support"].endswith("金融支持")
    # two rounds of draft + 6 comments + consolidation + city group + provincial review
    assert case.count("task_completed") == 2 * (1 + 6 + 1 + 1 + 1) + 2


def test_provincial_government_rejects_the_plan(product_lf):
    case = start(product_lf)
    case.complete("draft_plan", draft(), by=OFFICE)
    case.complete_each("city_comment", comments(), by_level="city")
    case.complete("consolidate_plan", CONSOLIDATE, by=OFFICE)
    case.complete("city_group_approval", GROUP_PASS, by=OFFICE)
    case.complete("provincial_review", REVIEW_PASS, by=PROVINCE_OFFICE)
    case.complete("provincial_approval", REJECT, by=PROVINCE_GOV)
    assert case.status == "completed"
    data = case.data
    assert data["pilot_status"] == "rejected"
    assert data["provincial_decision_opinion"] == "改革基础不足，暂不纳入试验区"
    assert "ndrc_filing_no" not in data
    assert not any(t["name"] == "file_with_ndrc" for t in case.refresh()["tasks"])


def test_annual_evaluation_exit_ends_the_pilot(product_lf):
    case = start(product_lf)
    approve_plan(case)
    run_monitoring_year(case, 1)
    case.complete("annual_evaluation", evaluation("退出"), by=PROVINCE_OFFICE)
    assert case.status == "completed"
    data = case.data
    assert data["pilot_status"] == "exited" and data["exited_in_year"] == 1
    assert data["evaluations"] == [{"year": 1, "outcome": "退出", "score": 41}]


def test_rectification_in_time_then_the_pilot_continues(product_lf):
    case = start(product_lf)
    approve_plan(case)
    run_monitoring_year(case, 1)
    evaluated_at = case.lf.clock.now()
    case.complete("annual_evaluation", RECTIFY, by=PROVINCE_OFFICE)
    data = case.data
    assert data["pilot_status"] == "rectifying"
    assert data["rectification_deadline"] == "2027-04-05"  # 90 calendar days after 2027-01-05
    assert case.open_names() == ["rectify"]
    case.advance_to(evaluated_at + timedelta(days=60))
    case.complete(
        "rectify",
        {
            "rectification_report": "已完成两宗集体经营性建设用地入市",
            "rectified_items_count": 2,
            "unrectified_items_count": 0,
        },
        by=OFFICE,
    )
    assert case.data["rectification_overdue"] is False
    case.complete(
        "rectification_review",
        {"review_outcome": "继续", "review_opinion": "整改到位"},
        by=PROVINCE_OFFICE,
    )
    data = case.data
    assert data["pilot_year"] == 2 and data["pilot_status"] == "monitoring"
    # the deadline timer went with the finished task: nothing fires on the old deadline
    case.advance_to(evaluated_at + timedelta(days=91))
    assert "rectification_review" not in case.open_names()
    assert case.count("task_cancelled") == 0


def test_rectification_deadline_passes_and_the_review_exits_the_pilot(product_lf):
    case = start(product_lf)
    approve_plan(case)
    run_monitoring_year(case, 1)
    case.complete("annual_evaluation", RECTIFY, by=PROVINCE_OFFICE)
    assert case.open_names() == ["rectify"]
    # 2027-04-05 is the last day: the timer fires at the end of that day (Beijing time)
    case.advance_to(datetime(2027, 4, 5, 15, 58, tzinfo=UTC))
    assert case.open_names() == ["rectify"]
    case.advance_to(datetime(2027, 4, 5, 16, 1, tzinfo=UTC))
    assert case.open_names() == ["rectification_review"]
    assert case.data["rectification_overdue"] is True
    assert "task_cancelled" in case.history_actions()  # the rectification task was withdrawn
    case.complete(
        "rectification_review",
        {"review_outcome": "退出", "review_opinion": "逾期未完成整改，取消试点资格"},
        by=PROVINCE_OFFICE,
    )
    assert case.status == "completed"
    assert case.data["pilot_status"] == "exited"
    assert case.data["evaluations"] == [{"year": 1, "outcome": "限期整改", "score": 62}]


@pytest.mark.parametrize(
    ("form", "data", "field"),
    [
        ("draft_plan", draft(development_basis=None), "development_basis"),
        ("draft_plan", draft(pilot_type="示范城镇"), "town_name"),
        ("draft_plan", draft(comment_dept_types=["fgw", "gov"]), "comment_dept_types.1"),
        ("draft_plan", draft(pilot_term_years=0), "pilot_term_years"),
        ("draft_plan", draft(budget=1), "budget"),
    ],
)
def test_draft_form_enforces_the_plan_contents(product_lf, form, data, field):
    case = start(product_lf)
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValidationFailed) as refused:
        case.complete(form, data, by=OFFICE)
    assert field in [e.field for e in refused.value.errors]
    assert case.open_names() == ["draft_plan"]


def test_rectification_needs_a_deadline_and_requirements(product_lf):
    case = start(product_lf)
    approve_plan(case)
    run_monitoring_year(case, 1)
    with pytest.raises(ValidationFailed) as refused:
        case.complete("annual_evaluation", evaluation("限期整改"), by=PROVINCE_OFFICE)
    fields = {e.field for e in refused.value.errors}
    assert {"rectification_days", "rectification_requirements"} <= fields
    assert case.open_names() == ["annual_evaluation"]


# ---- static checks of the diagram and its forms ----------------------------------------------
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def test_forms_are_json_schema_2020_12_and_every_user_task_has_lane_and_form():
    tree = etree.parse(str(ROOT / "processes" / f"{PROCESS}.bpmn"))
    lanes = {}
    for lane in tree.iterfind(".//bpmn:lane", NS):
        props = {
            p.get("name"): p.get("value") for p in lane.iterfind(".//spiffworkflow:property", NS)
        }
        assert props.get("dept_type") and props.get("level") in ("city", "province")
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[ref.text] = props
    tasks = tree.findall(".//bpmn:userTask", NS)
    assert len(tasks) == 12
    for task in tasks:
        assert task.get("id") in lanes, task.get("id")
        props = {
            p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)
        }
        schema = json.loads((ROOT / "forms" / f"{props['formKey']}.json").read_text("utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["additionalProperties"] is False and schema["title"]
        assert props["formKey"].startswith("pilot_")


def test_every_element_and_flow_is_drawn():
    tree = etree.parse(str(ROOT / "processes" / f"{PROCESS}.bpmn"))
    drawn = {s.get("bpmnElement") for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    drawn |= {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    process = tree.find("bpmn:process", NS)
    elements = {
        e.get("id")
        for e in process.iter()
        if e is not process
        and isinstance(e.tag, str)
        and e.get("id")
        and etree.QName(e).localname
        not in ("laneSet", "property", "inputDataItem", "outputDataItem")
        and not etree.QName(e).localname.endswith("EventDefinition")
    }
    assert elements - drawn == set()


def test_a_late_return_holds_back_the_next_which_opens_at_once_when_overdue(product_lf):
    case = start(product_lf)
    approve_plan(case)
    case.advance_to(due(1, 2) + timedelta(days=10))  # Q1 was never filed; Q2 is due too
    assert case.open_names() == ["quarterly_return"]  # the returns come one at a time
    case.complete("quarterly_return", quarterly("2026-Q1", 1), by=OFFICE)
    assert case.open_names() == ["quarterly_return"]  # Q2 is overdue: it opens at once
    case.complete("quarterly_return", quarterly("2026-Q2", 2), by=OFFICE)
    assert case.open_names() == []  # Q3 is not due yet
    assert case.data["returns_filed_count"] == 2
    case.advance_to(due(1, 3) + timedelta(minutes=1))
    case.complete("quarterly_return", quarterly("2026-Q3", 3), by=OFFICE)
    case.advance_to(due(1, 4) + timedelta(minutes=1))
    assert case.open_names() == ["annual_self_report"]  # the anniversary does not move
    assert case.count("task_cancelled") == 0
