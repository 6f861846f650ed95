"""Notifications in a real browser: the header count, the notification centre (Chinese titles,
查看 marks read and opens the task, 全部标为已读), the settings page (field errors in place, then
saved), and the admins' delivery log (replay) and robot settings. Screenshots:
notifications.png, notification-settings.png, admin-deliveries.png, admin-endpoints.png."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.db.notify_tables import Delivery
from engine.db.tables import User
from engine.services.notify.preferences import PreferenceChange
from tests.browser.test_inbox_pages import CLERK, CODES, navigate, signed_in, two_cases


def bell(page) -> int:
    count = page.locator(".bell .count")
    return int(count.inner_text()) if count.count() else 0


def test_the_header_counts_and_the_centre_marks_read(browser, product_site, screenshot):
    url, lf = product_site
    two_cases(lf)
    context, page = signed_in(browser, url, CLERK)
    unread = bell(page)
    assert unread == 2  # two new 入市 applications reached the department's queue

    page.click(".bell")
    page.wait_for_url(f"{url}/notifications")
    items = page.locator(".notice-item")
    assert items.count() == 2
    text = page.locator("main").inner_text()
    assert "新事项进入本部门待认领" in text and "入市条件及负面清单审查" in text
    assert not CODES.search(text)
    screenshot(page, "notifications")

    with page.expect_navigation():
        items.first.locator("button", has_text="查看").click()
    assert re.search(r"/tasks/[0-9a-f-]+$", page.url)
    assert bell(page) == 1

    page.goto(f"{url}/notifications?show=unread")
    assert page.locator(".notice-item").count() == 1
    navigate(page, "全部标为已读")
    assert bell(page) == 0
    assert page.locator(".notice-item.unread").count() == 0
    context.close()


def test_settings_show_errors_in_place_and_save(browser, product_site, screenshot):
    url, lf = product_site
    context, page = signed_in(browser, url, CLERK)
    page.goto(f"{url}/notifications/settings")
    assert page.locator("h1").inner_text() == "通知设置"
    page.fill("#email", "wrong")
    page.fill("#phone", "123")
    page.fill("#quiet_start", "22:00")
    navigate(page, "保存设置")
    assert page.locator(".field.invalid").count() == 3  # email, phone, quiet_end
    assert "手机号码应为 11 位数字" in page.locator(".field.invalid").nth(1).inner_text()
    assert page.locator("#quiet_start").input_value() == "22:00"  # nothing typed is lost

    page.fill("#email", "zrzy@example.gov.cn")
    page.fill("#phone", "13800000000")
    page.fill("#quiet_end", "07:30")
    page.uncheck("input[name='ch.task_queued.email']") if page.locator(
        "input[name='ch.task_queued.email']"
    ).is_checked() else page.check("input[name='ch.task_queued.email']")
    navigate(page, "保存设置")
    assert "通知设置已保存" in page.locator("main").inner_text()
    assert not CODES.search(page.locator("main").inner_text())
    screenshot(page, "notification-settings")
    with lf.uow.read() as session:
        user = session.scalar(select(User).where(User.username == CLERK))
        assert (user.email, user.phone) == ("zrzy@example.gov.cn", "13800000000")
    context.close()


def test_admins_read_the_delivery_log_replay_and_set_up_robots(browser, product_site, screenshot):
    url, lf = product_site
    clerk_actor = lf.auth.actor_for(CLERK)
    prefs = lf.preferences.get(clerk_actor)
    channels = {e["code"]: dict(e["channels"]) for e in prefs["events"]}
    channels["task_queued"]["email"] = True
    lf.preferences.update(
        clerk_actor,
        PreferenceChange(channels, "zrzy@example.gov.cn", None, None, None, False, "08:30"),
    )
    two_cases(lf)  # no SMTP host here: each mail attempt fails and waits
    lf.deliveries.run_due()
    failing = [d for d in _deliveries(lf) if d.channel == "email"]
    assert failing and all(d.status == "retrying" for d in failing)

    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin-pass")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.click(".main-nav >> text=系统管理")
    page.click(".admin-nav >> text=消息发送")
    page.wait_for_url(f"{url}/admin/deliveries")
    table = page.locator("table.deliveries tbody tr")
    assert table.count() == len(failing)
    first = table.first.inner_text()
    assert "电子邮件" in first and "重试中" in first and "zrzy@example.gov.cn" in first
    screenshot(page, "admin-deliveries")

    page.check(f"input[name=ids][value='{failing[0].id}']")
    navigate(page, "重新发送所选")
    assert {d.status for d in _deliveries(lf) if d.id == failing[0].id} == {"pending"}

    page.click("text=详情 >> nth=0")
    page.wait_for_url(re.compile(r"/admin/deliveries/\d+$"))
    assert "发送尝试" in page.locator("main").inner_text()

    page.goto(f"{url}/admin/notification-endpoints")
    page.select_option("#ep-department", label="婺城区自然资源和规划局")
    page.select_option("#ep-kind", label="钉钉/浙政钉机器人")
    page.fill("#ep-name", "婺城区自然资源局工作群")
    page.fill("#ep-url", "ftp://wrong")
    navigate(page, "保存")
    assert "地址应以 https:// 或 http:// 开头" in page.locator(".field.invalid").inner_text()
    page.fill("#ep-url", "https://oapi.dingtalk.com/robot/send?access_token=abcdef123456")
    page.fill("#ep-secret", "SECsecret")
    navigate(page, "保存")
    row = page.locator("table.endpoints tbody tr").first.inner_text()
    assert "婺城区自然资源局工作群" in row and "已设置" in row and "abcdef123456" not in row
    screenshot(page, "admin-endpoints")
    context.close()

    clerk_context, clerk = signed_in(browser, url, CLERK)
    assert "系统管理" not in clerk.locator(".main-nav").inner_text()
    response = clerk.goto(f"{url}/admin/deliveries")
    assert response.status in (403, 404)
    clerk_context.close()


def _deliveries(lf) -> list[Delivery]:
    with lf.uow.read() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))
