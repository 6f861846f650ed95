"""督办单 in a real browser, across two users: 婺城区's leadership-group office issues an orange
order about a 入市 case's 入市条件审查, 婺城区自然资源和规划局 replies on the reply step's task
page, the office closes the order; the list's tabs, the order's steps and the case's timeline
show each step; a clerk cannot issue. Screenshots: supervision.png, supervision-order.png."""

from __future__ import annotations

import re

from engine.services.actor import SYSTEM
from engine.services.supervision import IssueRequest
from tests.browser.test_inbox_pages import CODES, entry_case, signed_in
from tests.browser.test_task_page import applied

OFFICE, CLERK = "ldxz.330702", "zrzy.330702"


def test_an_office_issues_the_clerk_replies_the_office_closes(browser, product_site, screenshot):
    url, lf = product_site
    case = applied(lf)
    precheck = case.task("precheck")
    other = entry_case(
        lf, "330702102201", 1, "330702102201JC00007", "汤溪镇寺平村村东地块", "寺平村"
    )
    lf.supervision.issue(  # an earlier order, still waiting, for the list
        lf.auth.actor_for(OFFICE),
        IssueRequest(task_id=other.task("precheck")["id"], grade="blue", text="请按期审查"),
    )

    context, page = signed_in(browser, url, OFFICE)
    page.goto(f"{url}/supervision/new?task_id={precheck['id']}")
    assert page.locator("h1").inner_text() == "下达督办单"
    steps = page.locator("fieldset").first.inner_text()
    assert "入市条件及负面清单审查 · 婺城区自然资源和规划局" in steps
    page.check("input[name=grade][value=orange]")
    page.fill("#sv-days", "3")
    page.fill("#sv-text", "请于三个工作日内完成入市条件审查并报告")
    with page.expect_navigation():
        page.click("button:has-text('下达督办单')")
    assert re.search(r"/supervision/\d+\?issued=1$", page.url)
    order_url = page.url.split("?")[0]
    card = page.locator(".order-card").inner_text()
    assert "橙色" in card and "待反馈" in card and "婺城区自然资源和规划局" in card
    assert "3 个工作日" in card and not CODES.search(page.locator("main").inner_text())
    context.close()

    # the department finds the reply in its inbox and answers on the task page
    context, page = signed_in(browser, url, CLERK)
    page.goto(f"{url}/?scope=queue")
    row = page.locator("tr", has_text="督办反馈").first
    with page.expect_navigation():
        row.locator("a", has_text="督办反馈").click()
    summary = page.locator(".case-summary").inner_text()
    assert "请于三个工作日内完成入市条件审查并报告" in summary and "橙色" in summary
    page.select_option("#f_reply_progress", "已办结")
    page.fill("#f_reply_text", "已完成入市条件审查，符合入市条件")
    screenshot(page, "supervision-reply")
    page.click("button:has-text('提交办理')")
    page.wait_for_url(re.compile(r"/cases/"))
    context.close()

    context, page = signed_in(browser, url, OFFICE)
    page.goto(f"{url}/supervision?status=answered")
    answered = page.locator(".supervision-list tbody tr")
    assert answered.count() == 1 and "已反馈" in answered.inner_text()
    page.goto(order_url)
    assert "已完成入市条件审查，符合入市条件" in page.locator(".order-reply").inner_text()
    page.fill("#close-text", "审查意见已出具，督办事项办结")
    with page.expect_navigation():
        page.click("form[action$='/close'] button")
    assert "督办单已办结" in page.locator(".flash").inner_text()
    steps = page.locator(".order-steps").inner_text()
    assert "下达橙色督办单" in steps and "反馈橙色督办单" in steps and "办结" in steps
    screenshot(page, "supervision-order")

    page.goto(f"{url}/supervision?status=")
    rows = page.locator(".supervision-list tbody tr").all_inner_texts()
    assert len(rows) == 2 and any("已办结" in r for r in rows) and any("待反馈" in r for r in rows)
    tabs = " ".join(page.locator(".supervision-tabs").inner_text().split())
    assert "待反馈 1 已反馈 0 逾期未反馈 0 已办结 1 已升级 0" in tabs
    assert not CODES.search(page.locator("main").inner_text())
    screenshot(page, "supervision")

    page.goto(f"{url}/cases/{case.id}")
    timeline = page.locator("main").inner_text()
    assert "下达橙色督办单" in timeline and "办结橙色督办单" in timeline
    context.close()

    # a clerk issues nothing
    context, page = signed_in(browser, url, CLERK)
    response = page.goto(f"{url}/supervision/new?task_id={precheck['id']}")
    assert response.status == 403
    context.close()
    assert lf.supervision.list(SYSTEM, status="")["total"] == 2
