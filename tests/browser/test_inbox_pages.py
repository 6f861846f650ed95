"""The clerk's workspace in a real browser on the product's processes: the header (name,
department, region, unread messages, search), the inbox tabs with counts, rows that tell cases
apart (number, matter, step, place, light, working days left, 督办), filters and sorting, bulk
claim, a watching office without 认领, the applicant's plain view with a 补正 notice, and the
case search, and paging by cursor past the 1000+ count. Screenshots: inbox.png, inbox-phone.png,
cases.png, applicant-home.png, inbox-paging.png."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import insert

from engine.db.tables import HumanTask, SupervisionOrder
from engine.services.attachment_samples import attach_samples
from engine.services.container import Landflow
from tests.browser.conftest import SCREENSHOTS
from tests.scenarios.harness import Scenario
from tests.scenarios.test_joint_review_entry import APPLICANT, START, application

CLERK = "zrzy.330702"  # 婺城区自然资源和规划局
GUFANG, SIPING = "330702101201", "330702102201"  # 古方村 (白龙桥镇), 寺平村 (汤溪镇)
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
# what a clerk must never read on these pages
CODES = re.compile(r"zrzy|ldxz|applicant|joint_review|330702|None|null|\{|\}|sla_|scope=")


def entry_case(lf: Landflow, village: str, days_later: int, parcel: str, location: str, name: str):
    """A 入市 case of `village` whose application was handed in `days_later` days after
    START; its 入市条件审查 (5 working days) waits in the county 自然资源 queue."""
    lf.clock.set(START + timedelta(days=days_later))
    case = Scenario(lf, "joint_review_entry", village, business_key=f"婺城-入市-{parcel[-5:]}")
    applicant = lf.auth.actor_for(f"applicant.{village}")
    attach_samples(lf.attachments, applicant, case.task("apply")["id"])
    subject = f"{name}股份经济合作社"
    data = application(
        parcel_code=parcel,
        parcel_location=location,
        entry_subject=subject,
        land_ownership=subject,
    )
    case.complete("apply", data, by=APPLICANT)
    return case


def two_cases(lf: Landflow):
    gufang = entry_case(lf, GUFANG, 0, "330702101201JC00012", "白龙桥镇古方村工业功能区", "古方村")
    siping = entry_case(lf, SIPING, 2, "330702102201JC00007", "汤溪镇寺平村村东地块", "寺平村")
    return gufang, siping


def supervise(lf: Landflow, case: Scenario) -> None:
    task = case.task("precheck")
    with lf.uow.write() as session:
        session.add(
            SupervisionOrder(
                instance_id=case.id,
                task_id=task["id"],
                office="ldxz.330702",
                department=CLERK,
                grade="blue",
                text="督办",
                status="open",
                created_at=lf.clock.now(),
            )
        )


def signed_in(browser, url: str, username: str, viewport=None):
    context = browser.new_context(
        locale="zh-CN", viewport=viewport or {"width": 1366, "height": 768}
    )
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return context, page


def rows(page) -> list[str]:
    return page.locator("table.inbox-list tbody tr").all_inner_texts()


def navigate(page, label: str) -> None:
    """Click a link or button that loads a new page and wait for it, so rows are read from
    the new page, not from the old one or one half loaded."""
    with page.expect_navigation():
        page.click(f"text={label}")


def tab(page, label: str):
    return page.locator(".inbox-tabs a", has_text=label)


def test_header_tabs_and_rows_tell_the_cases_apart(browser, product_site, screenshot):
    url, lf = product_site
    gufang, _ = two_cases(lf)
    supervise(lf, gufang)
    context, page = signed_in(browser, url, CLERK)

    who = page.locator(".who").inner_text()
    assert "婺城区自然资源和规划局" in who and "金华市婺城区" in who
    nav = page.locator(".main-nav").inner_text()
    assert "发起办件" in nav and "接口文档" not in nav  # API docs are for admins only
    assert tab(page, "我的待办").inner_text().split() == ["我的待办", "0"]
    assert tab(page, "待认领").inner_text().split() == ["待认领", "2"]
    assert tab(page, "关注督办").inner_text().split() == ["关注督办", "1"]
    assert tab(page, "已办").count() == 1 and tab(page, "待阅").count() == 0

    tab(page, "待认领").click()
    first, second = rows(page)
    for text in (
        gufang.case["case_no"],
        "古方村 12.5亩 工业用地入市",
        "入市条件及负面清单审查",
        "金华市婺城区白龙桥镇古方村",
        "2026-03-02 09:00",
        "正常",
        "剩 3 个工作日",  # Wednesday 03-04: Thursday, Friday, Monday 03-09
        "督办",
    ):
        assert text in first, text
    assert "寺平村" in second and "督办" not in second
    assert not CODES.search(page.locator("main").inner_text())
    screenshot(page, "inbox")

    page.set_viewport_size(TABLET)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= TABLET["width"]
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert page.locator("table.inbox-list tbody tr button", has_text="认领").first.is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "inbox-phone.png"), full_page=True)
    context.close()


def test_filters_and_sorting_change_the_rows(browser, product_site):
    url, lf = product_site
    two_cases(lf)
    lf.clock.set(START + timedelta(days=8))  # Tuesday 03-10: 古方村's review was due 03-09
    lf.jobs.run_due()
    context, page = signed_in(browser, url, CLERK)
    tab(page, "待认领").click()

    # due first: the overdue one leads; its blue 督办 asks the department for a reply (5 wd)
    first, second, reply = rows(page)
    assert "古方村" in first and "红灯" in first and "超期 1 个工作日" in first
    assert "寺平村" in second and "剩 1 个工作日" in second
    assert "督办反馈" in reply and "蓝色督办" in reply

    page.select_option("#flt-sort", "-created")
    navigate(page, "筛选")
    assert ["寺平村" in r for r in rows(page)] == [False, True, False]  # the reply is newest

    page.select_option("#flt-light", "red")
    navigate(page, "筛选")
    assert len(rows(page)) == 1 and "古方村" in rows(page)[0]

    page.select_option("#flt-light", "")
    page.select_option("#flt-region", label="金华市婺城区汤溪镇")
    navigate(page, "筛选")
    assert len(rows(page)) == 1 and "寺平村" in rows(page)[0]

    navigate(page, "清除")
    page.fill("#flt-since", "2026-03-04")
    navigate(page, "筛选")
    assert len(rows(page)) == 2 and "寺平村" in rows(page)[0]  # and the reply

    navigate(page, "清除")
    page.select_option("#flt-process", label="集体民主决策（四议两公开）")
    navigate(page, "筛选")
    assert page.locator("table.inbox-list td.empty").inner_text() == "暂无事项"
    context.close()


def test_bulk_claim_claims_the_ticked_rows(browser, product_site):
    url, lf = product_site
    gufang, siping = two_cases(lf)
    entry_case(lf, "330702101202", 3, "330702101202JC00001", "白龙桥镇筱溪村南", "筱溪村")
    context, page = signed_in(browser, url, CLERK)
    tab(page, "待认领").click()
    assert len(rows(page)) == 3
    page.check(f"input[name=task_ids][value='{gufang.task('precheck')['id']}']")
    page.check(f"input[name=task_ids][value='{siping.task('precheck')['id']}']")
    page.click("text=认领所选")
    page.wait_for_url(re.compile(r"scope=mine"))
    assert "已认领 2 件" in page.locator(".flash").inner_text()
    mine = rows(page)
    assert len(mine) == 2 and not any("筱溪村" in r for r in mine)
    assert tab(page, "待认领").inner_text().split() == ["待认领", "1"]
    assert gufang.task("precheck")["assignee"] == CLERK
    assert siping.task("precheck")["assignee"] == CLERK

    tab(page, "待认领").click()
    page.check("#pick-all")  # 全选 ticks the claimable rows
    assert page.locator("input[name=task_ids]:checked").count() == 1
    context.close()


def test_a_watching_office_reads_without_claiming(browser, product_site):
    url, lf = product_site
    two_cases(lf)
    context, page = signed_in(browser, url, "ldxz.330700")  # 金华市领导小组办公室
    nav = page.locator(".main-nav").inner_text()
    assert "发起办件" not in nav and "接口文档" not in nav
    tab(page, "待阅").click()
    assert len(rows(page)) == 2
    assert page.locator("main button", has_text="认领").count() == 0
    assert page.locator("input[name=task_ids]").count() == 0
    assert "金华市" in page.locator(".who").inner_text()
    context.close()


def test_the_applicant_sees_a_plain_view_with_the_supplement_notice(
    browser, product_site, screenshot
):
    url, lf = product_site
    gufang, _ = two_cases(lf)
    clerk = lf.auth.actor_for(CLERK)
    # the 提交申请 step announced itself to the applicant's department: read already
    lf.workspace.mark_read(lf.auth.actor_for(f"applicant.{GUFANG}"))
    lf.sla.suspend(
        clerk,
        gufang.task("precheck")["id"],
        "补正",
        "申请材料不齐",
        ["宗地界址图", "村民代表会议决议"],
    )
    context, page = signed_in(browser, url, f"applicant.{GUFANG}")
    main = page.locator("main").inner_text()
    assert "我的申请" in main and "古方村 12.5亩 工业用地入市" in main
    notice = page.locator(".supplement-notice").inner_text()
    assert "请补正材料" in notice and "婺城区自然资源和规划局" in notice
    assert page.locator(".missing-items li").all_inner_texts() == ["宗地界址图", "村民代表会议决议"]
    assert "入市条件及负面清单审查" in main and "暂停计时" in main
    assert "寺平村" not in main  # another village's case
    body = page.locator("body").inner_text()
    assert "认领" not in body and "待认领" not in body and "接口文档" not in body
    assert "发起办件" not in body
    assert page.locator(".bell .count").inner_text() == "1"
    assert not CODES.search(main)
    screenshot(page, "applicant-home")

    page.click(".bell")
    assert "需补正以下材料：宗地界址图、村民代表会议决议" in page.locator(".notices").inner_text()
    navigate(page, "标为已读")
    assert page.locator(".bell .count").count() == 0
    context.close()


def test_the_search_finds_a_case_by_number_and_by_village(browser, product_site, screenshot):
    url, lf = product_site
    gufang, siping = two_cases(lf)
    context, page = signed_in(browser, url, CLERK)
    page.fill("#global-q", gufang.case["case_no"])
    page.press("#global-q", "Enter")
    page.wait_for_url(re.compile(r"/cases\?"))
    found = page.locator("table.case-list tbody tr").all_inner_texts()
    assert len(found) == 1 and "古方村 12.5亩 工业用地入市" in found[0]

    page.fill("#global-q", "寺平村")
    page.press("#global-q", "Enter")
    page.wait_for_url(re.compile(r"q=%E5%AF%BA"))
    found = page.locator("table.case-list tbody tr").all_inner_texts()
    assert len(found) == 1 and siping.case["case_no"] in found[0]
    assert "入市条件及负面清单审查" in found[0] and "办理中" in found[0]

    page.fill("#flt-q", "")
    page.click("text=查询")
    assert len(page.locator("table.case-list tbody tr").all()) == 2
    assert not CODES.search(page.locator("main").inner_text())
    screenshot(page, "cases")

    page.click(f"text={siping.case['case_no']}")
    page.wait_for_url(f"{url}/cases/{siping.id}")
    context.close()


def test_the_pages_are_keyboard_reachable(browser, product_site):
    url, lf = product_site
    two_cases(lf)
    context, page = signed_in(browser, url, CLERK)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.goto(f"{url}/?scope=queue")
    for _ in range(60):  # the bulk claim button is reached by tabbing
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "认领所选":
            break
    else:
        raise AssertionError("认领所选 is not reachable by keyboard")
    context.close()


def many_open_tasks(lf: Landflow, case: Scenario, count: int) -> None:
    """`count` more open steps like the case's 入市条件审查 in the clerk's queue, one minute
    apart in due date, written in one go."""
    task = case.task("precheck")
    with lf.uow.write() as session:
        sample = session.get(HumanTask, task["id"])
        columns = [c.key for c in HumanTask.__table__.columns if c.computed is None]
        template = {key: getattr(sample, key) for key in columns}
        session.execute(
            insert(HumanTask),
            [
                dict(template, id=str(uuid.uuid4()), due_at=sample.due_at + timedelta(minutes=n))
                for n in range(1, count + 1)
            ],
        )


def task_ids(page) -> list[str]:
    return page.locator("input[name=task_ids]").evaluate_all("boxes => boxes.map(b => b.value)")


def test_pages_follow_cursors_and_the_count_stops_at_1000(browser, product_site, screenshot):
    url, lf = product_site
    gufang, _ = two_cases(lf)
    many_open_tasks(lf, gufang, 1_050)
    context, page = signed_in(browser, url, CLERK)
    assert tab(page, "待认领").inner_text().split() == ["待认领", "1000+"]
    navigate(page, "待认领")
    pager = page.locator("nav.pager")
    assert pager.inner_text().split()[0] == "共"
    assert "共 1000+ 条" in pager.inner_text()
    assert pager.locator("a[rel=prev]").count() == 0
    first = task_ids(page)
    assert len(first) == 20
    screenshot(page, "inbox-paging")

    navigate(page, "下一页")
    assert "cursor=" in page.url
    second = task_ids(page)
    assert len(second) == 20 and not set(first) & set(second)
    links = page.locator("nav.pager a").all_inner_texts()
    assert links == ["第一页", "上一页", "下一页"]
    screenshot(page, "inbox-paging-next")
    navigate(page, "下一页")
    navigate(page, "上一页")
    assert task_ids(page) == second
    navigate(page, "上一页")
    assert task_ids(page) == first
    assert page.locator("nav.pager a[rel=prev]").count() == 0

    page.goto(f"{url}/?scope=queue&cursor=not-a-cursor")  # a typed cursor: the first page
    assert task_ids(page) == first
    page.goto(f"{url}/cases?cursor=bm90LWEtY3Vyc29y")  # valid base64, not a cursor
    assert page.locator("table.case-list tbody tr").count() == 2
    context.close()
