"""A running call activity's data is visible on the calling case (view `called`, case page),
read-only: the caller's own data keeps its values until the call returns."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.db.tables import Instance
from engine.services.actor import SYSTEM
from tests.bpmn_builder import HEADER, linear_process, script, user_task
from tests.scenarios.harness import Scenario
from tests.scenarios.test_collective_decision import propose_to_notice
from tests.scenarios.test_joint_review_entry import APPLICANT, entry_vote, plan, to_plan
from tests.sign_in import page_sign_in

NOTICE_ENDS_AT = "2026-03-17T23:59:59+08:00"  # 15 days' notice for 村民代表会议 from 03-02


def in_entry_decision(product_lf) -> Scenario:
    """A 入市 case whose 入市方案 is being decided by the called collective_decision, which has
    published its meeting notice (and so set notice_ends_at)."""
    case = to_plan(product_lf)
    case.complete("draft_plan", plan(), by=APPLICANT)
    propose_to_notice(case, "村民代表会议")
    return case


def state_json(lf, instance_id: str) -> str:
    with lf.uow.read() as session:
        return session.get(Instance, instance_id).state_json


def test_the_running_decision_shows_its_notice_period_on_the_calling_case(product_lf):
    case = in_entry_decision(product_lf)
    view = case.refresh()
    [call] = view["called"]
    assert (call["element_id"], call["name"], call["process_id"]) == (
        "call_entry_decision",
        "入市方案集体决策",
        "collective_decision",
    )
    assert call["data"]["notice_ends_at"] == NOTICE_ENDS_AT
    assert call["data"]["matter"] == "入市方案"
    assert call["labels"]["meeting_planned_on"] == "拟召开会议日期"  # the notice form's title
    # the caller's own data is as it was when the call started
    assert "notice_ends_at" not in view["data"]
    assert view["data"]["plan_round"] == 1


def test_reading_the_called_data_changes_nothing(product_lf):
    case = in_entry_decision(product_lf)
    before = state_json(product_lf, case.id)
    first = case.refresh()
    first["called"][0]["data"]["notice_ends_at"] = "tampered"
    second = case.refresh()
    assert second["called"][0]["data"]["notice_ends_at"] == NOTICE_ENDS_AT
    assert second["data"] == first["data"]
    assert state_json(product_lf, case.id) == before


def test_nothing_is_called_before_the_call_or_after_it_returns(product_lf):
    case = to_plan(product_lf)
    assert case.refresh()["called"] == []
    case.complete("draft_plan", plan(), by=APPLICANT)
    entry_vote(case)  # the whole decision, through publicity, back in the caller
    view = case.refresh()
    assert view["called"] == []
    assert view["data"]["entry_plan_decision_passed"] is True
    assert view["data"]["notice_ends_at"] == NOTICE_ENDS_AT  # returned with the call's results


def test_the_case_page_lists_the_running_decision(product_lf):
    case = in_entry_decision(product_lf)
    with TestClient(create_app(product_lf, start_scheduler=False)) as client:
        signed_in = page_sign_in(client, "admin", "admin-pass")
        assert signed_in.status_code == 303
        page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    html = page.text
    called = html[html.index('<section class="card called"') :]
    called = called[: called.index("</section>")]
    assert "入市方案集体决策" in called and "进行中" in called
    assert "<dt>拟召开会议日期</dt><dd>2026-03-20</dd>" in called  # labelled by its form
    assert "<dt>matter</dt>" not in html  # no raw variable names


def calling(pid: str, called: str, name: str, script: str) -> bytes:
    return (
        HEADER.format(pid=pid) + f'<bpmn:process id="{pid}" isExecutable="true">'
        '<bpmn:startEvent id="start"/>'
        f'<bpmn:scriptTask id="set"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'
        f'<bpmn:callActivity id="call_{called}" name="{name}" calledElement="{called}"/>'
        '<bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="set"/>'
        f'<bpmn:sequenceFlow id="f1" sourceRef="set" targetRef="call_{called}"/>'
        f'<bpmn:sequenceFlow id="f2" sourceRef="call_{called}" targetRef="end"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def test_nested_calls_are_listed_outermost_first(lf):
    inner = linear_process("inner", script('depth = "inner"'), user_task("确认"))
    files = {
        "outer.bpmn": calling("outer", "middle", "中间流程", 'depth = "outer"'),
        "middle.bpmn": calling("middle", "inner", "内层流程", 'depth = "middle"'),
        "inner.bpmn": inner,
    }
    lf.definitions.deploy(files, SYSTEM)
    case = lf.instances.start(SYSTEM, "outer", "330702101201", data={})
    assert case["data"]["depth"] == "outer"
    assert [
        (c["element_id"], c["name"], c["process_id"], c["data"]["depth"]) for c in case["called"]
    ] == [
        ("call_middle", "中间流程", "middle", "middle"),
        ("call_inner", "内层流程", "inner", "inner"),
    ]
