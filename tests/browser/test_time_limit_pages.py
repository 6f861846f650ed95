"""Time limits on the pages, in a real browser: a due date into a year without the State
Council notice shows 暂定 until the notice is imported; a late 补正 is refused and the case
shows that it was accepted by law (行政许可法 §32)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from engine.services.actor import SYSTEM
from tests.bpmn_builder import laned_process
from tests.browser.test_pages import sign_in

VILLAGE = "330702101201"


def deploy_review(lf, pid: str) -> None:
    lf.definitions.deploy(
        {
            f"{pid}.bpmn": laned_process(
                pid,
                [
                    (
                        "review",
                        {"dept_type": "zrzy", "level": "county"},
                        {"sla_statutory": "20wd", "sla_basis": "行政许可法第四十二条"},
                    )
                ],
            )
        },
        SYSTEM,
    )


def open_task_id(lf, case: dict) -> str:
    return next(t["id"] for t in case["tasks"] if t["state"] == "open")


def test_a_2027_due_date_shows_provisional_until_the_notice_is_imported(
    web_lf, clock, page, site, screenshot
):
    clock.set(datetime(2026, 12, 21, 1, 0, tzinfo=UTC))
    deploy_review(web_lf, "into_2027")
    task_id = open_task_id(web_lf, web_lf.instances.start(SYSTEM, "into_2027", VILLAGE))
    sign_in(page, site, "zrzy.330702", "demo")
    page.goto(f"{site}/tasks/{task_id}")
    facts = page.locator("dl.facts").inner_text()
    assert "2027-01-19 23:59（暂定）" in facts and "正常" in facts
    row = page.locator("table.list tbody tr").first.inner_text()
    assert "法定时限 20个工作日" in row and "暂定" in row and "20wd" not in row
    screenshot(page, "time-limits-provisional")
    notice = {"year": 2027, "holidays": [{"name": "元旦", "days": ["2027-01-01", "2027-01-04"]}]}
    web_lf.calendar.import_notice(SYSTEM, json.dumps(notice), "json", "国办发明电")
    page.reload()
    facts = page.locator("dl.facts").inner_text()
    assert "2027-01-20 23:59" in facts and "暂定" not in page.content()


def test_a_late_supplement_notice_is_refused_and_the_case_shows_acceptance_by_law(
    web_lf, clock, page, site, screenshot
):
    clock.set(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    deploy_review(web_lf, "apply")
    case = web_lf.instances.start(SYSTEM, "apply", VILLAGE)
    task_id = open_task_id(web_lf, case)
    clock.set(datetime(2026, 11, 10, 1, 0, tzinfo=UTC))  # past the 5th working day (11-09)
    sign_in(page, site, "zrzy.330702", "demo")
    page.goto(f"{site}/tasks/{task_id}")
    page.click("text=更多操作")
    page.select_option("select[name=reason_type]", "补正")
    page.fill("input[name=reason]", "缺少界址图")
    page.fill("textarea[name=missing_items]", "宗地界址图")
    page.click("text=中止计时")
    assert "行政许可法第三十二条" in page.content() and "视为受理" in page.content()
    page.goto(f"{site}/cases/{case['id']}")
    facts = page.locator("dl.facts").inner_text()
    assert "依法视为受理" in facts and "2026-11-09" in facts
    screenshot(page, "time-limits-accepted-by-law")
    page.goto(f"{site}/tasks/{task_id}")
    assert "依法视为受理" in page.locator(".notice").inner_text()
    assert "已中止" not in page.locator("dl.facts").inner_text()
