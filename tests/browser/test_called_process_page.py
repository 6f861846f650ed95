"""The case page shows a running called process's data (the values its forms label),
read-only, under its own heading with its open step."""

from __future__ import annotations

from engine.services.actor import SYSTEM
from tests.bpmn_builder import HEADER

NOTICE_ENDS_AT = "2026-11-17T23:59:59+08:00"

CALLED = (
    HEADER.format(pid="notice_call")
    + '<bpmn:process id="notice_call" name="通知公示" isExecutable="true">'
    '<bpmn:laneSet><bpmn:lane id="lane_cz" name="财政局"><bpmn:extensionElements>'
    '<spiffworkflow:properties><spiffworkflow:property name="dept_type" value="cz"/>'
    '<spiffworkflow:property name="level" value="county"/></spiffworkflow:properties>'
    "</bpmn:extensionElements><bpmn:flowNodeRef>confirm</bpmn:flowNodeRef></bpmn:lane>"
    "</bpmn:laneSet>"
    '<bpmn:startEvent id="start"/>'
    '<bpmn:scriptTask id="begin_notice" name="起算通知期"><bpmn:script>'
    f'amount = 1200\nnotice_ends_at = "{NOTICE_ENDS_AT}"</bpmn:script></bpmn:scriptTask>'
    '<bpmn:userTask id="confirm" name="确认缴费"><bpmn:extensionElements>'
    '<spiffworkflow:properties><spiffworkflow:property name="formKey" value="payment"/>'
    "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    '<bpmn:endEvent id="end"/>'
    '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="begin_notice"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="begin_notice" targetRef="confirm"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="confirm" targetRef="end"/>'
    "</bpmn:process></bpmn:definitions>"
).encode()

CALLER = (
    HEADER.format(pid="caller") + '<bpmn:process id="caller" name="调用测试" isExecutable="true">'
    '<bpmn:startEvent id="start"/>'
    '<bpmn:callActivity id="call_notice" name="集体决策" calledElement="notice_call"/>'
    '<bpmn:endEvent id="end"/>'
    '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="call_notice"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="call_notice" targetRef="end"/>'
    "</bpmn:process></bpmn:definitions>"
).encode()


def test_the_case_page_lists_the_running_called_process(web_lf, page, site, screenshot):
    web_lf.definitions.deploy({"notice_call.bpmn": CALLED, "caller.bpmn": CALLER}, SYSTEM)
    case = web_lf.instances.start(SYSTEM, "caller", "330702101201", "CALL-1", {"matter": "入市"})
    assert case["status"] == "running"

    page.goto(f"{site}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin-pass")
    page.click("button[type=submit]")
    page.goto(f"{site}/cases/{case['id']}")

    section = page.locator("section.called")
    assert section.locator("h2").inner_text() == "集体决策 进行中"
    assert "确认缴费" in section.locator("tr.open-step").inner_text()  # its open step
    fields = dict(
        zip(
            section.locator("dt").all_inner_texts(),
            section.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    # the form's title labels the field; a script's variable no form names is not shown (no
    # identifiers on pages); what the caller passed in (matter) is not repeated
    assert fields == {"缴费金额（元）": "1200"}
    text = page.locator("main").inner_text()
    assert "notice_ends_at" not in text and NOTICE_ENDS_AT not in text
    # the calling case's own data is unchanged while the call runs
    assert "1200" not in page.locator("#data-title").locator("xpath=..").inner_text()
    screenshot(page, "case-called-process")
