"""The main-path answers of the every-action walks (test_every_action.py): the form data for the
tasks that processes/demo/<process_id>.json stops before, so each walk can run to its end."""

from __future__ import annotations

from typing import Any

VOTE = {
    "meeting_held_on": "2026-12-08",
    "sign_in_sheet": "att-2026-031-签到表.pdf",
    "minutes": "att-2026-032-会议记录.pdf",
    "against_count": 1,
    "abstain_count": 1,
}
DECISION_ANSWERS: dict[str, Any] = {
    "notice_jjzz": {
        "meeting_notice_published_on": "2026-11-20",
        "meeting_planned_on": "2026-12-08",
        "notice_locations": "村务公开栏、村微信群",
    },
    # 村民代表会议 on the 入市方案: ≥ 2/3 of all 30 representatives agree
    "record_vote_cwh": {**VOTE, "eligible_count": 30, "present_count": 26, "for_count": 24},
    # 成员大会 on the 收益分配方案: > 1/2 of those present agree
    "record_vote_jjzz": {**VOTE, "eligible_count": 90, "present_count": 70, "for_count": 65},
    "publish_decision": {"decision_published_on": "2026-12-09", "publicity_location": "村务公开栏"},
    "publish_result": {"result_published_on": "2026-12-20"},
}
ENTRY_ANSWERS: dict[str, Any] = {
    **DECISION_ANSWERS,
    "joint_review": {"review_opinion": {"conclusion": "无修改意见"}},
    "announce": {
        "announcement_no": "婺公资告(2026)018",
        "announced_on": "2026-12-21",
        "trading_platform": "金华市公共资源交易平台",
    },
    "publish_trading_result": {
        "deal_confirmation_no": "婺成交(2027)018",
        "result_published_on": "2027-01-25",
    },
    "sign_contract": {
        "contract_no": "婺集入(2027)001",
        "contract_signed_on": "2027-02-01",
        "land_user_name": "金华某智能装备有限公司",
        "contract_price_yuan": 3600000,
        "contract_includes_planning_conditions": True,
        "contract_includes_industry_requirements": True,
        "contract_includes_eco_requirements": True,
        "land_delivery_on": "2027-02-15",
        "construction_start_deadline": "2027-09-30",
        "completion_deadline": "2028-12-20",
    },
    "sign_supervision": {
        "supervision_agreement_no": "婺监(2027)001",
        "supervision_agreement_signed_on": "2027-02-01",
        "signed_by_government": True,
        "signed_by_collective": True,
        "signed_by_land_user": True,
    },
    "file_contract": {"contract_filing_no": "婺备(2027)007", "contract_filed_on": "2027-02-03"},
    "record_payment": {
        "first_instalment_yuan": 1800000,
        "first_instalment_paid_on": "2027-02-20",
        "balance_yuan": 1800000,
        "balance_due_on": "2028-02-01",
        "payment_account": "古方村入市资金专户 3307021012010001",
    },
    "assess_adjustment": {
        "adjustment_notice_no": "婺财调(2027)003",
        "adjustment_assessed_on": "2027-02-22",
        "adjustment_amount_confirmed": True,
    },
    "collect_adjustment": lambda data, task: {
        "adjustment_collected_yuan": data["adjustment_fund_yuan"],
        "adjustment_receipt_no": "婺税缴(2027)0456",
        "adjustment_collected_on": "2027-02-25",
    },
    "register": {
        "certificate_no": "浙(2027)婺城区不动产权第0012345号",
        "registered_on": "2027-03-10",
    },
    "draft_income_plan": {
        "income_total_yuan": 2880000,
        "collective_retained_yuan": 1728000,
        "member_distribution_yuan": 1152000,
        "dedicated_account": "古方村入市资金专户 3307021012010001",
        "income_plan_summary": "集体留存60%用于发展，40%按股分配",
        "deciding_body": "成员大会",
    },
    "publish_income": {
        "income_publicity_published_on": "2027-04-01",
        "dedicated_account_deposit_yuan": 1728000,
    },
    "permit_land_use": {
        "land_use_permit_no": "地字第330702202700018号",
        "land_use_permit_issued_on": "2027-04-05",
    },
    "permit_construction": {
        "construction_permit_no": "建字第330702202700031号",
        "construction_permit_issued_on": "2027-04-20",
    },
    "inspect_start": {
        "construction_started": True,
        "construction_started_on": "2027-09-15",
        "idle_land_found": False,
    },
    "inspect_completion": {
        "construction_completed": True,
        "construction_completed_on": "2028-12-18",
    },
}
TRADING_RESULT = {"result": "成交", "price_yuan": 3600000, "land_user": "金华某智能装备有限公司"}
HOMESTEAD_ANSWERS: dict[str, Any] = {
    "township_review": {"township_decision": "同意退出", "township_opinion": "程序合规，同意退出"},
    "survey_valuation": {
        "withdrawn_area_mu": 0.3,
        "house_replacement_value_yuan": 400000,
        "house_value_yuan": 300000,
        "zone_price_yuan_per_mu": 500000,
        "land_compensation_yuan": 150000,
        "attachments_value_yuan": 20000,
        "survey_agency": "金华市测绘院",
        "appraisal_agency": "金华某房地产估价有限公司",
        "appraisal_report_no": "金估(2026)第018号",
    },
    "township_sign_agreement": {
        "agreement_no": "婺城宅退(2026)001号",
        "township_signatory": "赵镇长",
        "township_signed_date": "2026-11-20",
        "handover_deadline": "2026-12-31",
    },
    "household_sign_agreement": {
        "voluntary_acknowledged": True,
        "agreement_signatory_names": ["张三", "李梅"],
        "household_signed_date": "2026-11-21",
        "payee_account_no": "6222020200012345678",
    },
    "pay_compensation": lambda data, task: {
        "paid_yuan": data["compensation_total_yuan"],
        "paid_date": "2026-11-25",
        "payment_voucher_no": "CZ-2026-0456",
    },
    "demolish_and_reclaim": {
        "demolished_date": "2026-12-10",
        "reclamation_completed_date": "2027-03-20",
        "reclaimed_land_use": "耕地",
        "reclamation_note": "房屋拆除，建筑垃圾清运，覆土平整后种植",
    },
    "accept_reclamation": {
        "acceptance_decision": "验收合格",
        "acceptance_opinion": "复垦耕地质量达到设计要求",
        "acceptance_date": "2027-04-15",
    },
    "cancel_registration": {
        "cancellation_no": "ZX2027-000321",
        "cancelled_date": "2027-04-20",
        "certificate_returned": True,
    },
    "record_indicators": {
        "reclaimed_area_mu": 0.3,
        "new_cultivated_land_mu": 0.28,
        "linkage_surplus_mu": 0.28,
        "construction_land_reward_mu": 0.05,
        "indicator_ledger_no": "GG-330702-2027-015",
    },
    "decide_land_reuse": {
        "member_homestead_demand": True,
        "reused_for_member_homestead": True,
        "member_households_served_count": 1,
        "reuse_area_mu": 0.28,
        "reuse_decision_note": "节余指标优先安排本村一户分户成员建房",
    },
}
INDICATORS = {
    "reform_tasks_completed_count": 2,
    "market_entry_parcel_count": 3,
    "market_entry_land_mu": 45.5,
    "market_entry_income_yuan": 18_000_000,
    "homestead_withdrawn_count": 20,
    "consolidation_project_count": 1,
    "new_farmland_mu": 300.0,
    "high_standard_farmland_mu": 1200.0,
    "reclaimed_village_land_mu": 40.0,
    "revitalised_inefficient_land_mu": 60.0,
    "investment_completed_yuan": 250_000_000,
    "settled_migrants_count": 500,
}
PILOT_ANSWERS: dict[str, Any] = {
    "quarterly_return": {
        "monitoring_period": "2027-Q1",
        **INDICATORS,
        "monitoring_problems": "无",
    },
    "annual_self_report": {
        "reform_tasks_total_count": 12,
        **INDICATORS,
        "self_assessment": "年度任务基本完成",
        "self_score": 88,
    },
    "annual_evaluation": {
        "evaluation_outcome": "继续",
        "evaluation_score": 86,
        "evaluation_opinion": "年度评估结论：继续",
    },
}
CONSOLIDATION_ANSWERS: dict[str, Any] = {
    "monthly_progress_return": {
        "report_month": "2026-12",
        "progress_percent": 20,
        "completed_investment_yuan": 1_800_000,
        "funds_paid_yuan": 1_500_000,
        "new_farmland_completed_mu": 60,
    },
    "aftercare_inspection": {
        "inspection_date": "2027-05-10",
        "farmland_in_use": True,
        "planted_area_mu": 410.0,
        "abandoned_area_mu": 0,
        "facilities_intact": True,
    },
    "supervise_planting": {"supervision_result": "种植管护正常"},
    "confirm_aftercare": {
        "aftercare_conclusion": "管护到位",
        "handover_to": "古方村股份经济合作社",
        "confirmation_date": "2029-11-05",
    },
}
# 年度抽查: a case started by hand for a project of 白龙桥镇 with the start form's fields (a draw
# adds the routing data, engine/services/spot_checks.py; without it the lanes route, to the
# same departments); the walk's main path is the one with every step: 不合格, 整改, 复核
SPOT_CHECK_REGION = "330702101"
SPOT_CHECK_START: dict[str, Any] = {
    "project_case_no": "整治2026-00001",
    "project_business_key": "WC-ZZ-2026-003",
    "project_name": "婺城区白龙桥镇全域土地综合整治项目",
    "project_accepted_on": "2026-11-02",
    "draw_year": 2026,
    "draw_level_name": "市级",
}
SPOT_CHECK_PASSED: dict[str, Any] = {
    "check_date": "2026-11-10",
    "check_method": "实地与资料核查",
    "checked_new_farmland_mu": 410.0,
    "spot_check_result": "合格",
    "spot_check_findings": "新增耕地面积、质量等级与验收结论一致",
}
SPOT_CHECK_ANSWERS: dict[str, Any] = {
    "spot_check": {
        **SPOT_CHECK_PASSED,
        "spot_check_result": "不合格",
        "spot_check_findings": "部分排灌沟渠损毁，新增耕地有抛荒",
        "rectification_requirements": "修复排灌沟渠，恢复耕种",
        "rectification_deadline": "2027-01-31",
    },
    "rectify": {
        "rectification_report": "已修复沟渠1.2公里并全部复耕",
        "rectification_completed_on": "2027-01-20",
        "rectification_investment_yuan": 180000,
    },
    "review_rectification": {"review_date": "2027-01-25", "review_result": "整改到位"},
}
# 督办单: a case started by hand with the start form's fields (the order service adds the
# routing data, engine/services/supervision_orders.py; without it the lanes route to 婺城区's
# 自然资源和规划局 and 领导小组办公室); the main path is replied to and closed
SUPERVISION_REGION = "330702"
SUPERVISION_START: dict[str, Any] = {
    "supervised_case_no": "入市2026-00001",
    "supervised_case_title": "古方村 12.5亩 工业用地入市",
    "supervised_task_title": "入市条件及负面清单审查",
    "order_grade_name": "橙色",
    "office_name": "婺城区领导小组办公室",
    "department_name": "婺城区自然资源和规划局",
    "order_text": "入市条件审查已超过承诺时限，请立即办理并报告",
    "reply_days": 3,
}
SUPERVISION_CLOSE: dict[str, Any] = {"review_decision": "办结", "review_opinion": "已落实"}
SUPERVISION_FURTHER: dict[str, Any] = {
    "review_decision": "补充反馈",
    "review_opinion": "请附审查意见书",
    "further_reply_days": 2,
}
SUPERVISION_ESCALATE: dict[str, Any] = {
    "review_decision": "升级督办",
    "review_opinion": "反馈与实际不符",
}
SUPERVISION_ANSWERS: dict[str, Any] = {
    "reply": {"reply_progress": "已办结", "reply_text": "已完成审查并出具意见"},
    "review": SUPERVISION_CLOSE,
}
