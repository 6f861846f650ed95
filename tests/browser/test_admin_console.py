"""The admin console (系统管理) in Chromium: every page as an administrator (with screenshots),
each action the pages offer, and a clerk refused on every page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from engine.db.tables import Job
from engine.services.actor import SYSTEM
from tests.bpmn_builder import linear_process, script

ADMIN = ("admin", "admin-pass")
CLERK = ("zrzy.330702", "demo")
PAGES = {
    "home": "/admin",
    "definitions": "/admin/definitions",
    "definition-version": "/admin/definitions/collective_decision/versions/1",
    "org": "/admin/org?tab=regions&region=330702",
    "org-users": "/admin/org?tab=users&q=330702",
    "org-user": "/admin/org/users/zrzy.330702",
    "org-substitutions": "/admin/org?tab=substitutions",
    "org-import": "/admin/org?tab=import",
    "calendar": "/admin/calendar?year=2027",
    "time-limits": "/admin/time-limits?process=collective_decision",
    "jobs": "/admin/jobs",
    "audit": "/admin/audit",
}


def sign_in(page, url: str, who: tuple[str, str]) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", who[0])
    page.fill("input[name=password]", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def start_decision(lf) -> dict:
    return lf.instances.start(
        SYSTEM,
        "collective_decision",
        "330702101201",
        data={"matter": "入市方案", "deciding_body": "村民代表会议"},
    )


def test_every_page_as_admin_and_refused_to_a_clerk(product_site, page, browser, screenshot):
    url, lf = product_site
    start_decision(lf)
    sign_in(page, url, ADMIN)
    nav = page.locator(".main-nav").inner_text()
    assert "系统管理" in nav and "异常处理" not in nav and "接口文档" not in nav
    page.click(".main-nav >> text=系统管理")
    page.wait_for_url(f"{url}/admin")
    assert page.locator(".admin-nav a[href='/docs']").inner_text() == "接口文档"
    assert page.locator("#card-running .figure").inner_text() == "1"
    assert "2027" in page.locator("#card-calendar").inner_text()  # the next year has no notice
    for name, path in PAGES.items():
        response = page.goto(f"{url}{path}")
        assert response.status == 200, (name, path)
        current = page.locator(".admin-nav a[aria-current=page]").first.inner_text()
        assert current, name
        if name == "definition-version":
            page.wait_for_selector("#case-diagram[data-rendered=true]")
        screenshot(page, f"admin-{name}")

    clerk = browser.new_context(locale="zh-CN").new_page()
    sign_in(clerk, url, CLERK)
    assert "系统管理" not in clerk.locator(".main-nav").inner_text()
    for name, path in PAGES.items():
        response = clerk.goto(f"{url}{path}")
        assert response.status == 403, (name, path)
        assert "此页面仅限系统管理员使用" in clerk.locator("main").inner_text()
    clerk.context.close()


def test_deactivate_then_reactivate_a_user(product_site, page, browser, screenshot):
    url, lf = product_site
    case = start_decision(lf)
    party = lf.auth.actor_for("dzz.330702101201")
    [task] = [t for t in lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open"]
    lf.tasks.claim(party, task["id"])
    sign_in(page, url, ADMIN)
    page.goto(f"{url}/admin/org?tab=users")
    page.fill("#user-q", "dzz.330702101201")
    page.click("#user-search button")
    page.click("table.users >> text=管理")
    page.wait_for_url(f"{url}/admin/org/users/dzz.330702101201")
    assert "1 个已认领" in page.locator("dl.facts").inner_text()
    page.click("#toggle-active")
    page.wait_for_url(re.compile(r"done=deactivated"))
    flash = page.locator(".admin-flash").inner_text()
    assert "已停用" in flash and "1 个待办已退回部门待认领" in flash
    assert "已停用" in page.locator("h1").inner_text()
    screenshot(page, "admin-org-user-deactivated")
    assert lf.instances.get(SYSTEM, case["id"])["tasks"][0]["assignee"] is None

    villager = browser.new_context(locale="zh-CN").new_page()
    villager.goto(f"{url}/login")
    villager.fill("input[name=username]", "dzz.330702101201")
    villager.fill("input[name=password]", "demo")
    villager.click("button[type=submit]")
    assert "用户名或密码错误" in villager.locator("[role=alert]").inner_text()

    page.click("#toggle-active")
    page.wait_for_url(re.compile(r"done=reactivated"))
    assert "重新启用" in page.locator(".admin-flash").inner_text()
    sign_in(villager, url, ("dzz.330702101201", "demo"))
    villager.context.close()


def test_remove_a_membership(product_site, page):
    url, lf = product_site
    lf.organisation.add_membership(SYSTEM, "zrzy.330702", "sthj.330702", "handler")
    sign_in(page, url, ADMIN)
    page.goto(f"{url}/admin/org/users/zrzy.330702")
    rows = page.locator("table.memberships-table tbody tr")
    assert rows.count() == 3
    page.click("button[aria-label='移除 婺城区生态环境局 经办']")
    page.wait_for_url(re.compile(r"done=membership_removed"))
    assert "角色已移除" in page.locator(".admin-flash").inner_text()
    assert page.locator("table.memberships-table tbody tr").count() == 2
    assert "婺城区生态环境局" not in page.locator("table.memberships-table").inner_text()
    page.fill("#ms-dept", "nope.1")
    page.click("form[action$='/memberships'] button")
    assert "部门不存在" in page.locator(".admin-error").inner_text()


def test_csv_import_preview_then_apply_in_slices(product_site, page, tmp_path, screenshot):
    url, lf = product_site
    rows = ["code,name,level,parent", "330702103,罗埠镇,township,330702"]
    rows += [f"330702103{n:03d},村{n},village,330702103" for n in range(201, 260)]
    rows += ["330702105,坏镇,galaxy,330702", "330702101,白龙桥镇街道,township,330702"]
    csv_file = tmp_path / "regions.csv"
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    sign_in(page, url, ADMIN)
    page.goto(f"{url}/admin/org?tab=import")
    page.select_option("#import-kind", "regions")
    page.set_input_files("#import-file", str(csv_file))
    page.click("form[action='/admin/org/import'] button")
    summary = page.locator("#import-summary").inner_text()
    assert "共 62 行：新增 60 行，修改 1 行，不变 0 行，拒绝 1 行" in summary
    refused = page.locator("tr.plan-refused").inner_text()
    assert "坏镇" in refused and "层级应为" in refused
    assert "名称：白龙桥镇 → 白龙桥镇街道" in page.locator("tr.plan-change").inner_text()
    assert lf.organisation.regions(SYSTEM, "330702103") == []  # nothing written yet
    screenshot(page, "admin-org-import-preview")
    page.click("#import-apply button")
    page.wait_for_selector("#import-result:not([hidden])")
    assert page.locator("#import-progress progress").get_attribute("value") == "62"
    assert "已处理 62 / 62 行" in page.locator("#import-progress").inner_text()
    result = page.locator("#import-result").inner_text()
    assert "已导入 61 行" in result and "拒绝 1 行" in result and "坏镇" in result
    screenshot(page, "admin-org-import-done")
    assert len(lf.organisation.regions(SYSTEM, "330702103")) == 59
    names = {r["code"]: r["name"] for r in lf.organisation.regions(SYSTEM, "330702")}
    assert names["330702101"] == "白龙桥镇街道" and "330702105" not in names


def test_edit_a_calendar_day_and_import_a_notice(product_site, page, tmp_path, screenshot):
    url, lf = product_site
    sign_in(page, url, ADMIN)
    page.goto(f"{url}/admin/calendar?year=2026")
    page.click("a[data-day='2026-11-09']")
    assert page.locator("#day-date").input_value() == "2026-11-09"
    page.select_option("#day-kind", "holiday")
    page.fill("#day-name", "抗洪停工")
    page.click("#edit-day button")
    page.wait_for_url(re.compile(r"done=edited"))
    assert "holiday" in page.locator("a[data-day='2026-11-09'] >> xpath=..").get_attribute("class")
    history = page.locator("table.calendar-history tbody tr").first.inner_text()
    assert "2026-11-09：按周末规则 → 放假（抗洪停工）" in history and "管理员" in history
    assert lf.calendar.current().is_workday(date(2026, 11, 9)) is False

    page.goto(f"{url}/admin/calendar?year=2027")
    assert "暂定" in page.locator("h1").inner_text()
    notice = tmp_path / "2027.csv"
    notice.write_text("date,kind,name\n2027-01-01,holiday,元旦\n2027-02-07,workday,春节调休\n")
    page.set_input_files("#notice-file", str(notice))
    page.fill("#notice-source", "国务院办公厅关于2027年部分节假日安排的通知")
    page.click("form[action='/admin/calendar/import'] button")
    page.wait_for_url(re.compile(r"year=2027&done=imported"))
    assert "暂定" not in page.locator("h1").inner_text()
    assert "workday" in page.locator("a[data-day='2027-02-07'] >> xpath=..").get_attribute("class")
    assert "导入 2027 年放假安排" in page.locator("table.calendar-history").inner_text()
    screenshot(page, "admin-calendar-imported")


def test_edit_a_time_limit(product_site, page):
    url, lf = product_site
    sign_in(page, url, ADMIN)
    page.goto(f"{url}/admin/time-limits?process=collective_decision")
    row = page.locator("table.time-limits tr", has_text="村党组织提议")
    assert "10个工作日" in row.inner_text()
    row.locator("text=修改").click()
    page.fill("#tl-limit", "abc")
    page.click("#rule-form button[type=submit]")
    assert "时限应写作" in page.locator(".admin-error").inner_text()
    page.fill("#tl-limit", "12wd")
    page.fill("#tl-basis", "本地承诺时限：村党组织提议（调整）")
    page.click("#rule-form button[type=submit]")
    page.wait_for_url(re.compile(r"done=saved"))
    row = page.locator("table.time-limits tr", has_text="村党组织提议")
    assert "12个工作日" in row.inner_text() and "调整" in row.inner_text()
    [rule] = lf.sla.time_limits.list(SYSTEM, "collective_decision", "propose")
    assert rule["limit"] == "12wd" and rule["updated_by"] == "admin"


def test_retry_a_failed_job(product_site, page, clock, screenshot):
    url, lf = product_site
    broken = {"on": True}

    def report(session, job) -> None:
        if broken["on"]:
            raise RuntimeError("报表服务不可用")

    lf.jobs.handlers["report"] = report
    with lf.uow.write() as session:
        session.add(
            Job(
                kind="report",
                target="monthly",
                due_at=clock.now(),
                status="pending",
                attempts=0,
                payload={},
                created_at=clock.now(),
            )
        )
    for _ in range(5):
        lf.jobs.run_due()
        clock.advance(timedelta(hours=1))
    sign_in(page, url, ADMIN)
    page.goto(f"{url}/admin")
    assert page.locator("#card-jobs .figure").inner_text() == "1"
    page.click("#card-jobs")
    page.wait_for_url(re.compile(r"/admin/jobs\?group=failed"))
    row = page.locator("table.jobs tbody tr").first
    assert "报表服务不可用" in row.inner_text() and "5" in row.inner_text()
    assert "定期报告" in row.inner_text() and "生成月调度" in row.inner_text()
    assert "report" not in row.inner_text() and "monthly" not in row.inner_text()
    screenshot(page, "admin-jobs-failed")
    broken["on"] = False
    row.locator("text=重试").click()
    page.wait_for_url(re.compile(r"group=due"))
    assert "已重新排入队列" in page.locator(".admin-flash").inner_text()
    assert page.locator("#count-failed").inner_text() == "0"
    assert page.locator("#count-due").inner_text() == "1"
    assert lf.jobs.run_due() == 1
    page.reload()
    assert page.locator("#count-due").inner_text() == "0"

    # a calendar change schedules the dashboard's month roll-up: it reads in Chinese too
    lf.calendar.set_day(lf.auth.actor_for("admin"), clock.now().date(), "holiday", "测试")
    page.goto(f"{url}/admin/jobs?group=scheduled")
    row = page.locator("table.jobs tbody tr", has_text="看板汇总重算")
    assert "按当前工作日历重算看板的月度汇总" in row.inner_text()
    assert "rollup" not in row.inner_text() and "months" not in row.inner_text()
    screenshot(page, "admin-jobs-scheduled")


def test_deploy_a_broken_then_a_good_file(product_site, page, tmp_path, screenshot):
    url, _ = product_site
    good = linear_process("console_demo", script("total = 1")).replace(
        b'isExecutable="true"', 'name="控制台测试流程" isExecutable="true"'.encode()
    )
    broken = tmp_path / "console_demo.bpmn"
    broken.write_bytes(good.replace(b'targetRef="end"', b'targetRef="nowhere"'))
    sign_in(page, url, ADMIN)
    page.goto(f"{url}/admin/definitions")
    page.set_input_files("#deploy-files", str(broken))
    page.click("form[action='/admin/definitions/deploy'] button")
    assert "未部署" in page.locator("#deploy-problems").inner_text()
    problem = page.locator("table.problems tbody tr").first.inner_text()
    assert "console_demo.bpmn" in problem and "第 8 行" in problem and "nowhere" in problem
    assert "→   8" in page.locator("table.problems pre").inner_text()
    screenshot(page, "admin-definitions-invalid")
    assert "控制台测试流程" not in page.locator("main").inner_text().split("上传部署")[0]

    fixed = tmp_path / "fixed" / "console_demo.bpmn"
    fixed.parent.mkdir()
    fixed.write_bytes(good)
    page.set_input_files("#deploy-files", str(fixed))
    page.click("form[action='/admin/definitions/deploy'] button")
    page.wait_for_url(re.compile(r"created=console_demo:1"))
    assert "部署成功：控制台测试流程 第 1 版" in page.locator(".admin-flash").inner_text()
    section = page.locator("section.process", has_text="控制台测试流程")
    assert "第 1 版" in section.inner_text() and "管理页面上传" in section.inner_text()
    assert section.locator("a[href='/modeler?process=console_demo']").count() == 1


@pytest.mark.parametrize("path", ["/admin/org/users/zrzy.330702/deactivate", "/admin/jobs/1/retry"])
def test_a_clerk_cannot_post_to_the_console(product_site, page, path):
    url, _ = product_site
    sign_in(page, url, CLERK)
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(f"{url}{path}", form={"csrf_token": csrf})
    assert response.status == 403


def test_register_and_end_a_stand_in(product_site, page, clock):
    url, lf = product_site
    sign_in(page, url, ADMIN)
    page.goto(f"{url}/admin/org?tab=substitutions")
    page.fill("#sub-absent", "zrzy.330702")
    page.fill("#sub-substitute", "nosuchuser")
    page.fill("#sub-starts", "2026-10-26")
    page.fill("#sub-ends", "2026-11-20")
    page.fill("#sub-reason", "休假")
    page.click("form[action='/admin/org/substitutions'] button")
    assert "用户不存在：nosuchuser" in page.locator(".admin-error").inner_text()
    assert page.locator("#sub-absent").input_value() == "zrzy.330702"  # kept for correcting
    page.fill("#sub-substitute", "fgw.330702")
    page.click("form[action='/admin/org/substitutions'] button")
    page.wait_for_url(re.compile(r"done=substitution_added"))
    row = page.locator("table.substitutions tbody tr").first
    assert "婺城区自然资源和规划局" in row.inner_text() and "代理中" in row.inner_text()
    assert "zrzy.330702" in lf.auth.actor_for("fgw.330702").stands_in_for
    row.locator("text=结束代理").click()
    page.wait_for_url(re.compile(r"done=substitution_ended"))
    ended = page.locator("table.substitutions tbody tr").first.inner_text()
    assert "已结束" in ended and "2026-10-26 至 2026-11-01" in ended  # no longer counts today
    assert lf.auth.actor_for("fgw.330702").stands_in_for == frozenset()


def test_create_a_department_in_a_region(product_site, page):
    url, lf = product_site
    sign_in(page, url, ADMIN)
    page.goto(f"{url}/admin/org?tab=regions&depth=province")
    assert page.locator(".region-tree details[open]").count() == 0  # only the provinces shown
    page.click("text=展开到： >> xpath=.. >> text=乡镇（街道）")
    page.click(".region-tree >> text=白龙桥镇")
    assert "金华市婺城区白龙桥镇的部门" in page.locator("#depts-title").inner_text()
    page.select_option("#new-dept-type", "sl")
    page.click("form[action='/admin/org/departments'] button")
    page.wait_for_url(re.compile(r"done=department"))
    assert "部门已保存" in page.locator(".admin-flash").inner_text()
    assert "白龙桥镇水利局" in page.locator("table.departments").inner_text()
    assert any(d["code"] == "sl.330702101" for d in lf.organisation.departments(SYSTEM))


def test_search_the_audit_log(product_site, page):
    url, lf = product_site
    case = start_decision(lf)
    party = lf.auth.actor_for("dzz.330702101201")
    [task] = [t for t in lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open"]
    lf.tasks.claim(party, task["id"])
    start_decision(lf)
    sign_in(page, url, ADMIN)
    page.goto(f"{url}/admin/audit")
    assert "共 5 条" in page.locator("main").inner_text()
    page.fill("#audit-case", case["case_no"])
    page.select_option("#audit-action", "task_claimed")
    page.click("form[action='/admin/audit'] button")
    rows = page.locator("table.audit tbody tr")
    assert rows.count() == 1
    assert "认领" in rows.first.inner_text() and "古方村村党组织" in rows.first.inner_text()
    page.fill("#audit-case", "")
    page.select_option("#audit-action", "")
    page.fill("#audit-user", "dzz.330702101201")
    page.click("form[action='/admin/audit'] button")
    assert page.locator("table.audit tbody tr").count() == 1
