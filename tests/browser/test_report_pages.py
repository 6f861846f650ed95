"""The dispatch reports in real Chromium: 金华市's office (ldxz.330700) issues the month's
dispatch (月调度) from /reports, reads it with its rankings and its ECharts bar chart, and
downloads the workbook; a clerk finds no such page. Screenshot report.png at 1366×768."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.browser.test_dispatch_pages import PAINTED, browser_assets_built  # noqa: F401
from tests.browser.test_form_pages import signed_in
from tests.conftest import PROJECT
from tests.integration.test_dashboard import NOW, seed_known_month


def test_the_city_office_issues_and_reads_the_monthly_dispatch(browser, product_site, screenshot):
    url, lf = product_site
    lf.clock.set(NOW)
    lf.dispatch.seed_targets(PROJECT / "processes" / "demo" / "dispatch_targets.csv")
    seed_known_month(lf)
    context, page = signed_in(browser, url, "ldxz.330700")
    page.goto(f"{url}/reports")
    assert "暂无报告" in page.locator("#report-list").inner_text()
    page.select_option("#issue-kind", "monthly")
    page.fill("#issue-since", "2026-11-01")
    page.fill("#issue-until", "2026-11-30")
    page.click("text=生成并印发")
    page.wait_for_url(f"{url}/reports/*")
    page.wait_for_selector("#report-chart[data-rendered=true]")
    assert page.evaluate(PAINTED, "#report-chart") > 500
    assert page.locator("h1").inner_text() == "金华市2026年11月月调度"
    body = page.locator("article.report").inner_text()
    assert "版本：v1" in body and "77.78%" in body and "各地排名（晾晒）" in body
    ranking = page.locator("section:has(h2:text-is('各地排名（晾晒）'))")
    assert "本期没有到期的督办单" in ranking.inner_text()  # no reply was due: not ranked
    cells = ranking.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells == ["婺城区", "83.33%", "1", "3.3", "1", "1", "1"]
    second = ranking.locator("tbody tr").nth(1).locator("td").all_inner_texts()
    assert second == ["义乌市", "66.67%", "2", "5.3", "2", "1", "1"]  # tied on late finishes
    screenshot(page, "report")

    with page.expect_download() as download:
        page.click("text=下载 Excel")
    assert download.value.suggested_filename == "金华市2026年11月月调度-v1.xlsx"
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book["总体情况"]["G2"].value == 0.7778

    page.goto(f"{url}/reports")
    assert "金华市2026年11月月调度" in page.locator("#report-list").inner_text()
    context.close()

    context, page = signed_in(browser, url, "zrzy.330702")
    assert page.goto(f"{url}/reports").status == 404
    context.close()
