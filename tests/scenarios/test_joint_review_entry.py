"""集体经营性建设用地入市联审 (processes/joint_review_entry.bpmn, DOMAIN.md §3) through the harness:
the main path and every alternative path, who receives each task (lane and routed department),
the figures recorded (area, price, adjustment fund, votes) and the end state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine.db.tables import Job, MessageWait
from engine.errors import ValidationFailed
from tests.scenarios.harness import Scenario
from tests.scenarios.test_collective_decision import (
    advance_until_open,
    check_diagram,
    organiser,
    run_decision,
    vote_counts,
    walk_to_vote,
)

PROCESS = "joint_review_entry"
VILLAGE = "330702101201"  # 古方村 (the parcel's village), 婺城区 330702
COUNTY = "330702"
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 2026-03-02 09:00 in Beijing

APPLICANT = "applicant@village"
ZRZY = "zrzy@county"
FGW = "fgw@county"
STHJ = "sthj@county"
LDXZ = "ldxz@county"
GGZY = "ggzy@county"
CZ = "cz@county"
SW = "sw@county"
BDC = "bdc@county"
TRADING_RESULT = "trading_result"

REVIEWERS = ["zrzy", "fgw", "sthj", "nync", "cz", "sw"]
NO_CHANGE = {"conclusion": "无修改意见"}


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "entry_subject": "古方村股份经济合作社",
        "entry_subject_type": "村集体经济组织",
        "parcel_code": "330702101201JC00012",
        "parcel_location": "白龙桥镇古方村工业功能区",
        "parcel_boundary": "东至村道，南至河，西至农田，北至厂房",
        "parcel_area_mu": 12.5,
        "land_ownership": "古方村股份经济合作社",
        "planned_use": "工业用地",
        "inside_development_boundary": True,
        "intended_use": "工业",
        "intended_trading_method": "挂牌",
    }
    data.update(overrides)
    return data


PRECHECK_OK = {
    "planning_designates_business_use": True,
    "ownership_registered": True,
    "planning_conditions_available": True,
    "converts_farmland": False,
    "is_homestead": False,
    "for_commercial_housing": False,
    "precheck_opinion": "符合入市条件",
}


def plan(**overrides: Any) -> dict[str, Any]:
    data = {
        "term_years": 50,
        "trading_method": "挂牌",
        "reserve_price_yuan": 3000000,
        "benchmark_price_yuan_per_mu": 220000,
        "valuation_report_no": "浙金估(2026)字第031号",
        "income_distribution_arrangement": "集体留存60%，成员分配40%",
        "plan_includes_planning_conditions": True,
        "plan_includes_industry_requirements": True,
        "plan_includes_eco_requirements": True,
        "deciding_body": "村民代表会议",
    }
    data.update(overrides)
    return data


def contract(**overrides: Any) -> dict[str, Any]:
    data = {
        "contract_no": "婺集入(2026)001",
        "contract_signed_on": "2026-06-01",
        "land_user_name": "金华某智能装备有限公司",
        "contract_price_yuan": 3600000,
        "contract_includes_planning_conditions": True,
        "contract_includes_industry_requirements": True,
        "contract_includes_eco_requirements": True,
        "land_delivery_on": "2026-06-15",
        "construction_start_deadline": "2026-09-30",
        "completion_deadline": "2026-12-20",
    }
    data.update(overrides)
    return data


def start(lf) -> Scenario:
    lf.clock.set(START)
    case = Scenario(lf, PROCESS, VILLAGE, business_key="婺城-入市-2026-001")
    return case


def apply_and_precheck(case: Scenario, **app: Any) -> None:
    case.complete("apply", application(**app), by=APPLICANT)
    case.complete("precheck", PRECHECK_OK, by=ZRZY)


def set_conditions(case: Scenario) -> None:
    assert case.open_names() == ["eco_requirements", "industry_requirements", "planning_conditions"]
    case.complete(
        "planning_conditions",
        {
            "planning_conditions_no": "婺规条(2026)012",
            "planning_conditions_issued_on": "2026-03-05",
            "planning_use": "工业用地",
            "plot_ratio_max": 2.0,
            "building_density_max_pct": 60,
            "building_height_max_m": 24,
            "green_ratio_min_pct": 10,
        },
        by=ZRZY,
    )
    case.complete(
        "industry_requirements",
        {"industry_requirements": "智能装备制造", "investment_intensity_yuan_per_mu": 3000000},
        by=FGW,
    )
    case.complete(
        "eco_requirements",
        {"eco_requirements": "废水纳管，噪声达标", "eia_category": "报告表"},
        by=STHJ,
    )
    assert case.open_names() == ["draft_plan"]


def to_plan(lf, **app: Any) -> Scenario:
    case = start(lf)
    apply_and_precheck(case, **app)
    set_conditions(case)
    return case


def entry_vote(case: Scenario, body: str = "村民代表会议", passed: bool = True) -> None:
    """The call activity collective_decision for the 入市方案 (≥ 2/3 of all representatives)."""
    counts = vote_counts(30, 26, 22 if passed else 18)
    run_decision(case, body, counts)


def review(case: Scenario, opinions: dict[str, dict[str, Any]]) -> None:
    """Complete the open joint-review tasks: one per department type of review_dept_types, each
    routed by its loop item (dept_types_from) to that county department."""
    tasks = case.open_tasks("joint_review")
    assert sorted(t["properties"]["item"] for t in tasks) == sorted(opinions)
    for task in tasks:
        assert task["properties"]["dept_types_from"] == "review_dept_types"
        assert task["properties"]["sla_statutory"] == "5wd"
    case.complete_each(
        "joint_review", {d: {"review_opinion": o} for d, o in opinions.items()}, by_level="county"
    )


def all_agree(departments: list[str] = REVIEWERS) -> dict[str, dict[str, Any]]:
    return {d: NO_CHANGE for d in departments}


def announce(case: Scenario) -> None:
    case.complete(
        "announce",
        {
            "announcement_no": "婺公资告(2026)018",
            "announced_on": "2026-04-10",
            "trading_platform": "金华市公共资源交易平台",
        },
        by=GGZY,
    )


def trade(case: Scenario, result: dict[str, Any]) -> None:
    """Announcement (≥ 20 days), listing (≥ 10 working days, 挂牌), then the platform's result."""
    announce(case)
    for _ in range(60):
        if TRADING_RESULT in _message_waits(case):
            break
        case.advance(days=1)
    case.message(TRADING_RESULT, result)


def _message_waits(case: Scenario) -> list[str]:
    """The messages the case waits for now."""
    with case.lf.uow.read() as session:
        return list(
            session.scalars(
                select(MessageWait.message_name).where(MessageWait.instance_id == case.id)
            )
        )


def contract_to_registration(case: Scenario) -> None:
    case.complete(
        "publish_trading_result",
        {"deal_confirmation_no": "婺成交(2026)018", "result_published_on": "2026-05-20"},
        by=GGZY,
    )
    assert case.open_names() == ["sign_contract", "sign_supervision"]
    case.complete("sign_contract", contract(), by=APPLICANT)
    case.complete(
        "sign_supervision",
        {
            "supervision_agreement_no": "婺监(2026)001",
            "supervision_agreement_signed_on": "2026-06-01",
            "signed_by_government": True,
            "signed_by_collective": True,
            "signed_by_land_user": True,
        },
        by=ZRZY,
    )
    case.complete(
        "file_contract",
        {"contract_filing_no": "婺备(2026)007", "contract_filed_on": "2026-06-03"},
        by=ZRZY,
    )
    case.complete(
        "record_payment",
        {
            "first_instalment_yuan": 1800000,
            "first_instalment_paid_on": "2026-06-20",
            "balance_yuan": 1800000,
            "balance_due_on": "2027-06-01",
            "payment_account": "古方村入市资金专户 3307021012010001",
        },
        by=APPLICANT,
    )
    case.complete(
        "assess_adjustment",
        {
            "adjustment_notice_no": "婺财调(2026)003",
            "adjustment_assessed_on": "2026-06-22",
            "adjustment_amount_confirmed": True,
        },
        by=CZ,
    )
    case.complete(
        "collect_adjustment",
        {
            "adjustment_collected_yuan": case.data["adjustment_fund_yuan"],
            "adjustment_receipt_no": "婺税缴(2026)0456",
            "adjustment_collected_on": "2026-06-25",
        },
        by=SW,
    )
    case.complete(
        "register",
        {"certificate_no": "浙(2026)婺城区不动产权第0012345号", "registered_on": "2026-07-10"},
        by=BDC,
    )


def income_plan(body: str = "成员大会") -> dict[str, Any]:
    return {
        "income_total_yuan": 2880000,
        "collective_retained_yuan": 1728000,
        "member_distribution_yuan": 1152000,
        "dedicated_account": "古方村入市资金专户 3307021012010001",
        "income_plan_summary": "集体留存60%用于发展，40%按股分配",
        "deciding_body": body,
    }


def income_distribution(case: Scenario, body: str = "成员大会") -> None:
    case.complete("draft_income_plan", income_plan(body), by=APPLICANT)
    run_decision(case, body, vote_counts(90, 70, 65))
    case.complete(
        "publish_income",
        {"income_publicity_published_on": "2026-08-01", "dedicated_account_deposit_yuan": 1728000},
        by=APPLICANT,
    )


def beijing(year: int, month: int, day: int) -> datetime:
    """The end (23:59:59 +08:00) of a Beijing day, as aware UTC: when a period ending that day
    runs out."""
    return datetime(year, month, day, 15, 59, 59, tzinfo=UTC)


def pending_timers(case: Scenario) -> dict[str, datetime]:
    """The case's pending timer jobs by timer name, with their due time."""
    with case.lf.uow.read() as session:
        jobs = session.scalars(
            select(Job).where(
                Job.instance_id == case.id, Job.kind == "timer", Job.status == "pending"
            )
        )
        return {j.payload.get("name"): j.due_at for j in jobs}


def advance_to(case: Scenario, moment: datetime) -> None:
    """Move the clock to `moment` (and run the timers due by then)."""
    delta = moment - case.lf.clock.now()
    assert delta.total_seconds() > 0, (moment, case.lf.clock.now())
    case.advance(seconds=delta.total_seconds())


def supervise(case: Scenario) -> None:
    """The contract's start / completion deadlines (end of the day, Beijing time) trigger the
    inspections by the county 自然资源 department."""
    assert case.open_names() == []
    assert case.status == "waiting"
    assert pending_timers(case) == {"约定开工期限届满": beijing(2026, 9, 30)}
    start_due = beijing(2026, 9, 30)  # the contract's construction_start_deadline
    advance_to(case, start_due - timedelta(hours=1))
    assert case.open_names() == []
    advance_to(case, start_due + timedelta(hours=1))
    assert case.open_names() == ["inspect_start"]
    case.complete(
        "inspect_start",
        {
            "construction_started": True,
            "construction_started_on": "2026-09-15",
            "idle_land_found": False,
        },
        by=ZRZY,
    )
    assert pending_timers(case) == {"约定竣工期限届满": beijing(2026, 12, 20)}
    completion_due = beijing(2026, 12, 20)
    advance_to(case, completion_due - timedelta(hours=1))
    assert case.open_names() == []
    advance_to(case, completion_due + timedelta(hours=1))
    assert case.open_names() == ["inspect_completion"]
    case.complete(
        "inspect_completion",
        {"construction_completed": True, "construction_completed_on": "2026-12-18"},
        by=ZRZY,
    )


# ------------------------------------------------------------------------------ main path
def test_main_path_industrial_parcel_inside_the_development_boundary(product_lf):
    case = start(product_lf)
    assert case.open_names() == ["apply"]
    case.complete("apply", application(), by=APPLICANT)
    case.complete("precheck", PRECHECK_OK, by=ZRZY)
    assert case.data["precheck_reasons"] == [] and case.data["precheck_passed"] is True
    set_conditions(case)
    data = case.data
    assert (data["max_term_years"], data["term_use_category"]) == (50, "工业用地")
    assert data["review_dept_types"] == REVIEWERS  # no zj: not rental housing

    case.complete("draft_plan", plan(), by=APPLICANT)
    assert case.data["matter"] == "入市方案" and case.data["plan_round"] == 1
    # the call activity collective_decision: its tasks run in the case, in the village lanes
    assert case.open_names() == ["propose"]
    assert case.task("propose")["process_id"] == "collective_decision"
    entry_vote(case)
    data = case.data
    assert data["entry_plan_decision_passed"] is True
    assert data["entry_plan_vote"]["for_count"] == 22
    assert data["entry_plan_vote"]["matter"] == "入市方案"

    # joint review by the county departments, 5 working days
    assert sorted(t["properties"]["item"] for t in case.open_tasks("joint_review")) == sorted(
        REVIEWERS
    )
    review(case, all_agree())
    data = case.data
    assert data["review_modification_count"] == 0 and data["review_round"] == 1
    # one opinion per department, keyed by its department type (collect=by_item)
    assert data["review_opinions"] == {d: NO_CHANGE for d in REVIEWERS}
    assert case.open_names() == ["announce"]

    # trading: announcement ≥ 20 days, listing ≥ 10 working days, then the platform's message
    announce(case)  # Tue 2026-03-24
    assert case.data["announcement_ends_at"] == "2026-04-13T23:59:59+08:00"  # days(20)
    assert pending_timers(case) == {"公告期满（20日）": beijing(2026, 4, 13)}
    advance_to(case, beijing(2026, 4, 13) - timedelta(hours=1))
    assert pending_timers(case) == {"公告期满（20日）": beijing(2026, 4, 13)}
    advance_to(case, datetime(2026, 4, 14, 1, 0, tzinfo=UTC))  # Tue 04-14 09:00
    # 挂牌 ≥ 10 working days from 04-14: 15–17, 20–24, 27, 28
    assert pending_timers(case) == {"挂牌期满（10个工作日）": beijing(2026, 4, 28)}
    assert _message_waits(case) == []
    advance_to(case, datetime(2026, 4, 29, 1, 0, tzinfo=UTC))
    assert _message_waits(case) == [TRADING_RESULT]
    case.message(
        TRADING_RESULT,
        {"result": "成交", "price_yuan": 3600000, "land_user": "金华某智能装备有限公司"},
    )
    data = case.data
    assert data["trading_outcome"] == "成交" and data["deal_price_yuan"] == 3600000
    assert data["unsold_count"] == 0 and data["trading_round"] == 1

    contract_to_registration(case)
    data = case.data
    assert data["adjustment_rate"] == 0.2
    assert data["adjustment_fund_yuan"] == 720000
    assert data["adjustment_collected_yuan"] == 720000

    assert case.open_names() == ["draft_income_plan"]
    income_distribution(case)
    data = case.data
    assert data["matter"] == "收益分配方案"
    assert data["income_plan_decision_passed"] is True
    assert data["income_plan_vote"]["deciding_body"] == "成员大会"
    assert data["entry_plan_vote"]["deciding_body"] == "村民代表会议"  # kept apart

    # inside the 城镇开发边界: 建设用地规划许可证 then 建设工程规划许可证
    assert case.open_names() == ["permit_land_use"]
    case.complete(
        "permit_land_use",
        {
            "land_use_permit_no": "地字第330702202600018号",
            "land_use_permit_issued_on": "2026-08-05",
        },
        by=ZRZY,
    )
    case.complete(
        "permit_construction",
        {
            "construction_permit_no": "建字第330702202600031号",
            "construction_permit_issued_on": "2026-08-20",
        },
        by=ZRZY,
    )
    supervise(case)

    assert case.status == "completed"
    data = case.data
    assert data["entry_outcome"] == "入市完成"
    assert data["parcel_area_mu"] == 12.5
    assert data["deal_price_yuan"] == 3600000
    assert data["adjustment_fund_yuan"] == 720000
    assert data["construction_completed"] is True
    assert "rural_permit_no" not in data
    assert data["plan_round"] == 1 and data["review_round"] == 1
    # the construction-start timer fired at the end of the contract's start deadline
    fired = [h for h in case.refresh()["history"] if h["action"] == "timer_fired"]
    assert any(h["details"]["due_at"].startswith("2026-09-30T15:59:59") for h in fired)


# --------------------------------------------------------------------- alternative paths
def test_refused_at_the_precondition_check_with_every_reason(product_lf):
    case = start(product_lf)
    case.complete("apply", application(), by=APPLICANT)
    case.complete(
        "precheck",
        {**PRECHECK_OK, "ownership_registered": False, "is_homestead": True},
        by=ZRZY,
    )
    data = case.data
    assert data["precheck_passed"] is False
    assert data["precheck_reasons"] == [
        "集体土地所有权或使用权未依法登记（实施条例第三十八条）",
        "负面清单：宅基地不得入市",
    ]
    assert case.open_names() == ["refusal"]
    case.complete(
        "refusal",
        {"refusal_notice_no": "婺自然资源不予(2026)003", "refusal_issued_on": "2026-03-04"},
        by=ZRZY,
    )
    assert case.status == "completed"
    assert case.data["entry_outcome"] == "不予入市"


def test_refused_without_planning_conditions_or_for_commercial_housing(product_lf):
    case = start(product_lf)
    case.complete("apply", application(), by=APPLICANT)
    case.complete(
        "precheck",
        {
            **PRECHECK_OK,
            "planning_designates_business_use": False,
            "planning_conditions_available": False,
            "converts_farmland": True,
            "for_commercial_housing": True,
        },
        by=ZRZY,
    )
    assert len(case.data["precheck_reasons"]) == 4
    assert case.open_names() == ["refusal"]


def test_a_term_beyond_the_maximum_for_the_use_is_refused_by_the_plan_form(product_lf):
    case = to_plan(product_lf, intended_use="商业", planned_use="商业用地")
    assert (case.data["max_term_years"], case.data["term_use_category"]) == (
        40,
        "商业、旅游、娱乐用地",
    )
    with pytest.raises(ValidationFailed) as refused:
        case.complete("draft_plan", plan(term_years=50), by=APPLICANT)
    assert any(
        e.field == "term_years" and "出让年限50年超过商业、旅游、娱乐用地最高年限40年" in e.message
        for e in refused.value.errors
    )
    assert case.open_names() == ["draft_plan"]
    assert case.data.get("plan_round", 0) == 0  # nothing was put to the vote
    with pytest.raises(ValidationFailed):  # the form itself caps the term at 70 years
        case.complete("draft_plan", plan(term_years=71), by=APPLICANT)
    case.complete("draft_plan", plan(term_years=40), by=APPLICANT)
    assert case.open_names() == ["propose"]


def test_failed_vote_then_revised_plan_passes(product_lf):
    case = to_plan(product_lf)
    case.complete("draft_plan", plan(), by=APPLICANT)
    entry_vote(case, passed=False)  # 18 of 30: below 2/3 of all representatives
    assert case.open_names() == ["handle_failed_decision"]
    assert case.data["entry_plan_decision_passed"] is False
    assert case.data["plan_check_message"].startswith(
        "入市方案集体决策未通过：赞成票未达到法定比例"
    )
    case.complete("handle_failed_decision", {"next_step": "修改方案"}, by=APPLICANT)
    assert case.open_names() == ["draft_plan"]
    case.complete(
        "draft_plan", plan(reserve_price_yuan=3200000, deciding_body="村民会议"), by=APPLICANT
    )
    run_decision(case, "村民会议", vote_counts(120, 100, 85))  # 85 ≥ 2/3 × 120
    assert case.data["entry_plan_decision_passed"] is True
    assert case.data["plan_round"] == 2
    assert case.open_names() == ["joint_review"] * 6


def test_failed_vote_then_withdrawal(product_lf):
    case = to_plan(product_lf)
    case.complete("draft_plan", plan(deciding_body="成员大会"), by=APPLICANT)
    name = walk_to_vote(case, "成员大会")
    case.complete(name, vote_counts(90, 50, 50), by=organiser("成员大会"))  # 50 < 2/3 × 90 present
    assert case.open_names() == ["handle_failed_decision"]
    assert "到会人数未达到法定要求" in case.data["plan_check_message"]
    case.complete(
        "handle_failed_decision",
        {"next_step": "撤回入市", "next_step_reason": "成员意见分歧"},
        by=APPLICANT,
    )
    assert case.status == "completed"
    assert case.data["entry_outcome"] == "撤回入市"


def test_modification_opinion_sends_the_plan_back_and_it_is_resubmitted(product_lf):
    case = to_plan(product_lf)
    case.complete("draft_plan", plan(), by=APPLICANT)
    entry_vote(case)
    opinions = all_agree()
    opinions["sthj"] = {"conclusion": "有修改意见", "comments": "补充废水预处理设施要求"}
    review(case, opinions)
    assert case.open_names() == ["draft_plan"]
    data = case.data
    assert data["review_modification_count"] == 1
    assert data["plan_check_message"] == "联审修改意见：补充废水预处理设施要求"
    assert data["review_opinions"]["sthj"] == opinions["sthj"]
    assert data["review_opinions"]["zrzy"] == NO_CHANGE
    case.complete("draft_plan", plan(income_distribution_arrangement="集体留存70%"), by=APPLICANT)
    entry_vote(case)  # the revised plan is decided again before resubmission
    assert case.data["review_round"] == 2
    review(case, all_agree())
    assert case.open_names() == ["announce"]
    data = case.data
    assert data["plan_round"] == 2 and data["review_modification_count"] == 0
    # the second round's opinions replace the first's
    assert data["review_opinions"] == {d: NO_CHANGE for d in REVIEWERS}


def test_objection_during_the_called_decision_reaches_the_township(product_lf):
    """decision_objection reaches the 入市 case while its call activity is in publicity."""
    case = to_plan(product_lf)
    case.complete("draft_plan", plan(), by=APPLICANT)
    name = walk_to_vote(case, "村民代表会议")
    case.complete(name, vote_counts(30, 26, 22), by="cwh@village")
    case.complete(
        "publish_decision",
        {"decision_published_on": "2026-03-18", "publicity_location": "村务公开栏"},
        by="cwh@village",
    )
    assert _message_waits(case) == ["decision_objection"]
    case.message("decision_objection", "底价低于评估价")
    assert case.task("review_objection")["process_id"] == "collective_decision"
    case.complete(
        "review_objection",
        {"objection_review_result": "异议不成立", "objection_review_opinion": "底价依评估报告确定"},
        by="xz@township",
    )
    advance_until_open(case, "publish_result")
    case.complete("publish_result", {"result_published_on": "2026-03-25"}, by="cwh@village")
    assert case.open_names() == ["joint_review"] * 6
    data = case.data
    assert data["entry_plan_decision_passed"] is True
    assert data["entry_plan_objection_count"] == 1
    assert data["objections"] == ["底价低于评估价"]


def test_silent_department_is_escalated_to_the_leadership_office(product_lf):
    case = to_plan(product_lf)
    case.complete("draft_plan", plan(), by=APPLICANT)
    entry_vote(case)
    assert case.data["review_submitted_at"] == "2026-03-24T01:00:00+00:00"  # Tue 09:00
    replies = all_agree(["zrzy", "fgw", "sthj", "nync", "cz"])
    for task in case.open_tasks("joint_review"):
        item = task["properties"]["item"]
        if item in replies:
            case.complete("joint_review", {"review_opinion": NO_CHANGE}, f"{item}@county", task)
    assert [t["properties"]["item"] for t in case.open_tasks("joint_review")] == ["sw"]
    # the limit is the end of the 5th working day after submission: Tue 03-31
    assert pending_timers(case) == {"5个工作日未答复": beijing(2026, 3, 31)}
    advance_to(case, beijing(2026, 3, 31) - timedelta(hours=1))
    assert case.open_names() == ["joint_review"]
    advance_to(case, datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    fired = [h for h in case.refresh()["history"] if h["action"] == "timer_fired"]
    assert fired[-1]["details"]["timer"] == "5个工作日未答复"
    assert sorted(case.open_names()) == ["escalate_review", "joint_review"]
    case.complete(
        "escalate_review",
        {
            "supervision_level": "橙色",
            "supervision_note": "督促税务局答复",
            "supervision_issued_on": "2026-04-01",
        },
        by=LDXZ,
    )
    assert case.open_names() == ["joint_review"]  # the silent department must still reply
    review(case, {"sw": NO_CHANGE})
    assert case.open_names() == ["announce"]
    # the escalation branch ends on its own; its record is in the case history
    supervised = [
        h["details"]["data"]
        for h in case.refresh()["history"]
        if h["action"] == "task_completed" and h["details"].get("task") == "escalate_review"
    ]
    assert supervised[0]["supervision_level"] == "橙色"


def test_unsold_then_revised_price_and_sold(product_lf):
    case = to_plan(product_lf)
    case.complete("draft_plan", plan(), by=APPLICANT)
    entry_vote(case)
    review(case, all_agree())
    trade(case, {"result": "流拍"})
    data = case.data
    assert data["trading_outcome"] == "流拍" and data["unsold_count"] == 1
    assert case.open_names() == ["handle_unsold"]
    case.complete(
        "handle_unsold", {"next_step": "修改方案", "next_step_reason": "下调底价"}, by=APPLICANT
    )
    assert case.open_names() == ["draft_plan"]
    assert case.data["plan_check_message"].startswith("第1次交易流拍")
    case.complete("draft_plan", plan(reserve_price_yuan=2600000), by=APPLICANT)
    entry_vote(case)
    review(case, all_agree())
    trade(case, {"result": "成交", "price_yuan": 2700000})
    data = case.data
    assert data["trading_round"] == 2 and data["unsold_count"] == 1
    assert data["deal_price_yuan"] == 2700000 and data["reserve_price_yuan"] == 2600000
    assert case.open_names() == ["publish_trading_result"]


def test_unsold_then_withdrawn(product_lf):
    case = to_plan(product_lf)
    case.complete("draft_plan", plan(), by=APPLICANT)
    entry_vote(case)
    review(case, all_agree())
    trade(case, {"result": "流拍"})
    case.complete("handle_unsold", {"next_step": "撤回入市"}, by=APPLICANT)
    assert case.status == "completed"
    data = case.data
    assert data["entry_outcome"] == "撤回入市"
    assert data["unsold_count"] == 1 and data["deal_price_yuan"] == 0


def test_rental_housing_outside_the_boundary_auction_and_rural_permit(product_lf):
    """保障性租赁住房: zj joins the review, 70 years allowed; 拍卖 has no listing period; outside
    the 城镇开发边界 only the 乡村建设规划许可证 is issued. The income plan fails once."""
    case = to_plan(
        product_lf,
        intended_use="保障性租赁住房",
        planned_use="居住用地（保障性租赁住房）",
        inside_development_boundary=False,
        intended_trading_method="拍卖",
    )
    data = case.data
    assert data["max_term_years"] == 70
    assert data["review_dept_types"] == ["zrzy", "fgw", "sthj", "zj", "nync", "cz", "sw"]
    case.complete("draft_plan", plan(term_years=70, trading_method="拍卖"), by=APPLICANT)
    entry_vote(case)
    review(case, all_agree(["zrzy", "fgw", "sthj", "zj", "nync", "cz", "sw"]))
    announce(case)
    days_waited = 0
    while TRADING_RESULT not in _message_waits(case):
        case.advance(days=1)
        days_waited += 1
    assert 20 <= days_waited <= 23  # the 20-day announcement only, no listing period
    case.message(TRADING_RESULT, {"result": "成交", "price_yuan": 5000000})
    contract_to_registration(case)
    assert case.data["adjustment_fund_yuan"] == 1000000  # 20% for rental housing

    # the income plan fails the first time (成员大会 needs 2/3 of ALL members) and is redrafted
    case.complete("draft_income_plan", income_plan(), by=APPLICANT)
    run_decision(case, "成员大会", vote_counts(90, 80, 59))
    assert case.open_names() == ["draft_income_plan"]
    assert case.data["income_plan_decision_passed"] is False
    assert case.data["income_plan_check_message"].startswith("收益分配方案集体决策未通过")
    income_distribution(case)
    assert case.data["income_plan_round"] == 2

    assert case.open_names() == ["permit_rural"]
    case.complete(
        "permit_rural",
        {"rural_permit_no": "乡字第330702202600005号", "rural_permit_issued_on": "2026-08-10"},
        by=ZRZY,
    )
    supervise(case)
    assert case.status == "completed"
    data = case.data
    assert data["rural_permit_no"] == "乡字第330702202600005号"
    assert "land_use_permit_no" not in data and "construction_permit_no" not in data
    assert data["entry_outcome"] == "入市完成"


def test_commercial_use_pays_the_higher_adjustment_rate(product_lf):
    case = to_plan(product_lf, intended_use="商业", planned_use="商业用地")
    case.complete("draft_plan", plan(term_years=40, trading_method="招标"), by=APPLICANT)
    entry_vote(case)
    review(case, all_agree())
    trade(case, {"result": "成交", "price_yuan": 8000000})
    contract_to_registration(case)
    assert case.data["adjustment_rate"] == 0.4
    assert case.data["adjustment_fund_yuan"] == 3200000


def test_contract_must_carry_the_planning_industry_and_ecology_terms(product_lf):
    case = to_plan(product_lf)
    case.complete("draft_plan", plan(), by=APPLICANT)
    entry_vote(case)
    review(case, all_agree())
    trade(case, {"result": "成交", "price_yuan": 3600000})
    case.complete(
        "publish_trading_result",
        {"deal_confirmation_no": "婺成交(2026)018", "result_published_on": "2026-05-20"},
        by=GGZY,
    )
    for term in (
        "contract_includes_planning_conditions",
        "contract_includes_industry_requirements",
        "contract_includes_eco_requirements",
    ):
        with pytest.raises(ValidationFailed):
            case.complete("sign_contract", contract(**{term: False}), by=APPLICANT)
    task = case.task("sign_contract")
    assert task["properties"]["sla_statutory"] == "10wd"
    assert case.open_names() == ["sign_contract", "sign_supervision"]


def test_diagram_conventions_and_forms():
    check_diagram("joint_review_entry.bpmn", ("entry_",))
