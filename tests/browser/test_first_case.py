"""The README's first case, in a real browser: a village decides its 入市方案 by 四议两公开
(collective_decision), each step done by the department it is routed to, the notice and
publicity periods passed with the test clock. This keeps the README's walk-through honest."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta

import httpx
import pytest

from engine.services.container import Landflow
from tests.conftest import PROJECT, make_settings
from tests.live_server import serving

VILLAGE = "330702101201"
PARTY, COMMITTEE = f"dzz.{VILLAGE}", f"cwh.{VILLAGE}"


@pytest.fixture
def site(sqlite_template, tmp_path, clock):
    path = tmp_path / "landflow.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings(
        f"sqlite:///{path}",
        processes_dir=PROJECT / "processes",
        forms_dir=PROJECT / "forms",
        allow_clock_override=True,
        scheduler_interval_seconds=0.1,
    )
    lf = Landflow.build(settings, clock)
    with serving(lf, start_scheduler=True) as url:
        yield url, lf
    lf.close()


def as_user(browser, url: str, username: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return context, page


def fill(page, data: dict) -> None:
    for name, value in data.items():
        field = page.locator(f"#f_{name}")
        if field.count() and field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(str(value))
        elif field.count():
            field.fill(str(value))
        elif isinstance(value, bool):
            page.check(f"input[name={name}][value={'true' if value else 'false'}]")
        else:  # a choice offered as radio buttons
            page.check(f"input[name={name}][value='{value}']")


def do_task(browser, url: str, username: str, title: str, data: dict, shots=None) -> None:
    context, page = as_user(browser, url, username)
    page.click("text=待认领")
    page.click(f"table.list >> text={title}")
    fill(page, data)
    if shots:
        page.screenshot(path=str(shots), full_page=True)
    page.click("text=提交办理")
    page.wait_for_url(re.compile(r"/cases/"))
    assert "已提交" in page.locator("main").inner_text()
    context.close()


def jump(url: str, lf: Landflow, days: int) -> None:
    token = httpx.post(
        f"{url}/api/v1/auth/token", json={"username": "admin", "password": "admin-pass"}
    ).json()
    moved = lf.clock.now() + timedelta(days=days)
    response = httpx.post(
        f"{url}/api/v1/admin/clock",
        json={"now": moved.isoformat()},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert response.status_code == 200, response.text


def wait_for_task(browser, url: str, username: str, title: str) -> None:
    context, page = as_user(browser, url, username)
    for _ in range(100):
        page.goto(f"{url}/?scope=queue")
        if page.locator(f"table.list >> text={title}").count():
            context.close()
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"'{title}' never reached {username}")


def test_a_village_decides_its_entry_plan_start_to_finish(browser, site, tmp_path):
    url, lf = site
    context, page = as_user(browser, url, PARTY)
    page.goto(f"{url}/cases/new")
    page.select_option("select[name=process_id]", "collective_decision")
    page.wait_for_url(re.compile(r"process_id=collective_decision"))
    page.fill("input[name=region]", VILLAGE)
    page.fill("input[name=business_key]", "GF-入市-2026-01")
    fill(page, {"matter": "入市方案", "deciding_body": "村民代表会议"})
    page.click("button:has-text('发起')")
    page.wait_for_url(re.compile(r"/cases/"))
    case_url = page.url
    context.close()

    do_task(
        browser,
        url,
        PARTY,
        "村党组织提议",
        {"proposal_summary": "古方村 3 号地块入市方案", "proposed_on": "2026-11-02"},
        shots=tmp_path / "proposal.png",
    )
    do_task(
        browser,
        url,
        COMMITTEE,
        "村两委会议商议",
        {"consult_held_on": "2026-11-02", "consult_outcome": "同意提交党员大会审议"},
    )
    do_task(
        browser,
        url,
        PARTY,
        "党员大会审议",
        {
            "party_meeting_held_on": "2026-11-02",
            "party_members_present_count": 23,
            "party_review_outcome": "同意提交表决",
        },
    )
    do_task(
        browser,
        url,
        COMMITTEE,
        "发布会议通知并公示方案",
        {
            "meeting_notice_published_on": "2026-11-02",
            "meeting_planned_on": "2026-11-18",
            "notice_locations": "村务公开栏、村微信群",
        },
    )
    jump(url, lf, days=16)  # the plan is posted 15 days before the vote (Zhejiang)
    wait_for_task(browser, url, COMMITTEE, "召开会议并记录表决")
    do_task(
        browser,
        url,
        COMMITTEE,
        "召开会议并记录表决",
        {
            "meeting_held_on": "2026-11-18",
            "eligible_count": 45,
            "present_count": 40,
            "for_count": 36,
            "against_count": 2,
            "abstain_count": 2,
            "sign_in_sheet": "签到表.pdf",
            "minutes": "会议记录.pdf",
        },
    )
    do_task(
        browser,
        url,
        COMMITTEE,
        "决议公开",
        {"decision_published_on": "2026-11-18", "publicity_location": "村务公开栏"},
    )
    jump(url, lf, days=8)  # the publicity period passes without objection
    wait_for_task(browser, url, COMMITTEE, "实施结果公开")
    do_task(browser, url, COMMITTEE, "实施结果公开", {"result_published_on": "2026-11-27"})

    context, page = as_user(browser, url, PARTY)
    page.goto(case_url)
    assert "已办结" in page.locator("h1").inner_text()
    page.screenshot(path=str(tmp_path / "done.png"), full_page=True)
    context.close()
    case_id = case_url.rsplit("/", 1)[1]
    from engine.services.actor import SYSTEM

    data = lf.instances.get(SYSTEM, case_id)["data"]
    assert data["decision_passed"] is True and data["quorum_met"] is True
