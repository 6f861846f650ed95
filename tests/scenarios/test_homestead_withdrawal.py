"""宅基地自愿有偿退出 (processes/homestead_withdrawal.bpmn, DOMAIN.md §7) through the harness:
the main path, every alternative path, who receives each task, the data and the end state."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from engine.errors import NotFound, ValidationFailed
from engine.services.actor import SYSTEM
from tests.scenarios.harness import Scenario

PROCESS = "homestead_withdrawal"
VILLAGE = "330702101201"  # 古方村, 白龙桥镇, 婺城区 (the household's village, 12 digits)
ROOT = Path(__file__).resolve().parents[2]

APPLICANT = "applicant@village"
GROUP = "cmxz@village"
COLLECTIVE = "jjzz@village"
TOWNSHIP = "xz@township"
FINANCE = "cz@county"
NATURAL_RESOURCES = "zrzy@county"
REGISTRY = "bdc@county"

WITHDRAWN = "homestead_application_withdrawn"
OBJECTION = "homestead_objection"

# valuation used by most scenarios: 300000 + 150000 + 20000 = 470000 元
VALUATION = {
    "withdrawn_area_mu": 0.3,
    "house_replacement_value_yuan": 400000,
    "house_value_yuan": 300000,
    "zone_price_yuan_per_mu": 500000,
    "land_compensation_yuan": 150000,
    "attachments_value_yuan": 20000,
    "survey_agency": "金华市测绘院",
    "appraisal_agency": "金华某房地产估价有限公司",
    "appraisal_report_no": "金估(2026)第018号",
}
BASE_YUAN = 470000


def application(**overrides: Any) -> dict[str, Any]:
    data = {
        "voluntary_acknowledged": True,
        "household_head_name": "张三",
        "household_member_count": 4,
        "signatory_names": ["张三", "李梅", "张小明"],
        "urban_residence_proof_type": "城镇房屋不动产权证书",
        "urban_residence_proof_no": "浙(2024)金华市不动产权第0123456号",
        "commitment_signed": True,
        "right_cert_no": "浙(2019)婺城区不动产权第0004567号",
        "homestead_area_mu": 0.3,
        "building_area_m2": 210.5,
        "withdrawal_scope": "全部退出",
        "compensation_option": "货币补偿",
        "contact_phone": "13800000000",
    }
    data.update(overrides)
    return data


GROUP_PASS = {
    "group_check_decision": "初审通过",
    "group_check_opinion": "身份、户籍、签名和材料齐全",
    "group_leader_name": "王五",
}
COLLECTIVE_PASS = {
    "right_registered": True,
    "one_household_one_homestead": True,
    "members_consent": True,
    "no_dispute": True,
    "collective_review_opinion": "符合退出条件，同意公示",
}
TOWNSHIP_AGREE = {"township_decision": "同意退出", "township_opinion": "程序合规，同意退出"}
DISMISSED = {"objection_decision": "异议不成立", "objection_review_opinion": "经核实，异议不成立"}
UPHELD = {
    "objection_decision": "异议成立",
    "objection_review_opinion": "经核实，该宅基地存在权属争议",
}
TOWNSHIP_SIGN = {
    "agreement_no": "婺城宅退(2026)001号",
    "township_signatory": "赵镇长",
    "township_signed_date": "2026-03-20",
    "handover_deadline": "2026-04-30",
}
HOUSEHOLD_SIGN = {
    "voluntary_acknowledged": True,
    "agreement_signatory_names": ["张三", "李梅"],
    "household_signed_date": "2026-03-21",
    "payee_account_no": "6222020200012345678",
}
RECLAIMED = {
    "demolished_date": "2026-05-10",
    "reclamation_completed_date": "2026-06-20",
    "reclaimed_land_use": "耕地",
    "reclamation_note": "房屋拆除，建筑垃圾清运，覆土平整后种植",
}
ACCEPTED = {
    "acceptance_decision": "验收合格",
    "acceptance_opinion": "复垦耕地质量达到设计要求",
    "acceptance_date": "2026-07-15",
}
CANCELLED = {
    "cancellation_no": "ZX2026-000321",
    "cancelled_date": "2026-07-20",
    "certificate_returned": True,
}
INDICATORS = {
    "reclaimed_area_mu": 0.3,
    "new_cultivated_land_mu": 0.28,
    "linkage_surplus_mu": 0.28,
    "construction_land_reward_mu": 0.05,
    "indicator_ledger_no": "GG-330702-2026-015",
}
REUSE = {
    "member_homestead_demand": True,
    "reused_for_member_homestead": True,
    "member_households_served_count": 1,
    "reuse_area_mu": 0.28,
    "reuse_decision_note": "节余指标优先安排本村一户分户成员建房",
}


# ---- walking the case ------------------------------------------------------------------------
def start(lf, business_key: str = "HW-2026-001") -> Scenario:
    lf.clock.set(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # Monday 2026-03-02 09:00 Beijing
    case = Scenario(lf, PROCESS, VILLAGE, business_key=business_key)
    assert case.open_names() == ["submit_application"]
    return case


def apply(case: Scenario, **overrides: Any) -> None:
    case.complete("submit_application", application(**overrides), by=APPLICANT)
    assert case.open_names() == ["group_check"]
    case.complete("group_check", GROUP_PASS, by=GROUP)
    assert case.open_names() == ["collective_review"]


def to_qualification_publicity(case: Scenario, **overrides: Any) -> None:
    apply(case, **overrides)
    case.complete("collective_review", COLLECTIVE_PASS, by=COLLECTIVE)
    assert case.open_names() == []
    assert case.status == "waiting"


def end_qualification_publicity(case: Scenario) -> None:
    assert case.advance(days=8) == 1
    assert case.open_names() == ["township_review"]


def to_township_review(case: Scenario, **overrides: Any) -> None:
    to_qualification_publicity(case, **overrides)
    end_qualification_publicity(case)


def to_compensation_publicity(
    case: Scenario, valuation: dict[str, Any] | None = None, **overrides: Any
) -> None:
    to_township_review(case, **overrides)
    case.complete("township_review", TOWNSHIP_AGREE, by=TOWNSHIP)
    assert case.open_names() == ["survey_valuation"]
    case.complete("survey_valuation", valuation or VALUATION, by=TOWNSHIP)
    assert case.open_names() == []
    assert case.status == "waiting"


def end_compensation_publicity(case: Scenario) -> None:
    assert case.advance(days=8) == 1
    assert case.open_names() == ["township_sign_agreement"]


def sign(case: Scenario) -> None:
    case.complete("township_sign_agreement", TOWNSHIP_SIGN, by=TOWNSHIP)
    assert case.open_names() == ["household_sign_agreement"]
    case.complete("household_sign_agreement", HOUSEHOLD_SIGN, by=APPLICANT)
    assert case.open_names() == ["pay_compensation"]


def finish(case: Scenario) -> None:
    """From payment to the end, on the accepted-at-first-try path."""
    total = case.data["compensation_total_yuan"]
    case.complete(
        "pay_compensation",
        {"paid_yuan": total, "paid_date": "2026-04-01", "payment_voucher_no": "CZ-2026-0456"},
        by=FINANCE,
    )
    case.complete("demolish_and_reclaim", RECLAIMED, by=TOWNSHIP)
    case.complete("accept_reclamation", ACCEPTED, by=NATURAL_RESOURCES)
    case.complete("cancel_registration", CANCELLED, by=REGISTRY)
    case.complete("record_indicators", INDICATORS, by=NATURAL_RESOURCES)
    case.complete("decide_land_reuse", REUSE, by=COLLECTIVE)
    assert case.status == "completed"
    assert case.data["withdrawal_status"] == "completed"


def compensation_after(case: Scenario, scope: str, option: str) -> dict[str, Any]:
    to_compensation_publicity(case, withdrawal_scope=scope, compensation_option=option)
    data = case.data
    return {
        k: data[k]
        for k in (
            "reward_rate",
            "option_bonus_rate",
            "payment_form",
            "valuation_total_yuan",
            "withdrawal_reward_yuan",
            "option_bonus_yuan",
            "compensation_total_yuan",
        )
    }


# ---- the main path ---------------------------------------------------------------------------
def test_main_path_whole_withdrawal_with_cash(product_lf):
    case = start(product_lf)
    assert WITHDRAWN in _waits(product_lf, case)

    to_qualification_publicity(case)
    data = case.data
    assert data["qualification_publicity_days"] == 5  # from homestead_publicity_days (DMN)
    assert data["compensation_publicity_days"] == 5
    # 5 calendar days from Mon 03-02 end on Sat 03-07, moved to the next working day
    assert data["qualification_publicity_until"] == "2026-03-09T23:59:59+08:00"
    assert data["qualification_objection_count"] == 0
    assert _waits(product_lf, case) == {OBJECTION, WITHDRAWN}
    assert case.advance(days=7) == 0  # Mon 03-09 09:00: publicity still running
    assert case.open_names() == []
    assert case.advance(days=1) == 1
    assert case.open_names() == ["township_review"]
    assert "timer_fired" in case.history_actions()

    case.complete("township_review", TOWNSHIP_AGREE, by=TOWNSHIP)
    case.complete("survey_valuation", VALUATION, by=TOWNSHIP)
    data = case.data
    assert data["reward_rate"] == 0.2 and data["option_bonus_rate"] == 0
    assert data["payment_form"] == "现金"
    assert data["valuation_total_yuan"] == BASE_YUAN
    assert data["withdrawal_reward_yuan"] == 94000
    assert data["option_bonus_yuan"] == 0
    assert data["compensation_total_yuan"] == 564000
    # the compensation publicity starts on Tue 03-10; 5 days end on Sun 03-15 -> Mon 03-16
    assert data["compensation_publicity_until"] == "2026-03-16T23:59:59+08:00"
    assert case.advance(days=5) == 0
    assert case.advance(days=2) == 1
    assert case.open_names() == ["township_sign_agreement"]

    sign(case)
    assert WITHDRAWN not in _waits(product_lf, case)  # no withdrawal once the agreement is signed
    with pytest.raises(NotFound):
        case.message(WITHDRAWN, {"reason": "想反悔"})

    case.complete(
        "pay_compensation",
        {"paid_yuan": 564000, "paid_date": "2026-04-01", "payment_voucher_no": "CZ-2026-0456"},
        by=FINANCE,
    )
    assert case.open_names() == ["demolish_and_reclaim"]
    case.complete("demolish_and_reclaim", RECLAIMED, by=TOWNSHIP)
    acceptance = case.task("accept_reclamation")
    assert acceptance["properties"]["sla_statutory"] == "60wd"
    assert "土地复垦条例第二十九条" in acceptance["properties"]["sla_basis"]
    case.complete("accept_reclamation", ACCEPTED, by=NATURAL_RESOURCES)
    assert case.task("cancel_registration")["properties"]["sla_statutory"] == "30wd"
    case.complete("cancel_registration", CANCELLED, by=REGISTRY)
    case.complete("record_indicators", INDICATORS, by=NATURAL_RESOURCES)
    assert case.open_names() == ["decide_land_reuse"]
    case.complete("decide_land_reuse", REUSE, by=COLLECTIVE)

    assert case.status == "completed"
    assert case.open_names() == []
    data = case.data
    assert data["withdrawal_status"] == "completed"
    assert data["voluntary_acknowledged"] is True
    assert data["homestead_area_mu"] == 0.3
    assert data["paid_yuan"] == 564000 and data["paid_date"] == "2026-04-01"
    assert data["reclaimed_area_mu"] == 0.3
    assert data["linkage_surplus_mu"] == 0.28
    assert data["construction_land_reward_mu"] == 0.05
    assert data["reused_for_member_homestead"] is True
    assert data["acceptance_decision"] == "验收合格"
    assert data["cancellation_no"] == "ZX2026-000321"
    assert "refusal_stage" not in data and "withdrawn_at" not in data
    assert case.history_actions()[-1] == "instance_completed"
    # each task went to the department of its lane above the household's village
    township, county = VILLAGE[:9], VILLAGE[:6]
    assert {t["name"]: t["department"] for t in case.refresh()["tasks"]} == {
        "submit_application": f"applicant.{VILLAGE}",
        "group_check": f"cmxz.{VILLAGE}",
        "collective_review": f"jjzz.{VILLAGE}",
        "township_review": f"xz.{township}",
        "survey_valuation": f"xz.{township}",
        "township_sign_agreement": f"xz.{township}",
        "household_sign_agreement": f"applicant.{VILLAGE}",
        "pay_compensation": f"cz.{county}",
        "demolish_and_reclaim": f"xz.{township}",
        "accept_reclamation": f"zrzy.{county}",
        "cancel_registration": f"bdc.{county}",
        "record_indicators": f"zrzy.{county}",
        "decide_land_reuse": f"jjzz.{VILLAGE}",
    }
    assert _completed_tasks(case) == [
        "submit_application",
        "group_check",
        "collective_review",
        "township_review",
        "survey_valuation",
        "township_sign_agreement",
        "household_sign_agreement",
        "pay_compensation",
        "demolish_and_reclaim",
        "accept_reclamation",
        "cancel_registration",
        "record_indicators",
        "decide_land_reuse",
    ]


# ---- the application and the village checks ------------------------------------------------
def test_voluntary_acknowledgement_is_required(product_lf):
    case = start(product_lf)
    without = application()
    del without["voluntary_acknowledged"]
    with pytest.raises(ValidationFailed) as missing:
        case.complete("submit_application", without, by=APPLICANT)
    assert "voluntary_acknowledged" in {e.field for e in missing.value.errors}
    with pytest.raises(ValidationFailed):
        case.complete("submit_application", application(voluntary_acknowledged=False), by=APPLICANT)
    with pytest.raises(ValidationFailed):  # the written commitment is required too
        case.complete("submit_application", application(commitment_signed=False), by=APPLICANT)
    with pytest.raises(ValidationFailed):  # the signatures of the head and members
        case.complete("submit_application", application(signatory_names=[]), by=APPLICANT)
    with pytest.raises(ValidationFailed):  # unknown fields are refused
        case.complete("submit_application", application(hukou_condition=True), by=APPLICANT)
    assert case.open_names() == ["submit_application"]

    schema = json.loads((ROOT / "forms" / "homestead_application.json").read_text("utf-8"))
    text = schema["properties"]["voluntary_acknowledged"]["description"]
    assert "不是进城落户的条件" in text and "第三十六条" in text and "强迫" in text
    assert "voluntary_acknowledged" in schema["required"]

    case.complete("submit_application", application(), by=APPLICANT)
    assert case.open_names() == ["group_check"]


def test_group_check_returns_the_application_for_supplement(product_lf):
    case = start(product_lf)
    case.complete("submit_application", application(signatory_names=["张三"]), by=APPLICANT)
    case.complete(
        "group_check",
        {
            "group_check_decision": "退回补正",
            "group_check_opinion": "缺少主要家庭成员签名",
            "group_leader_name": "王五",
        },
        by=GROUP,
    )
    assert case.open_names() == ["submit_application"]
    assert case.task("submit_application")["properties"]["formKey"] == "homestead_application"
    apply(case)
    assert case.data["signatory_names"] == ["张三", "李梅", "张小明"]


def test_refusal_at_collective_review_ends_with_reasons(product_lf):
    case = start(product_lf)
    apply(case)
    failing = {**COLLECTIVE_PASS, "one_household_one_homestead": False}
    with pytest.raises(ValidationFailed):  # a failing check needs the reasons
        case.complete("collective_review", failing, by=COLLECTIVE)
    case.complete(
        "collective_review",
        {**failing, "refusal_reason": "该户另有一处宅基地，不符合一户一宅"},
        by=COLLECTIVE,
    )
    assert case.status == "completed"
    data = case.data
    assert data["withdrawal_status"] == "refused"
    assert data["refusal_stage"] == "collective_review"
    assert data["refusal_reason"] == "该户另有一处宅基地，不符合一户一宅"
    assert "qualification_publicity_until" not in data


# ---- qualification publicity and objections -------------------------------------------------
def test_objection_upheld_refuses_the_withdrawal(product_lf):
    case = start(product_lf)
    to_qualification_publicity(case)
    case.advance(days=2)
    objection = {"objector": "张四", "reason": "该宅基地为兄弟共有，未经本人同意"}
    case.message(OBJECTION, objection)
    assert case.open_names() == ["review_qualification_objection"]
    assert case.data["objection"] == objection
    assert case.data["qualification_objection_count"] == 1
    case.complete("review_qualification_objection", UPHELD, by=COLLECTIVE)
    assert case.status == "completed"
    data = case.data
    assert data["withdrawal_status"] == "refused"
    assert data["refusal_stage"] == "qualification_objection"
    assert data["refusal_reason"] == UPHELD["objection_review_opinion"]
    assert _pending_jobs(product_lf, case) == 0  # the publicity timer is gone
    assert case.advance(days=10) == 0


def test_objection_dismissed_publicity_runs_to_its_end(product_lf):
    case = start(product_lf)
    to_qualification_publicity(case)
    case.advance(days=1)
    case.message(OBJECTION, {"objector": "匿名", "reason": "补偿过高"})
    case.complete("review_qualification_objection", DISMISSED, by=COLLECTIVE)
    assert case.open_names() == []  # back to the publicity, same deadline
    assert case.data["qualification_publicity_until"] == "2026-03-09T23:59:59+08:00"
    case.message(OBJECTION, {"objector": "李四", "reason": "面积有误"})
    case.complete("review_qualification_objection", DISMISSED, by=COLLECTIVE)
    assert case.data["qualification_objection_count"] == 2
    assert len(case.data["qualification_objections"]) == 2
    assert case.advance(days=6) == 0  # Mon 03-09 09:00: the last day of the publicity
    assert case.advance(days=1) == 1
    assert case.open_names() == ["township_review"]
    case.complete("township_review", TOWNSHIP_AGREE, by=TOWNSHIP)
    assert case.open_names() == ["survey_valuation"]


def test_publicity_period_is_configured_in_the_decision_table(product_lf):
    path = ROOT / "processes" / "homestead_withdrawal_publicity.dmn"
    text = path.read_text("utf-8")
    default = '<rule id="rule_publicity_default">'
    county_row = (
        '<rule id="rule_publicity_330702"><inputEntry id="r330702_in"><text>"330702"</text>'
        '</inputEntry><outputEntry id="r330702_q"><text>10</text></outputEntry>'
        '<outputEntry id="r330702_c"><text>7</text></outputEntry></rule>'
    )
    local = text.replace(default, county_row + default).replace(
        "<text>-</text>", '<text>? not in ["330702"]</text>'
    )
    assert local != text
    product_lf.definitions.deploy({path.name: local.encode()}, SYSTEM)

    case = start(product_lf)  # a village of 婺城区 (330702)
    to_qualification_publicity(case)
    assert case.data["qualification_publicity_days"] == 10
    assert case.data["compensation_publicity_days"] == 7
    assert case.data["qualification_publicity_until"] == "2026-03-12T23:59:59+08:00"

    other = Scenario(product_lf, PROCESS, "330782101201", business_key="HW-YW-001")  # 义乌市
    other.complete("submit_application", application(), by=APPLICANT)
    other.complete("group_check", GROUP_PASS, by=GROUP)
    other.complete("collective_review", COLLECTIVE_PASS, by=COLLECTIVE)
    assert other.data["qualification_publicity_days"] == 5


def test_objection_outside_publicity_is_not_accepted(product_lf):
    case = start(product_lf)
    with pytest.raises(NotFound):
        case.message(OBJECTION, {"reason": "too early"})


# ---- township review --------------------------------------------------------------------------
def test_township_returns_the_case_to_collective_review_and_publicity_repeats(product_lf):
    case = start(product_lf)
    to_township_review(case)
    task = case.task("township_review")
    assert task["properties"]["return_to"] == "collective_review"
    case.complete(
        "township_review",
        {"township_decision": "退回村级重新审核", "township_opinion": "家庭成员同意书缺页"},
        by=TOWNSHIP,
    )
    assert case.open_names() == ["collective_review"]
    case.complete("collective_review", COLLECTIVE_PASS, by=COLLECTIVE)
    assert case.open_names() == []
    # a new publicity from Tue 03-10: 5 days end Sun 03-15 -> Mon 03-16
    assert case.data["qualification_publicity_until"] == "2026-03-16T23:59:59+08:00"
    end_qualification_publicity(case)
    case.complete("township_review", TOWNSHIP_AGREE, by=TOWNSHIP)
    assert case.open_names() == ["survey_valuation"]


def test_township_refusal_ends_with_reasons(product_lf):
    case = start(product_lf)
    to_township_review(case)
    refusal = {"township_decision": "不同意退出", "township_opinion": "不符合条件"}
    with pytest.raises(ValidationFailed):
        case.complete("township_review", refusal, by=TOWNSHIP)
    case.complete(
        "township_review",
        {**refusal, "refusal_reason": "申请人未取得城镇稳定居所"},
        by=TOWNSHIP,
    )
    assert case.status == "completed"
    data = case.data
    assert data["withdrawal_status"] == "refused"
    assert data["refusal_stage"] == "township_review"
    assert data["refusal_reason"] == "申请人未取得城镇稳定居所"


# ---- compensation (DMN homestead_compensation_rates) ----------------------------------------
@pytest.mark.parametrize(
    ("option", "bonus_rate", "payment_form", "bonus_yuan", "total_yuan"),
    [
        ("货币补偿", 0, "现金", 0, 564000),
        ("房票安置", 0.10, "房票", 56400, 620400),
        ("进城公寓", 0.05, "购房款抵扣", 28200, 592200),
        ("宅基地换房", 0.08, "安置房置换", 45120, 609120),
    ],
)
def test_each_compensation_option_for_whole_withdrawal(
    product_lf, option, bonus_rate, payment_form, bonus_yuan, total_yuan
):
    case = start(product_lf)
    result = compensation_after(case, "全部退出", option)
    assert result == {
        "reward_rate": 0.2,
        "option_bonus_rate": bonus_rate,
        "payment_form": payment_form,
        "valuation_total_yuan": BASE_YUAN,
        "withdrawal_reward_yuan": 94000,
        "option_bonus_yuan": bonus_yuan,
        "compensation_total_yuan": total_yuan,
    }
    end_compensation_publicity(case)
    sign(case)
    finish(case)
    assert case.data["paid_yuan"] == total_yuan
    assert case.data["compensation_option"] == option


@pytest.mark.parametrize(
    ("option", "bonus_yuan", "total_yuan"),
    [
        ("货币补偿", 0, 517000),
        ("房票安置", 51700, 568700),
        ("进城公寓", 25850, 542850),
        ("宅基地换房", 41360, 558360),
    ],
)
def test_partial_withdrawal_earns_a_lower_reward(product_lf, option, bonus_yuan, total_yuan):
    case = start(product_lf)
    result = compensation_after(case, "部分退出", option)
    assert result["reward_rate"] == 0.1
    assert result["valuation_total_yuan"] == BASE_YUAN
    assert result["withdrawal_reward_yuan"] == 47000  # whole withdrawal: 94000
    assert result["option_bonus_yuan"] == bonus_yuan
    assert result["compensation_total_yuan"] == total_yuan
    assert case.data["withdrawal_scope"] == "部分退出"


def test_partial_withdrawal_completes_with_the_partial_amount(product_lf):
    case = start(product_lf)
    partial = {**VALUATION, "withdrawn_area_mu": 0.1, "land_compensation_yuan": 50000}
    to_compensation_publicity(case, valuation=partial, withdrawal_scope="部分退出")
    # (300000 + 50000 + 20000) = 370000; reward 10% = 37000; cash: no bonus
    assert case.data["compensation_total_yuan"] == 407000
    end_compensation_publicity(case)
    sign(case)
    finish(case)
    assert case.data["paid_yuan"] == 407000
    assert case.data["withdrawn_area_mu"] == 0.1


def test_compensation_objection_upheld_means_a_new_valuation_and_publicity(product_lf):
    case = start(product_lf)
    to_compensation_publicity(case)
    case.message(OBJECTION, {"objector": "张三", "reason": "附属设施漏评"})
    assert case.open_names() == ["review_compensation_objection"]
    task = case.task("review_compensation_objection")
    assert task["properties"]["return_to"] == "survey_valuation"
    case.complete("review_compensation_objection", UPHELD, by=TOWNSHIP)
    assert case.open_names() == ["survey_valuation"]
    case.complete("survey_valuation", {**VALUATION, "attachments_value_yuan": 30000}, by=TOWNSHIP)
    data = case.data
    assert data["valuation_total_yuan"] == 480000
    assert data["compensation_total_yuan"] == 576000  # 480000 + 20% reward
    assert data["compensation_objection_count"] == 0  # a new publicity round
    assert data["compensation_publicity_until"] == "2026-03-16T23:59:59+08:00"
    end_compensation_publicity(case)
    sign(case)
    finish(case)
    assert case.data["paid_yuan"] == 576000


def test_compensation_objection_dismissed_publicity_continues(product_lf):
    case = start(product_lf)
    to_compensation_publicity(case)
    until = case.data["compensation_publicity_until"]
    case.message(OBJECTION, {"objector": "村民甲", "reason": "补偿过高"})
    case.complete("review_compensation_objection", DISMISSED, by=TOWNSHIP)
    assert case.open_names() == []
    data = case.data
    assert data["compensation_publicity_until"] == until
    assert data["compensation_objection_count"] == 1
    assert data["compensation_total_yuan"] == 564000
    end_compensation_publicity(case)


# ---- reclamation -------------------------------------------------------------------------------
def test_reclamation_not_accepted_is_reworked_then_accepted(product_lf):
    case = start(product_lf)
    to_compensation_publicity(case)
    end_compensation_publicity(case)
    sign(case)
    case.complete(
        "pay_compensation",
        {"paid_yuan": 564000, "paid_date": "2026-04-01", "payment_voucher_no": "CZ-2026-0456"},
        by=FINANCE,
    )
    case.complete("demolish_and_reclaim", RECLAIMED, by=TOWNSHIP)
    rejected = {
        "acceptance_decision": "验收不合格",
        "acceptance_opinion": "耕作层厚度不足",
        "acceptance_date": "2026-07-01",
    }
    with pytest.raises(ValidationFailed):  # rework requirements are required
        case.complete("accept_reclamation", rejected, by=NATURAL_RESOURCES)
    case.complete(
        "accept_reclamation",
        {**rejected, "rework_requirements": "补充客土至 30 厘米"},
        by=NATURAL_RESOURCES,
    )
    assert case.open_names() == ["demolish_and_reclaim"]
    case.complete(
        "demolish_and_reclaim",
        {**RECLAIMED, "reclamation_note": "已补充客土至 30 厘米"},
        by=TOWNSHIP,
    )
    assert case.open_names() == ["accept_reclamation"]
    case.complete("accept_reclamation", ACCEPTED, by=NATURAL_RESOURCES)
    case.complete("cancel_registration", CANCELLED, by=REGISTRY)
    case.complete("record_indicators", INDICATORS, by=NATURAL_RESOURCES)
    case.complete("decide_land_reuse", REUSE, by=COLLECTIVE)
    assert case.status == "completed"
    data = case.data
    assert data["withdrawal_status"] == "completed"
    assert data["acceptance_decision"] == "验收合格"
    assert data["reclamation_note"] == "已补充客土至 30 厘米"
    assert _completed_tasks(case).count("accept_reclamation") == 2
    assert _completed_tasks(case).count("demolish_and_reclaim") == 2


def test_land_reuse_needs_a_reason_when_member_demand_is_not_served(product_lf):
    case = start(product_lf)
    to_compensation_publicity(case)
    end_compensation_publicity(case)
    sign(case)
    case.complete(
        "pay_compensation",
        {"paid_yuan": 564000, "paid_date": "2026-04-01", "payment_voucher_no": "CZ-1"},
        by=FINANCE,
    )
    case.complete("demolish_and_reclaim", RECLAIMED, by=TOWNSHIP)
    case.complete("accept_reclamation", ACCEPTED, by=NATURAL_RESOURCES)
    case.complete("cancel_registration", CANCELLED, by=REGISTRY)
    case.complete("record_indicators", INDICATORS, by=NATURAL_RESOURCES)
    not_served = {
        "member_homestead_demand": True,
        "reused_for_member_homestead": False,
        "reuse_decision_note": "指标用于村集体产业",
    }
    with pytest.raises(ValidationFailed):
        case.complete("decide_land_reuse", not_served, by=COLLECTIVE)
    case.complete(
        "decide_land_reuse",
        {**not_served, "not_reused_reason": "申请成员已另行安排宅基地"},
        by=COLLECTIVE,
    )
    assert case.status == "completed"
    assert case.data["reused_for_member_homestead"] is False


# ---- the household withdraws its application (before the agreement is signed) -------------
def _at_application(case: Scenario) -> None:
    pass


def _at_group_check(case: Scenario) -> None:
    case.complete("submit_application", application(), by=APPLICANT)


def _at_collective_review(case: Scenario) -> None:
    apply(case)


def _at_qualification_publicity(case: Scenario) -> None:
    to_qualification_publicity(case)


def _at_qualification_objection(case: Scenario) -> None:
    to_qualification_publicity(case)
    case.message(OBJECTION, {"reason": "异议"})


def _at_township_review(case: Scenario) -> None:
    to_township_review(case)


def _at_valuation(case: Scenario) -> None:
    to_township_review(case)
    case.complete("township_review", TOWNSHIP_AGREE, by=TOWNSHIP)


def _at_compensation_publicity(case: Scenario) -> None:
    to_compensation_publicity(case)


def _at_compensation_objection(case: Scenario) -> None:
    to_compensation_publicity(case)
    case.message(OBJECTION, {"reason": "异议"})


def _at_township_signing(case: Scenario) -> None:
    to_compensation_publicity(case)
    end_compensation_publicity(case)


def _at_household_signing(case: Scenario) -> None:
    _at_township_signing(case)
    case.complete("township_sign_agreement", TOWNSHIP_SIGN, by=TOWNSHIP)


STAGES: dict[str, tuple[Callable[[Scenario], None], list[str]]] = {
    "application": (_at_application, ["submit_application"]),
    "group_check": (_at_group_check, ["group_check"]),
    "collective_review": (_at_collective_review, ["collective_review"]),
    "qualification_publicity": (_at_qualification_publicity, []),
    "qualification_objection": (_at_qualification_objection, ["review_qualification_objection"]),
    "township_review": (_at_township_review, ["township_review"]),
    "valuation": (_at_valuation, ["survey_valuation"]),
    "compensation_publicity": (_at_compensation_publicity, []),
    "compensation_objection": (_at_compensation_objection, ["review_compensation_objection"]),
    "township_signing": (_at_township_signing, ["township_sign_agreement"]),
    "household_signing": (_at_household_signing, ["household_sign_agreement"]),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_household_withdraws_before_the_agreement_is_signed(product_lf, stage):
    case = start(product_lf)
    walk, open_before = STAGES[stage]
    walk(case)
    assert case.open_names() == open_before
    before = case.data
    notice = {"reason": "家中老人不愿离开，决定不再退出", "signatory_names": ["张三", "李梅"]}
    case.message(WITHDRAWN, notice)
    assert case.status == "completed"
    assert case.open_names() == []
    data = case.data
    assert data["withdrawal_status"] == "withdrawn"
    assert data["withdrawal_notice"] == notice
    assert data["withdrawn_at"].startswith("2026-")
    for key in ("household_head_name", "compensation_total_yuan", "township_decision"):
        if key in before:  # what was recorded before the withdrawal is kept
            assert data[key] == before[key]
    states = {t["name"]: t["state"] for t in case.refresh()["tasks"]}
    for name in open_before:
        assert states[name] == "cancelled"
    assert _pending_jobs(product_lf, case) == 0
    assert case.advance(days=30) == 0
    assert "paid_yuan" not in data


# ---- the definition itself ---------------------------------------------------------------------
BPMN_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiff": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
}
EXPECTED_LANES = {
    "submit_application": APPLICANT,
    "household_sign_agreement": APPLICANT,
    "group_check": GROUP,
    "collective_review": COLLECTIVE,
    "review_qualification_objection": COLLECTIVE,
    "decide_land_reuse": COLLECTIVE,
    "township_review": TOWNSHIP,
    "survey_valuation": TOWNSHIP,
    "review_compensation_objection": TOWNSHIP,
    "township_sign_agreement": TOWNSHIP,
    "demolish_and_reclaim": TOWNSHIP,
    "pay_compensation": FINANCE,
    "accept_reclamation": NATURAL_RESOURCES,
    "record_indicators": NATURAL_RESOURCES,
    "cancel_registration": REGISTRY,
}


def _properties(element) -> dict[str, str]:
    found = element.findall("./bpmn:extensionElements/spiff:properties/spiff:property", BPMN_NS)
    return {p.get("name"): p.get("value") for p in found}


def test_every_user_task_has_a_lane_a_valid_form_and_an_sla_basis():
    tree = etree.parse(str(ROOT / "processes" / "homestead_withdrawal.bpmn"))
    lanes = {}
    for lane in tree.iterfind(".//bpmn:lane", BPMN_NS):
        props = _properties(lane)
        for ref in lane.iterfind("bpmn:flowNodeRef", BPMN_NS):
            lanes[ref.text] = f"{props['dept_type']}@{props['level']}"
    tasks = tree.findall(".//bpmn:userTask", BPMN_NS)
    assert {t.get("id"): lanes[t.get("id")] for t in tasks} == EXPECTED_LANES
    used = set()
    for task in tasks:
        props = _properties(task)
        assert props.get("sla_basis"), task.get("id")
        path = ROOT / "forms" / f"{props['formKey']}.json"
        schema = json.loads(path.read_text("utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["additionalProperties"] is False
        used.add(path.name)
        if "return_to" in props:
            assert props["return_to"] in EXPECTED_LANES
    assert used == {p.name for p in (ROOT / "forms").glob("homestead_*.json")}
    # every flow node and flow has a diagram element
    ids = {
        e.get("id")
        for e in tree.getroot().iter()
        if isinstance(e.tag, str)
        and e.get("id")
        and e.tag.split("}")[1]
        in {
            "startEvent",
            "endEvent",
            "userTask",
            "scriptTask",
            "businessRuleTask",
            "exclusiveGateway",
            "eventBasedGateway",
            "intermediateCatchEvent",
            "boundaryEvent",
            "sequenceFlow",
            "lane",
        }
    }
    drawn = {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNShape", BPMN_NS)}
    drawn |= {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNEdge", BPMN_NS)}
    assert ids <= drawn


# ---- helpers -----------------------------------------------------------------------------------
def _waits(lf, case: Scenario) -> set[str]:
    from sqlalchemy import select

    from engine.db.tables import MessageWait

    with lf.uow.read() as session:
        return set(
            session.scalars(
                select(MessageWait.message_name).where(MessageWait.instance_id == case.id)
            )
        )


def _pending_jobs(lf, case: Scenario) -> int:
    from sqlalchemy import func, select

    from engine.db.tables import Job

    with lf.uow.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.instance_id == case.id, Job.status == "pending")
        )


def _completed_tasks(case: Scenario) -> list[str]:
    return [
        h["details"]["task"] for h in case.refresh()["history"] if h["action"] == "task_completed"
    ]
