"""Every action on every user task of every shipped process (generated; walker.py does the walk).

Each process is walked along its main path and along branch walks whose answers, messages and
held tasks take its alternative paths (objections, refusal, failed vote, 流拍, escalation, rural
permit, design changes, rework, rectification), on SQLite and PostgreSQL. The first time the walks
of a backend reach a task — inside the called processes and every instance of a multi-instance
task too — the routed department claims, unclaims, claims again and transfers to a colleague,
who suspends and resumes the time limit, asks for an extension the department head approves,
delegates and gets the task resolved; then, as on every later first visit within a walk, the
task is returned (退回, once per returnable task and walk) or completed. After every action the
case is not in error, has no open incident and its state round-trips. Each walk must reach the
tasks it is there for and finish with its documented end state.

The last test reads every userTask of processes/*.bpmn and requires that the walks of one backend
tried every action on each: a user task added to a diagram fails it until a walk reaches it."""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.scenarios.main_path_answers import (
    CONSOLIDATION_ANSWERS,
    DECISION_ANSWERS,
    ENTRY_ANSWERS,
    HOMESTEAD_ANSWERS,
    PILOT_ANSWERS,
    SPOT_CHECK_ANSWERS,
    SPOT_CHECK_PASSED,
    SPOT_CHECK_REGION,
    SPOT_CHECK_START,
    SUPERVISION_ANSWERS,
    SUPERVISION_ESCALATE,
    SUPERVISION_FURTHER,
    SUPERVISION_REGION,
    SUPERVISION_START,
    TRADING_RESULT,
)
from tests.scenarios.walk_script import Message, Script, demo_answer
from tests.scenarios.walker import Walker

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"

MAIN: dict[str, Callable[[], Script]] = {
    "collective_decision": lambda: Script.from_demo("collective_decision", DECISION_ANSWERS),
    "joint_review_entry": lambda: Script.from_demo(
        "joint_review_entry", ENTRY_ANSWERS, messages={"trading_result": TRADING_RESULT}
    ),
    "homestead_withdrawal": lambda: Script.from_demo("homestead_withdrawal", HOMESTEAD_ANSWERS),
    "pilot_plan_approval": lambda: Script.from_demo("pilot_plan_approval", PILOT_ANSWERS),
    # the works wait a month before completion is reported, so a monthly return falls due
    "consolidation_project": lambda: Script.from_demo(
        "consolidation_project",
        CONSOLIDATION_ANSWERS,
        holds={"manage_construction": timedelta(days=31, minutes=1)},
    ),
    # drawn cases are started by the spot-check service; no demo script, the walk starts one
    "consolidation_spot_check": lambda: Script(
        "consolidation_spot_check",
        SPOT_CHECK_REGION,
        SPOT_CHECK_START,
        dict(SPOT_CHECK_ANSWERS),
        [],
    ),
    # orders are issued by the ladder or an office (engine/services/supervision.py); the walk
    # starts one by hand
    "supervision_order": lambda: Script(
        "supervision_order",
        SUPERVISION_REGION,
        SUPERVISION_START,
        dict(SUPERVISION_ANSWERS),
        [],
    ),
}


@dataclass(frozen=True)
class Walk:
    process_id: str
    name: str
    overrides: Callable[[Script], Script] = lambda main: main  # the main script -> this walk's
    reaches: frozenset[str] = frozenset()  # the task names this walk is there for
    ends: dict[str, Any] = field(default_factory=dict)  # case data when it has finished

    def script(self) -> Script:
        return self.overrides(MAIN[self.process_id]())

    def __str__(self) -> str:
        return f"{self.process_id}-{self.name}"


# ---- branch answers ------------------------------------------------------------------------
DECISION_OBJECTION_DISMISSED = {
    "objection_review_result": "异议不成立",
    "objection_review_opinion": "底价依评估报告确定",
}
# 18 of 30 representatives: below 2/3 of all, the 入市方案 fails and goes back to the applicant
FAILED_ENTRY_VOTE = {**DECISION_ANSWERS["record_vote_cwh"], "for_count": 18}
HOMESTEAD_OBJECTION_DISMISSED = {
    "objection_decision": "异议不成立",
    "objection_review_opinion": "经核实，异议不成立",
}
RECTIFICATION = {
    "evaluation_outcome": "限期整改",
    "evaluation_score": 62,
    "evaluation_opinion": "入市改革进展滞后",
    "rectification_days": 90,
    "rectification_requirements": "三个月内完成两宗入市",
}
APPROVE_CHANGE = {"change_decision": "批准", "change_opinion": "同意变更"}


def design_change(amount: int) -> dict[str, Any]:
    return {
        "construction_action": "申请设计变更",
        "change_description": "增加灌溉泵站一座",
        "budget_change_yuan": amount,
    }


def graded(grade: int) -> dict[str, Any]:
    return {
        **demo_answer("consolidation_project", "grade_farmland_quality"),
        "achieved_farmland_grade": grade,
    }


# A walk returns (退回) each returnable task the first time it reaches it, and a return rewinds
# the case to the target step as it was then (docs/returns-and-incidents.md). So where the task a
# branch is for offers a return, its trigger comes twice: the first time the task is returned,
# the second time the branch's answer is submitted; `ends` sees only what was not rewound.
WALKS = [
    Walk("collective_decision", "main", ends={"decision_passed": True, "objection_count": 0}),
    Walk(
        "collective_decision",
        "objection",
        lambda main: main.branch(
            answers={"review_objection": DECISION_OBJECTION_DISMISSED},
            messages=[  # the first review is returned to 村党组织提议: the round starts again
                Message("decision_objection", "底价低于评估价"),
                Message("decision_objection", "方案未列明土地用途"),
            ],
        ),
        frozenset({"review_objection"}),
        {"decision_passed": True, "objection_count": 1},
    ),
    Walk(
        "joint_review_entry",
        "main",
        ends={"entry_outcome": "入市完成", "plan_round": 1, "unsold_count": 0},
    ),
    Walk(
        "joint_review_entry",
        "refusal",
        lambda main: replace(  # ends before any trading: no message to send
            main.branch(
                answers={
                    "precheck": {
                        **demo_answer("joint_review_entry", "precheck"),
                        "ownership_registered": False,
                    },
                    "refusal": {
                        "refusal_notice_no": "婺自然资源不予(2026)003",
                        "refusal_issued_on": "2026-11-04",
                    },
                }
            ),
            messages=[],
        ),
        frozenset({"refusal"}),
        {"entry_outcome": "不予入市", "precheck_passed": False},
    ),
    # outside the 城镇开发边界 (乡村建设规划许可证); the plan fails its vote (twice: the first
    # handle_failed_decision is returned), one department stays silent past 5 working days
    # (督办), the trading is 流拍 (twice: the first handle_unsold is returned), then 成交
    Walk(
        "joint_review_entry",
        "second_chances",
        lambda main: main.branch(
            answers={
                "apply": {
                    **demo_answer("joint_review_entry", "apply"),
                    "inside_development_boundary": False,
                },
                "record_vote_cwh": [
                    FAILED_ENTRY_VOTE,
                    FAILED_ENTRY_VOTE,
                    DECISION_ANSWERS["record_vote_cwh"],
                ],
                "handle_failed_decision": {"next_step": "修改方案"},
                "escalate_review": {
                    "supervision_level": "橙色",
                    "supervision_note": "督促逾期部门答复",
                    "supervision_issued_on": "2027-01-20",
                },
                "handle_unsold": {"next_step": "修改方案", "next_step_reason": "下调底价"},
                "permit_rural": {
                    "rural_permit_no": "乡字第330702202700005号",
                    "rural_permit_issued_on": "2027-04-10",
                },
            },
            messages=[
                Message("trading_result", {"result": "流拍"}),
                Message("trading_result", {"result": "流拍"}),
                Message("trading_result", TRADING_RESULT),
            ],
            holds={"joint_review": timedelta(days=10)},
        ),
        frozenset({"handle_failed_decision", "escalate_review", "handle_unsold", "permit_rural"}),
        {
            "entry_outcome": "入市完成",
            "plan_round": 3,
            "unsold_count": 1,
            "rural_permit_no": "乡字第330702202700005号",
        },
    ),
    Walk(
        "homestead_withdrawal",
        "main",
        ends={"withdrawal_status": "completed", "qualification_objection_count": 0},
    ),
    # objections in both publicities, each dismissed: one in the qualification publicity and,
    # as township_review is returned to collective_review and the publicity runs again, one more
    # there; in the compensation publicity the first review is returned to survey_valuation,
    # the second objection is dismissed
    Walk(
        "homestead_withdrawal",
        "objections",
        lambda main: main.branch(
            answers={
                "review_qualification_objection": HOMESTEAD_OBJECTION_DISMISSED,
                "review_compensation_objection": HOMESTEAD_OBJECTION_DISMISSED,
            },
            messages=[
                Message("homestead_objection", {"objector": "张四", "reason": "面积有误"}),
                Message(
                    "homestead_objection",
                    {"objector": "张四", "reason": "四至不清"},
                    after="township_review",
                ),
                Message(
                    "homestead_objection",
                    {"objector": "村民甲", "reason": "附属设施漏评"},
                    after="survey_valuation",
                ),
                Message(
                    "homestead_objection",
                    {"objector": "村民甲", "reason": "评估价偏低"},
                    after="survey_valuation",
                ),
            ],
        ),
        frozenset({"review_qualification_objection", "review_compensation_objection"}),
        {
            "withdrawal_status": "completed",
            "qualification_objection_count": 1,
            "compensation_objection_count": 1,
        },
    ),
    Walk("pilot_plan_approval", "main", ends={"pilot_status": "completed"}),
    # the first annual evaluation orders 限期整改; rectified in time, the pilot continues
    Walk(
        "pilot_plan_approval",
        "rectification",
        lambda main: main.branch(
            answers={
                "annual_evaluation": [RECTIFICATION, PILOT_ANSWERS["annual_evaluation"]],
                "rectify": {
                    "rectification_report": "已完成两宗集体经营性建设用地入市",
                    "rectified_items_count": 2,
                    "unrectified_items_count": 0,
                },
                "rectification_review": {"review_outcome": "继续", "review_opinion": "整改到位"},
            }
        ),
        frozenset({"rectify", "rectification_review"}),
        {"pilot_status": "completed", "rectification_overdue": False},
    ),
    Walk(
        "consolidation_project",
        "main",
        ends={"stage": "closed", "design_change_count": 0, "quality_check_count": 1},
    ),
    # a 6 % change (the county agency), then 5 % more: 11 % of the approved budget goes to the
    # county government; the first grading falls short of the designed grade: 返工
    Walk(
        "consolidation_project",
        "changes_and_rework",
        lambda main: main.branch(
            answers={
                "manage_construction": [
                    design_change(600_000),
                    design_change(500_000),
                    demo_answer("consolidation_project", "manage_construction"),
                ],
                "approve_change_agency": APPROVE_CHANGE,
                "approve_change_government": APPROVE_CHANGE,
                "grade_farmland_quality": [graded(6), graded(5)],
                "rework": {
                    "rework_description": "增施有机肥、完善田间排灌",
                    "rework_completed_date": "2027-03-01",
                },
            }
        ),
        frozenset({"approve_change_agency", "approve_change_government", "rework"}),
        {
            "stage": "closed",
            "design_change_count": 2,
            "approved_budget_yuan": 11_100_000,
            "quality_check_count": 2,
        },
    ),
    # 不合格: the county rectifies, the drawer reviews (the first review is returned to 整改落实)
    Walk(
        "consolidation_spot_check",
        "main",
        ends={"spot_check_outcome": "整改完成", "rectification_round": 1},
    ),
    Walk(
        "consolidation_spot_check",
        "passed",
        lambda main: main.branch(answers={"spot_check": SPOT_CHECK_PASSED}),
        frozenset({"spot_check"}),
        {"spot_check_outcome": "合格", "rectification_round": 0},
    ),
    # replied, then closed (the first review is returned to the reply: a further reply)
    Walk("supervision_order", "main", ends={"order_state": "closed", "reply_round": 1}),
    Walk(
        "supervision_order",
        "further_reply",
        lambda main: main.branch(
            answers={"review": [SUPERVISION_FURTHER, SUPERVISION_ANSWERS["review"]]}
        ),
        frozenset({"reply", "review"}),
        {"order_state": "closed", "reply_round": 2, "further_reply_days": 2},
    ),
    Walk(
        "supervision_order",
        "escalated",
        lambda main: main.branch(answers={"review": SUPERVISION_ESCALATE}),
        frozenset({"review"}),
        {"order_state": "escalated"},
    ),
]

# backend -> (process, task name) every action was tried on / the walks done, across this
# module's tests: a later walk only returns or completes what an earlier one tried everything on
TRIED: dict[str, set[tuple[str, str]]] = defaultdict(set)
WALKED: dict[str, set[str]] = defaultdict(set)


def user_tasks() -> set[tuple[str, str]]:
    """(process id, task id) of every userTask in every shipped diagram."""
    found = set()
    for path in sorted(PROCESSES.glob("*.bpmn")):
        for process in etree.parse(str(path)).getroot().iter(f"{{{BPMN}}}process"):
            found |= {(process.get("id"), t.get("id")) for t in process.iter(f"{{{BPMN}}}userTask")}
    return found


def backend(lf) -> str:
    return lf.settings.database_url.split(":", 1)[0].split("+", 1)[0]


def walk_to_the_end(lf, walk: Walk) -> Walker:
    """Run the walk; it reaches the tasks it is there for and ends as documented."""
    walker = Walker(lf, walk.script(), tried_before=set(TRIED[backend(lf)]))
    walker.run()

    reached = {name for _, name in walker.visited}
    assert walk.reaches <= reached, f"{walk} did not reach {sorted(walk.reaches - reached)}"
    assert walker.case.status == "completed"
    data = walker.case.data
    assert {k: data.get(k) for k in walk.ends} == walk.ends, f"{walk} ended otherwise"
    assert len(walker.sent) == len(walker.script.messages), "a scripted message was not sent"
    assert walker.returned == walker.returnable
    # every task acted on (not tried in an earlier walk) got the whole set of commands
    assert walker.actions["transfer"] == walker.actions["delegate"] == len(walker.acted_on)
    assert walker.actions["claim"] == 2 * walker.actions["unclaim"] == 2 * len(walker.acted_on)
    assert walker.actions["return"] == len(walker.returned)
    # each returned task was reached again from its target and completed the second time
    done = {
        (t["process_id"], t["name"]) for t in walker.case.refresh()["tasks"] if t["state"] == "done"
    }
    assert walker.returned <= done
    if not walker.without_limit:
        assert walker.actions["suspend"] == walker.actions["resume"] == len(walker.acted_on)
        extended = len(walker.acted_on) if not walker.not_extendable else None
        assert extended is None or walker.actions["decide_extension"] == extended
    if walker.without_limit:  # until every user task carries a committed time limit
        warnings.warn(
            f"{walk}: suspend/resume and extension not tried on "
            f"{len(walker.without_limit)} tasks without a time limit: "
            + ", ".join(sorted(name for _, name in walker.without_limit)),
            stacklevel=1,
        )
    if walker.not_extendable:
        warnings.warn(
            f"{walk}: no extension tried on tasks whose time limits the law does not let "
            f"be extended: " + ", ".join(sorted(name for _, name in walker.not_extendable)),
            stacklevel=1,
        )
    TRIED[backend(lf)] |= {(process, name) for process, name, _ in walker.acted_on}
    WALKED[backend(lf)].add(str(walk))
    return walker


@pytest.mark.parametrize("walk", WALKS, ids=str)
def test_every_action_on_every_task_of_the_walk(product_lf, walk):
    walker = walk_to_the_end(product_lf, walk)
    if walk.name == "main":
        assert walker.returnable, f"{walk}: no task on the main path offers a return"


def test_every_action_was_tried_on_every_user_task_of_every_process(product_lf):
    """The walks of this backend tried every action on every userTask of every diagram. Runs
    here first, in this test's database, any walk not run on this backend yet (e.g. deselected
    with -k), each from the same start time."""
    on = backend(product_lf)
    start = product_lf.clock.now()
    for walk in WALKS:
        if str(walk) not in WALKED[on]:
            product_lf.clock.set(start)
            walk_to_the_end(product_lf, walk)
    expected = user_tasks()
    assert len(expected) >= 86, sorted(expected)
    missing, unknown = sorted(expected - TRIED[on]), sorted(TRIED[on] - expected)
    assert not missing, f"no walk reaches these user tasks (add a branch walk): {missing}"
    assert not unknown, f"tried on what is no user task of a diagram: {unknown}"
