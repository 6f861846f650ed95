"""An administrator finds a failed case in 异常处理, corrects its data and retries; a clerk sees
the reason on the case meanwhile and cannot act on it; a clerk returns a task from its page."""

from __future__ import annotations

import re

from engine.services.actor import SYSTEM
from tests.bpmn_builder import HEADER, laned_process


def sign_in(page, site: str, username: str, password: str) -> None:
    page.goto(f"{site}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def failing_process(pid: str) -> bytes:
    return (
        HEADER.format(pid=pid) + f'<bpmn:process id="{pid}" name="测试审批" isExecutable="true">'
        '<bpmn:startEvent id="start"/>'
        '<bpmn:scriptTask id="compute" name="计算补偿金额">'
        "<bpmn:script>amount = area * rate</bpmn:script></bpmn:scriptTask>"
        '<bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="compute"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="compute" targetRef="end"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def test_an_admin_corrects_data_and_retries_a_failed_step(web_lf, page, site, screenshot):
    web_lf.definitions.deploy({"calc.bpmn": failing_process("calc")}, SYSTEM)
    case = web_lf.instances.start(SYSTEM, "calc", "330702101201", "TC-1", {"area": 2})
    assert case["status"] == "error"

    sign_in(page, site, "admin", "admin-pass")
    page.click(".main-nav >> text=系统管理")
    page.click(".admin-nav >> text=异常处理")
    page.wait_for_url(re.compile(r"/admin/incidents"))
    assert "测试审批：1 件" in page.locator("ul.counts").inner_text()
    row = page.locator("table.list tbody tr").first.inner_text()
    assert "计算补偿金额" in row and "缺少数据“rate”" in row and "表达式计算错误" in row
    screenshot(page, "admin-incidents")

    page.click("table.list a")
    page.wait_for_url(re.compile(r"/admin/incidents/\d+$"))
    page.click("text=技术详情")
    assert "rate" in page.locator("pre.detail").inner_text()
    page.fill("input[name=new_name]", "rate")
    page.fill("input[name=new_value]", "1.5")
    screenshot(page, "admin-incident")
    page.click("text=重试失败环节")
    page.wait_for_url(re.compile(r"/admin/incidents/\d+$"))
    assert "已重试解决" in page.locator("dl.facts").inner_text()
    done = web_lf.instances.get(SYSTEM, case["id"])
    assert done["status"] == "completed" and done["data"]["amount"] == 3.0


def test_a_bad_correction_is_shown_in_place(web_lf, page, site):
    web_lf.definitions.deploy({"calc.bpmn": failing_process("calc")}, SYSTEM)
    web_lf.instances.start(SYSTEM, "calc", "330702101201", "TC-2", {"area": 2})
    [incident] = web_lf.incidents.list(web_lf.auth.actor_for("admin"))["items"]
    sign_in(page, site, "admin", "admin-pass")
    page.goto(f"{site}/admin/incidents/{incident['id']}")
    page.fill("input[name=new_name]", "9bad")
    page.fill("input[name=new_value]", "1")
    page.click("text=重试失败环节")
    assert "字段名" in page.locator(".form-errors").inner_text()
    assert page.locator("input[name=new_name]").count() == 1


def test_a_clerk_sees_why_a_case_is_stopped(web_lf, page, site, screenshot):
    web_lf.definitions.deploy({"calc.bpmn": failing_process("calc")}, SYSTEM)
    case = web_lf.instances.start(SYSTEM, "calc", "330702101201", "TC-3", {"area": 2})
    sign_in(page, site, "admin", "admin-pass")
    page.goto(f"{site}/cases/{case['id']}")
    alert = page.locator("p.error[role=alert]").inner_text()
    assert "计算补偿金额" in alert and "已转管理员处理" in alert and "NameError" not in alert


def test_a_clerk_returns_a_task_to_an_earlier_step(web_lf, page, site, screenshot):
    lane = {"dept_type": "zrzy", "level": "county"}
    web_lf.definitions.deploy(
        {
            "ret.bpmn": laned_process(
                "ret", [("draft", lane, {}), ("review", lane, {"return_to": "draft"})]
            )
        },
        SYSTEM,
    )
    case = web_lf.instances.start(SYSTEM, "ret", "330702101201", "RT-1")
    alice = web_lf.auth.actor_for("alice")
    web_lf.organisation.add_membership(SYSTEM, "alice", "zrzy.330702", "handler")
    alice = web_lf.auth.actor_for("alice")
    [draft] = [t for t in web_lf.instances.get(SYSTEM, case["id"])["tasks"]]
    web_lf.tasks.complete(alice, draft["id"], {})
    review = [t for t in web_lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open"]

    sign_in(page, site, "alice", "alice-pass")
    page.goto(f"{site}/tasks/{review[0]['id']}")
    page.click("text=更多操作")
    assert page.locator("select[name=target] option").all_inner_texts() == ["draft"]
    page.fill("form[action$='/return'] input[name=reason]", "材料不全，请补充宗地图")
    page.click("form[action$='/return'] button")
    page.wait_for_url(re.compile(r"/cases/"))
    reopened = [
        t for t in web_lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open"
    ]
    assert reopened[0]["name"] == "draft" and reopened[0]["returned"]["reason"].startswith("材料")
    page.goto(f"{site}/tasks/{reopened[0]['id']}")
    assert "退回理由：材料不全，请补充宗地图" in page.locator(".notice.returned").inner_text()
    screenshot(page, "task-returned")
