"""土地综合整治项目 (processes/consolidation_project.bpmn, DOMAIN.md §5) through the harness, from
前期谋划 to 后期管护: the main path and every alternative path, who receives each task, the
figures recorded and the final state."""

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

PROCESS = "consolidation_project"
TOWNSHIP = "330702101"  # 白龙桥镇, 婺城区, 金华市: the (lead) township of the project
ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
TENDER_RESULT = "consolidation_tender_result"

IMPLEMENTER = "xz@township"  # 乡镇人民政府（项目实施单位）
COUNTY_ZRZY = "zrzy@county"  # 县自然资源和规划局（土地整治机构）
CITY_ZRZY = "zrzy@city"
COUNTY_GOV = "zf@county"
COUNTY_NYNC = "nync@county"


class Case(Scenario):
    """The harness plus a few readers used by these scenarios."""

    def advance_to(self, moment: datetime) -> int:
        return self.advance(seconds=(moment - self.lf.clock.now()).total_seconds())

    def count(self, action: str) -> int:
        return self.history_actions().count(action)

    def tasks_named(self, name: str) -> list[dict[str, Any]]:
        return [t for t in self.refresh()["tasks"] if t["name"] == name]


def start(lf) -> Case:
    lf.clock.set(START)
    return Case(lf, PROCESS, TOWNSHIP, business_key="WC-ZZ-2026-003")


# ---- form data --------------------------------------------------------------------------------
PROPOSAL = {
    "project_name": "婺城区白龙桥镇全域土地综合整治项目",
    "project_type": "农地整治提升",
    "involved_townships": ["白龙桥镇"],
    "involved_village_count": 2,
    "scope_area_mu": 8600,
    "planned_new_farmland_mu": 420,
    "planned_high_standard_farmland_mu": 3000,
    "planned_reclaimed_village_land_mu": 35,
    "estimated_investment_yuan": 12_000_000,
    "funding_sources": "财政资金、耕地开垦费、指标交易收益",
}
BANK_ACCEPT = {"bank_decision": "同意入库", "bank_entry_no": "JH-ZZK-2026-017"}


def plan(**overrides: Any) -> dict[str, Any]:
    data = {
        "plan_doc_no": "婺资规整〔2026〕3号",
        "feasibility_report_no": "婺可研〔2026〕11号",
        "budget_yuan": 10_000_000,
        "designed_farmland_grade": 5,
        "planned_new_farmland_mu": 420,
        "planned_high_standard_farmland_mu": 3000,
        "planned_supplementary_farmland_mu": 400,
        "planned_linkage_surplus_mu": 30,
        "construction_months": 12,
        "involves_demolition": True,
    }
    data.update(overrides)
    return data


def consent(agree: tuple[int, int] = (240, 36), **overrides: Any) -> dict[str, Any]:
    data = {
        "consent_villages": [
            {
                "village_name": "古方村",
                "decision_body": "集体经济组织成员大会",
                "member_count": 300,
                "present_count": 260,
                "agree_count": agree[0],
                "meeting_date": "2026-01-12",
            },
            {
                "village_name": "筱溪村",
                "decision_body": "村民代表会议",
                "member_count": 45,
                "present_count": 40,
                "agree_count": agree[1],
                "meeting_date": "2026-01-13",
            },
        ],
        "plan_posted_days": 15,
        "demolition_owner_count": 12,
        "demolition_consented_count": 12,
        "consent_minutes_no": "白龙桥镇档〔2026〕21号",
    }
    data.update(overrides)
    return data


def special(sthj_refuses: bool = False) -> dict[str, dict[str, Any]]:
    return {
        "fgw": {
            "special_decision": "同意",
            "special_category": "投资项目审批（可研批复）",
            "special_doc_no": "婺发改投〔2026〕3号",
            "special_opinion": "",
        },
        "sthj": (
            {
                "special_decision": "不同意",
                "special_category": "环境影响报告表批复",
                "special_doc_no": "",
                "special_opinion": "项目区涉及饮用水源保护区，须调整范围",
            }
            if sthj_refuses
            else {
                "special_decision": "同意",
                "special_category": "环境影响报告表批复",
                "special_doc_no": "金环建婺〔2026〕5号",
                "special_opinion": "",
            }
        ),
    }


ASSESS_PASS = {"assessment_decision": "同意报批", "assessment_opinion": "符合国土空间规划"}
ASSESS_RETURN = {"assessment_decision": "退回修改", "assessment_opinion": "预算依据不足"}
GOV_APPROVE = {
    "government_decision": "批准",
    "decision_date": "2026-01-20",
    "approval_doc_no": "婺政复〔2026〕8号",
    "approved_budget_yuan": 10_000_000,
}
GOV_REJECT = {
    "government_decision": "不予批准",
    "decision_date": "2026-01-20",
    "government_opinion": "与城镇开发边界冲突",
}
TENDER = {
    "tender_announcement_date": "2026-01-21",
    "tender_control_price_yuan": 9_500_000,
    "tender_platform": "金华市公共资源交易中心",
}
AWARDED = {
    "result": "中标",
    "contractor_name": "浙江某水利建设有限公司",
    "contract_amount_yuan": 9_200_000,
    "award_date": "2026-02-10",
}
START_WORKS = {
    "contract_signed_date": "2026-02-15",
    "start_date": "2026-02-20",
    "planned_completion_date": "2027-02-19",
    "supervision_unit": "金华某工程监理有限公司",
}


def change(amount: int) -> dict[str, Any]:
    return {
        "construction_action": "申请设计变更",
        "change_description": "增加灌溉泵站一座",
        "budget_change_yuan": amount,
    }


COMPLETION = {
    "construction_action": "申报完工",
    "completion_date": "2026-12-20",
    "completed_investment_yuan": 9_900_000,
    "extra_acceptance_dept_types": [],
}
APPROVE_CHANGE = {"change_decision": "批准", "change_opinion": "同意变更"}
REFUSE_CHANGE = {"change_decision": "不批准", "change_opinion": "变更理由不充分"}


def grading(grade: int) -> dict[str, Any]:
    return {
        "achieved_farmland_grade": grade,
        "grading_report_no": f"婺耕评〔2026〕{grade}号",
        "grading_agency": "浙江省耕地质量监测中心",
    }


def acceptance(failing: str | None = None, depts=("zrzy", "nync", "sl")) -> dict[str, Any]:
    return {
        d: (
            {"acceptance_result": "不合格", "acceptance_remark": "排灌沟渠未达设计标准"}
            if d == failing
            else {"acceptance_result": "合格", "acceptance_remark": ""}
        )
        for d in depts
    }


NEW_FARMLAND = {
    "new_farmland_mu": 415.5,
    "new_paddy_field_mu": 210.0,
    "new_farmland_cert_no": "婺资规认〔2027〕2号",
}
HIGH_STANDARD = {"high_standard_farmland_mu": 2980.0, "high_standard_cert_no": "婺农认〔2027〕1号"}
INDICATORS = {
    "supplementary_farmland_mu": 400.0,
    "linkage_surplus_mu": 28.6,
    "reclaimed_village_land_mu": 33.2,
    "indicator_bank_no": "浙补耕〔2027〕0456号",
}


def inspection(day: str) -> dict[str, Any]:
    return {
        "inspection_date": day,
        "farmland_in_use": True,
        "planted_area_mu": 410.0,
        "abandoned_area_mu": 0,
        "facilities_intact": True,
    }


MONTHLY = {
    "report_month": "2026-03",
    "progress_percent": 20,
    "completed_investment_yuan": 1_800_000,
    "funds_paid_yuan": 1_500_000,
    "new_farmland_completed_mu": 60,
}


def months_after(day: datetime, months: int) -> datetime:
    """09:00 in Beijing (01:00 UTC) on the same day `months` later (day capped at 28)."""
    total = day.month - 1 + months
    return datetime(day.year + total // 12, 1 + total % 12, min(day.day, 28), 1, 0, tzinfo=UTC)


# ---- walking helpers --------------------------------------------------------------------------
def enter_bank(case: Case) -> None:
    case.complete("propose_project", PROPOSAL, by=COUNTY_ZRZY)
    case.complete("review_bank_entry", BANK_ACCEPT, by=CITY_ZRZY)


def approve(case: Case) -> None:
    """From an accepted project-bank entry to the government's approval."""
    case.complete("draft_plan", plan(), by=COUNTY_ZRZY)
    case.complete("record_consent", consent(), by=IMPLEMENTER)
    case.complete_each("special_approval", special(), by_level="county")
    case.complete("assess_plan", ASSESS_PASS, by=COUNTY_ZRZY)
    case.complete("government_decision", GOV_APPROVE, by=COUNTY_GOV)


def build(case: Case) -> None:
    """Tender, award (message from the trading platform) and start of works."""
    case.complete("prepare_tender", TENDER, by=IMPLEMENTER)
    case.message(TENDER_RESULT, AWARDED)
    case.complete("report_start", START_WORKS, by=IMPLEMENTER)


def to_construction(case: Case) -> None:
    enter_bank(case)
    approve(case)
    build(case)
    assert case.open_names() == ["manage_construction"]


def accept(case: Case) -> None:
    """From the completion report to the start of aftercare, everything passing first time."""
    case.complete("grade_farmland_quality", grading(5), by=COUNTY_ZRZY)
    case.complete_each("joint_acceptance", acceptance(), by_level="county")
    case.complete("certify_new_farmland", NEW_FARMLAND, by=COUNTY_ZRZY)
    case.complete("certify_high_standard", HIGH_STANDARD, by=COUNTY_NYNC)
    case.complete("record_indicators", INDICATORS, by=COUNTY_ZRZY)


# ---- the main path ----------------------------------------------------------------------------
def test_project_from_proposal_through_aftercare_to_closure(product_lf):
    case = start(product_lf)
    assert case.data["stage"] == "planning"
    case.complete("propose_project", PROPOSAL, by=COUNTY_ZRZY)
    assert case.task("review_bank_entry")["properties"]["return_to"] == "propose_project"
    case.complete("review_bank_entry", BANK_ACCEPT, by=CITY_ZRZY)
    assert case.data["stage"] == "plan_approval"

    case.complete("draft_plan", plan(), by=COUNTY_ZRZY)
    case.complete("record_consent", consent(), by=IMPLEMENTER)
    data = case.data
    assert data["consent_passed"] is True and data["consent_failure_reason"] == ""
    assert data["collective_consent_min_ratio"] == pytest.approx(0.8)
    assert (data["consent_agree_count"], data["consent_member_count"]) == (276, 345)
    # 投资项目审批 (fgw) and 环评 (sthj) in parallel, each routed to its own department
    assert sorted(t["properties"]["item"] for t in case.open_tasks("special_approval")) == [
        "fgw",
        "sthj",
    ]
    case.complete_each("special_approval", special(), by_level="county")
    data = case.data
    assert data["special_refused_count"] == 0
    assert data["special_approvals"] == special()  # each department's answer under its type
    assert data["special_approval_docs"] == {
        "fgw": "婺发改投〔2026〕3号",
        "sthj": "金环建婺〔2026〕5号",
    }
    assess = case.task("assess_plan")
    assert assess["properties"]["sla_statutory"] == "20d"
    assert assess["properties"]["return_to"] == "draft_plan"
    case.complete("assess_plan", ASSESS_PASS, by=COUNTY_ZRZY)
    assert case.task("government_decision")["properties"]["sla_statutory"] == "20d"
    case.complete("government_decision", GOV_APPROVE, by=COUNTY_GOV)
    data = case.data
    assert data["stage"] == "implementation" and data["current_budget_yuan"] == 10_000_000

    case.complete("prepare_tender", TENDER, by=IMPLEMENTER)
    assert case.status == "waiting"  # for the trading platform's answer
    case.message(TENDER_RESULT, AWARDED)
    data = case.data
    assert data["tender_awarded"] is True and data["tender_round"] == 1
    assert data["contract_amount_yuan"] == 9_200_000
    case.complete("report_start", START_WORKS, by=IMPLEMENTER)
    assert case.open_names() == ["manage_construction"]

    # 月调度: one progress return a month while the works go on
    case.advance(days=31, minutes=1)
    assert case.open_names() == ["manage_construction", "monthly_progress_return"]
    case.complete("monthly_progress_return", MONTHLY, by=IMPLEMENTER)
    case.advance(days=31)
    case.complete(
        "monthly_progress_return",
        {**MONTHLY, "report_month": "2026-04", "progress_percent": 45},
        by=IMPLEMENTER,
    )
    case.complete("manage_construction", COMPLETION, by=IMPLEMENTER)
    assert case.data["stage"] == "acceptance"
    assert case.data["acceptance_dept_types"] == ["zrzy", "nync", "sl"]
    case.advance(days=31)
    assert "monthly_progress_return" not in case.open_names()  # no returns after completion

    # 竣工验收: quality grading first, then the joint acceptance by zrzy, nync and sl
    case.complete("grade_farmland_quality", grading(5), by=COUNTY_ZRZY)
    assert case.data["quality_grade_met"] is True
    assert sorted(t["properties"]["item"] for t in case.open_tasks("joint_acceptance")) == [
        "nync",
        "sl",
        "zrzy",
    ]
    case.complete_each("joint_acceptance", acceptance(), by_level="county")
    assert case.data["acceptance_results"] == acceptance()
    assert case.open_names() == ["certify_high_standard", "certify_new_farmland"]
    case.complete("certify_new_farmland", NEW_FARMLAND, by=COUNTY_ZRZY)
    case.complete("certify_high_standard", HIGH_STANDARD, by=COUNTY_NYNC)
    case.complete("record_indicators", INDICATORS, by=COUNTY_ZRZY)
    data = case.data
    assert data["stage"] == "aftercare"

    # 后期管护: an inspection every six months from the day aftercare started, each followed by
    # nync's supervision of the planting; the sixth, at three years, closes the aftercare
    started = datetime.fromisoformat(data["aftercare_started_on"]).replace(tzinfo=UTC)
    assert (data["aftercare_months"], data["inspection_interval_months"]) == (36, 6)
    for n in range(1, 7):
        when = months_after(started, 6 * n)
        case.advance_to(when - timedelta(minutes=1))
        assert case.open_names() == [], n
        case.advance_to(when + timedelta(minutes=1))
        assert case.open_names() == ["aftercare_inspection"], n
        case.complete("aftercare_inspection", inspection(when.date().isoformat()), by=IMPLEMENTER)
        case.complete("supervise_planting", {"supervision_result": "种植管护正常"}, by=COUNTY_NYNC)
    assert when - started >= timedelta(days=3 * 365)  # not less than three years
    assert case.open_names() == ["confirm_aftercare"]
    case.complete(
        "confirm_aftercare",
        {
            "aftercare_conclusion": "管护到位",
            "handover_to": "古方村股份经济合作社",
            "confirmation_date": when.date().isoformat(),
        },
        by=COUNTY_NYNC,
    )
    assert case.status == "completed"
    data = case.data
    assert data["stage"] == "closed"
    assert data["new_farmland_mu"] == 415.5
    assert data["high_standard_farmland_mu"] == 2980.0
    assert data["supplementary_farmland_mu"] == 400.0
    assert data["linkage_surplus_mu"] == 28.6
    assert data["approved_budget_yuan"] == 10_000_000 and data["design_change_count"] == 0
    assert data["inspection_round"] == 6
    assert len(case.tasks_named("aftercare_inspection")) == 6
    assert len(case.tasks_named("supervise_planting")) == 6
    assert {t["state"] for t in case.tasks_named("monthly_progress_return")} == {"done"}


# ---- 前期谋划: the project bank ---------------------------------------------------------------
def test_project_bank_entry_refused_ends_the_case(product_lf):
    case = start(product_lf)
    case.complete("propose_project", PROPOSAL, by=COUNTY_ZRZY)
    case.complete(
        "review_bank_entry",
        {"bank_decision": "不予入库", "bank_opinion": "项目区位于生态保护红线内"},
        by=CITY_ZRZY,
    )
    assert case.status == "completed"
    data = case.data
    assert data["stage"] == "refused" and data["bank_opinion"] == "项目区位于生态保护红线内"
    assert "draft_plan" not in [t["name"] for t in case.refresh()["tasks"]]


def test_project_bank_entry_returned_for_revision_then_accepted(product_lf):
    case = start(product_lf)
    case.complete("propose_project", PROPOSAL, by=COUNTY_ZRZY)
    case.complete(
        "review_bank_entry",
        {"bank_decision": "退回修改", "bank_opinion": "补充资金平衡方案"},
        by=CITY_ZRZY,
    )
    assert case.open_names() == ["propose_project"]
    case.complete(
        "propose_project",
        {**PROPOSAL, "revision_note": "已补充资金平衡方案", "funding_sources": "财政资金、专项债"},
        by=COUNTY_ZRZY,
    )
    case.complete("review_bank_entry", BANK_ACCEPT, by=CITY_ZRZY)
    assert case.open_names() == ["draft_plan"]
    assert case.data["bank_entry_no"] == "JH-ZZK-2026-017"
    assert case.data["stage"] == "plan_approval"


# ---- 方案审批 -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("vote", "reason"),
    [
        (
            consent(agree=(199, 36)),
            "同意人数未达村集体经济组织成员（代表）或村民（代表）总数的三分之二",
        ),
        (consent(demolition_consented_count=11), "尚有建筑物所有权人未同意拆除"),
        (consent(plan_posted_days=10), "方案公示不足15日"),
    ],
    ids=["below-two-thirds", "demolition-not-agreed", "posted-too-briefly"],
)
def test_failed_consent_sends_the_plan_back_for_revision(product_lf, vote, reason):
    case = start(product_lf)
    enter_bank(case)
    case.complete("draft_plan", plan(), by=COUNTY_ZRZY)
    case.complete("record_consent", vote, by=IMPLEMENTER)
    data = case.data
    assert data["consent_passed"] is False and data["consent_failure_reason"] == reason
    assert case.open_names() == ["draft_plan"]  # no department reviews a plan without consent

    case.complete("draft_plan", plan(revision_note="调整项目区范围后重新表决"), by=COUNTY_ZRZY)
    case.complete("record_consent", consent(), by=IMPLEMENTER)
    data = case.data
    assert data["plan_version"] == 2 and data["consent_passed"] is True
    assert sorted(t["properties"]["item"] for t in case.open_tasks("special_approval")) == [
        "fgw",
        "sthj",
    ]


def test_inconsistent_consent_counts_are_refused_by_the_consent_form(product_lf):
    case = start(product_lf)
    enter_bank(case)
    case.complete("draft_plan", plan(), by=COUNTY_ZRZY)
    for vote, field, message in (
        (
            consent(agree=(270, 36)),  # more in favour than were present
            "consent_villages",
            "表决数据有误：同意人数不得多于到会人数，到会人数不得多于成员（代表）总数",
        ),
        (
            consent(demolition_consented_count=13),  # more consents than owners
            "demolition_consented_count",
            "已书面同意拆除的所有权人不得多于需拆除建筑物所有权人",
        ),
    ):
        with pytest.raises(ValidationFailed) as refused:
            case.complete("record_consent", vote, by=IMPLEMENTER)
        assert (field, message) in {(e.field, e.message) for e in refused.value.errors}
        assert case.open_names() == ["record_consent"]
    assert "consent_passed" not in case.data and case.data["plan_version"] == 1


def test_exactly_two_thirds_of_all_members_is_enough(product_lf):
    case = start(product_lf)
    enter_bank(case)
    case.complete("draft_plan", plan(involves_demolition=False), by=COUNTY_ZRZY)
    vote = consent(agree=(200, 30), demolition_owner_count=0, demolition_consented_count=0)
    case.complete("record_consent", vote, by=IMPLEMENTER)
    assert case.data["consent_passed"] is True
    assert case.data["collective_consent_min_ratio"] == pytest.approx(2 / 3)
    assert len(case.open_tasks("special_approval")) == 2


def test_refused_environmental_approval_sends_the_plan_back(product_lf):
    case = start(product_lf)
    enter_bank(case)
    case.complete("draft_plan", plan(), by=COUNTY_ZRZY)
    case.complete("record_consent", consent(), by=IMPLEMENTER)
    case.complete_each("special_approval", special(sthj_refuses=True), by_level="county")
    data = case.data
    assert data["special_refused_count"] == 1
    # what each department submitted, keyed by its department type (collect=by_item)
    assert data["special_approvals"] == special(sthj_refuses=True)
    assert data["special_approval_docs"] == {"fgw": "婺发改投〔2026〕3号"}
    assert case.open_names() == ["draft_plan"]

    case.complete("draft_plan", plan(revision_note="避让饮用水源保护区"), by=COUNTY_ZRZY)
    case.complete("record_consent", consent(), by=IMPLEMENTER)
    case.complete_each("special_approval", special(), by_level="county")
    data = case.data
    assert data["special_refused_count"] == 0
    assert data["special_approvals"] == special()  # the second round replaces the first
    assert case.open_names() == ["assess_plan"]


def test_county_assessment_returns_the_plan_then_it_is_approved(product_lf):
    case = start(product_lf)
    enter_bank(case)
    case.complete("draft_plan", plan(), by=COUNTY_ZRZY)
    case.complete("record_consent", consent(), by=IMPLEMENTER)
    case.complete_each("special_approval", special(), by_level="county")
    case.complete("assess_plan", ASSESS_RETURN, by=COUNTY_ZRZY)
    assert case.open_names() == ["draft_plan"]
    assert case.data["assessment_opinion"] == "预算依据不足"
    approve(case)
    data = case.data
    assert data["plan_version"] == 2 and data["stage"] == "implementation"
    assert case.open_names() == ["prepare_tender"]


def test_county_government_rejects_the_plan(product_lf):
    case = start(product_lf)
    enter_bank(case)
    case.complete("draft_plan", plan(), by=COUNTY_ZRZY)
    case.complete("record_consent", consent(), by=IMPLEMENTER)
    case.complete_each("special_approval", special(), by_level="county")
    case.complete("assess_plan", ASSESS_PASS, by=COUNTY_ZRZY)
    case.complete("government_decision", GOV_REJECT, by=COUNTY_GOV)
    assert case.status == "completed"
    data = case.data
    assert data["stage"] == "rejected" and data["government_opinion"] == "与城镇开发边界冲突"
    assert "approved_budget_yuan" not in data


# ---- 项目实施 -----------------------------------------------------------------------------------
def test_failed_tender_is_put_out_again(product_lf):
    case = start(product_lf)
    enter_bank(case)
    approve(case)
    case.complete("prepare_tender", TENDER, by=IMPLEMENTER)
    case.message(TENDER_RESULT, {"result": "流标"})
    assert case.open_names() == ["prepare_tender"]
    assert case.data["tender_awarded"] is False and case.data["tender_round"] == 1
    case.complete(
        "prepare_tender", {**TENDER, "tender_announcement_date": "2026-02-20"}, by=IMPLEMENTER
    )
    case.message(TENDER_RESULT, AWARDED)
    data = case.data
    assert data["tender_round"] == 2 and data["contractor_name"] == "浙江某水利建设有限公司"
    assert case.open_names() == ["report_start"]


def test_design_changes_within_ten_percent_are_approved_by_the_county_agency(product_lf):
    case = start(product_lf)
    to_construction(case)
    case.complete("manage_construction", change(500_000), by=IMPLEMENTER)  # 5%
    assert case.open_names() == ["approve_change_agency"]
    case.complete("approve_change_agency", APPROVE_CHANGE, by=COUNTY_ZRZY)
    # a second change bringing the total to exactly 10 % stays with the agency
    case.complete("manage_construction", change(500_000), by=IMPLEMENTER)
    assert case.open_names() == ["approve_change_agency"]
    case.complete("approve_change_agency", APPROVE_CHANGE, by=COUNTY_ZRZY)
    case.complete("manage_construction", COMPLETION, by=IMPLEMENTER)
    # the construction sub-process's data shows on the case once it returns
    data = case.data
    assert data["current_budget_yuan"] == 11_000_000 and data["approved_budget_yuan"] == 10_000_000
    assert data["cumulative_budget_change_yuan"] == 1_000_000
    assert data["design_change_count"] == 2
    assert data["design_changes"] == [
        {
            "no": 1,
            "budget_change_yuan": 500_000,
            "ratio": 0.05,
            "approver": "zrzy",
            "decision": "批准",
        },
        {
            "no": 2,
            "budget_change_yuan": 500_000,
            "ratio": 0.1,
            "approver": "zrzy",
            "decision": "批准",
        },
    ]
    assert data["change_approval_route"] == "县级土地整治机构审批"
    assert case.open_names() == ["grade_farmland_quality"]


def test_design_changes_over_ten_percent_go_back_to_the_county_government(product_lf):
    case = start(product_lf)
    to_construction(case)
    case.complete("manage_construction", change(600_000), by=IMPLEMENTER)  # 6%: agency
    case.complete("approve_change_agency", APPROVE_CHANGE, by=COUNTY_ZRZY)
    # 6% + 5% = 11% of the approved budget: through the original approval (the government)
    case.complete("manage_construction", change(500_000), by=IMPLEMENTER)
    assert case.open_names() == ["approve_change_government"]
    case.complete("approve_change_government", APPROVE_CHANGE, by=COUNTY_GOV)
    # the re-approved budget (11.1 M) is the new base: a 2.7 % cut goes to the agency...
    case.complete("manage_construction", change(-300_000), by=IMPLEMENTER)
    assert case.open_names() == ["approve_change_agency"]
    case.complete("approve_change_agency", REFUSE_CHANGE, by=COUNTY_ZRZY)
    # ...and a single change over 10 % goes to the government; a refusal changes nothing
    case.complete("manage_construction", change(1_500_000), by=IMPLEMENTER)
    assert case.open_names() == ["approve_change_government"]
    case.complete("approve_change_government", REFUSE_CHANGE, by=COUNTY_GOV)
    case.complete("manage_construction", COMPLETION, by=IMPLEMENTER)
    data = case.data
    assert data["approved_budget_yuan"] == 11_100_000
    assert data["current_budget_yuan"] == 11_100_000
    assert data["cumulative_budget_change_yuan"] == 0
    assert data["design_change_count"] == 4
    assert [(c["ratio"], c["approver"], c["decision"]) for c in data["design_changes"]] == [
        (0.06, "zrzy", "批准"),
        (0.11, "zf", "批准"),
        (0.027, "zrzy", "不批准"),
        (0.1351, "zf", "不批准"),
    ]
    created = [
        h["details"]["task"] for h in case.refresh()["history"] if h["action"] == "task_created"
    ]
    assert [t for t in created if t.startswith("approve_")] == [
        "approve_change_agency",
        "approve_change_government",
        "approve_change_agency",
        "approve_change_government",
    ]


def test_monthly_returns_fire_every_month_until_completion_is_reported(product_lf):
    case = start(product_lf)
    to_construction(case)
    # the cycle's length is fixed when the timer starts: P1M from January = 31 days
    started = case.lf.clock.now()
    case.advance_to(started + timedelta(days=31, minutes=1))
    assert case.open_names() == ["manage_construction", "monthly_progress_return"]
    # a design change does not disturb the monthly cycle or the open return
    case.complete("manage_construction", change(300_000), by=IMPLEMENTER)
    case.complete("approve_change_agency", APPROVE_CHANGE, by=COUNTY_ZRZY)
    assert case.open_names() == ["manage_construction", "monthly_progress_return"]
    case.advance_to(started + timedelta(days=62, minutes=1))
    assert len(case.open_tasks("monthly_progress_return")) == 2
    for task, month in zip(
        case.open_tasks("monthly_progress_return"), ("2026-02", "2026-03"), strict=True
    ):
        case.complete(
            "monthly_progress_return", {**MONTHLY, "report_month": month}, by=IMPLEMENTER, task=task
        )
    case.advance_to(started + timedelta(days=93, minutes=1))
    assert len(case.open_tasks("monthly_progress_return")) == 1
    # reporting completion ends the monthly dispatch: the open return is withdrawn
    case.complete("manage_construction", COMPLETION, by=IMPLEMENTER)
    returns = case.tasks_named("monthly_progress_return")
    assert [t["state"] for t in returns] == ["done", "done", "cancelled"]
    case.advance(days=62)
    assert case.open_names() == ["grade_farmland_quality"]
    assert case.count("timer_fired") == 3


# ---- 竣工验收 -----------------------------------------------------------------------------------
def test_quality_below_the_designed_grade_is_refused_until_reworked(product_lf):
    case = start(product_lf)
    to_construction(case)
    case.complete("manage_construction", COMPLETION, by=IMPLEMENTER)
    case.complete("grade_farmland_quality", grading(6), by=COUNTY_ZRZY)  # 6 等 is below 5 等
    assert case.data["quality_grade_met"] is False
    assert case.open_names() == ["rework"]  # no acceptance below the designed grade
    case.complete(
        "rework",
        {"rework_description": "增施有机肥、完善田间排灌", "rework_completed_date": "2027-03-01"},
        by=IMPLEMENTER,
    )
    assert case.open_names() == ["grade_farmland_quality"]
    case.complete("grade_farmland_quality", grading(4), by=COUNTY_ZRZY)  # better than designed
    data = case.data
    assert data["quality_grade_met"] is True and data["quality_check_count"] == 2
    assert len(case.open_tasks("joint_acceptance")) == 3


def test_failed_joint_acceptance_sends_the_works_back(product_lf):
    case = start(product_lf)
    to_construction(case)
    case.complete(
        "manage_construction",
        {**COMPLETION, "extra_acceptance_dept_types": ["sthj"]},
        by=IMPLEMENTER,
    )
    depts = ("zrzy", "nync", "sl", "sthj")
    assert case.data["acceptance_dept_types"] == list(depts)
    case.complete("grade_farmland_quality", grading(5), by=COUNTY_ZRZY)
    case.complete_each("joint_acceptance", acceptance("sl", depts), by_level="county")
    data = case.data
    assert data["acceptance_failed_count"] == 1
    assert data["acceptance_results"] == acceptance("sl", depts)
    assert data["acceptance_results"]["sl"]["acceptance_remark"] == "排灌沟渠未达设计标准"
    assert case.open_names() == ["rework"]
    case.complete(
        "rework",
        {"rework_description": "排灌沟渠按设计返工", "rework_completed_date": "2027-03-15"},
        by=IMPLEMENTER,
    )
    case.complete("grade_farmland_quality", grading(5), by=COUNTY_ZRZY)
    case.complete_each("joint_acceptance", acceptance(depts=depts), by_level="county")
    data = case.data
    assert data["acceptance_failed_count"] == 0
    assert data["acceptance_results"] == acceptance(depts=depts)
    assert case.open_names() == ["certify_high_standard", "certify_new_farmland"]
    case.complete("certify_high_standard", HIGH_STANDARD, by=COUNTY_NYNC)
    case.complete("certify_new_farmland", NEW_FARMLAND, by=COUNTY_ZRZY)
    case.complete("record_indicators", INDICATORS, by=COUNTY_ZRZY)
    assert case.data["stage"] == "aftercare"


# ---- forms ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("task", "by", "data", "field"),
    [
        ("draft_plan", COUNTY_ZRZY, plan(designed_farmland_grade=11), "designed_farmland_grade"),
        ("draft_plan", COUNTY_ZRZY, plan(budget_yuan=0), "budget_yuan"),
        ("draft_plan", COUNTY_ZRZY, plan(area=1), "area"),
        ("record_consent", IMPLEMENTER, consent(consent_villages=[]), "consent_villages"),
    ],
)
def test_forms_refuse_invalid_figures(product_lf, task, by, data, field):
    case = start(product_lf)
    enter_bank(case)
    if task == "record_consent":
        case.complete("draft_plan", plan(), by=COUNTY_ZRZY)
    with pytest.raises(ValidationFailed) as refused:
        case.complete(task, data, by=by)
    assert field in [e.field for e in refused.value.errors]
    assert case.open_names() == [task]


def test_approval_and_change_forms_require_their_figures(product_lf):
    case = start(product_lf)
    enter_bank(case)
    case.complete("draft_plan", plan(), by=COUNTY_ZRZY)
    case.complete("record_consent", consent(), by=IMPLEMENTER)
    case.complete_each("special_approval", special(), by_level="county")
    case.complete("assess_plan", ASSESS_PASS, by=COUNTY_ZRZY)
    no_budget = {k: v for k, v in GOV_APPROVE.items() if k != "approved_budget_yuan"}
    with pytest.raises(ValidationFailed) as refused:
        case.complete("government_decision", no_budget, by=COUNTY_GOV)
    assert "approved_budget_yuan" in [e.field for e in refused.value.errors]
    case.complete("government_decision", GOV_APPROVE, by=COUNTY_GOV)
    build(case)
    with pytest.raises(ValidationFailed):
        case.complete("manage_construction", change(0), by=IMPLEMENTER)
    with pytest.raises(ValidationFailed) as refused:
        case.complete("manage_construction", {"construction_action": "申报完工"}, by=IMPLEMENTER)
    assert {"completion_date", "completed_investment_yuan"} <= {
        e.field for e in refused.value.errors
    }


# ---- static checks of the diagram and its forms ----------------------------------------------
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def properties(element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in element.iterfind("bpmn:extensionElements/spiffworkflow:properties/*", NS)
    }


def test_every_user_task_has_a_lane_a_form_and_the_statutory_limits():
    tree = etree.parse(str(ROOT / "processes" / f"{PROCESS}.bpmn"))
    for process in tree.iterfind("bpmn:process", NS):
        lanes = {}
        for lane in process.iterfind(".//bpmn:lane", NS):
            props = properties(lane)
            assert props.get("dept_type") and props.get("level"), lane.get("id")
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                lanes[ref.text] = props
        for task in process.iterfind(".//bpmn:userTask", NS):
            assert task.get("id") in lanes, task.get("id")
            props = properties(task)
            schema = json.loads((ROOT / "forms" / f"{props['formKey']}.json").read_text("utf-8"))
            Draft202012Validator.check_schema(schema)
            assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
            assert schema["additionalProperties"] is False and schema["title"]
            assert props["formKey"].startswith("consolidation_")
            if task.get("id") in ("assess_plan", "government_decision"):
                assert props["sla_statutory"] == "20d" and "土地整治条例" in props["sla_basis"]
    for path in (ROOT / "forms").glob("consolidation_*.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text("utf-8")))


def test_every_element_and_flow_is_drawn():
    tree = etree.parse(str(ROOT / "processes" / f"{PROCESS}.bpmn"))
    drawn = {s.get("bpmnElement") for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    drawn |= {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    skip = ("laneSet", "property", "inputDataItem", "outputDataItem", "documentation")
    for process in tree.iterfind("bpmn:process", NS):
        elements = {
            e.get("id")
            for e in process.iter()
            if e is not process
            and isinstance(e.tag, str)
            and e.get("id")
            and etree.QName(e).localname not in skip
            and not etree.QName(e).localname.endswith("EventDefinition")
        }
        assert elements - drawn == set(), process.get("id")
