"""年度抽查 in a real browser, as 金华市's leadership-group office: the year's candidates and the
share to draw, a draw with a chosen seed, the record with its re-run and the check cases, the
refused second draw, and a clerk kept out. Screenshots: spot-checks.png,
spot-check-draw.png, spot-check-case.png."""

from __future__ import annotations

import random
import re

from tests.browser.test_inbox_pages import CODES, signed_in
from tests.spot_check_projects import accepted_project

OFFICE = "ldxz.330700"  # 金华市领导小组办公室
PROJECTS = [
    ("330702101", "WC-ZZ-2026-001", "白龙桥镇全域土地综合整治项目"),
    ("330702102", "WC-ZZ-2026-002", "汤溪镇全域土地综合整治项目"),
    ("330782101", "YW-ZZ-2026-001", "佛堂镇全域土地综合整治项目"),
    ("330782102", "YW-ZZ-2026-002", "苏溪镇全域土地综合整治项目"),
    ("330702101", "WC-ZZ-2026-003", "白龙桥镇高标准农田提升项目"),
]
SEED = 20261102


def submit(page, label: str) -> None:
    with page.expect_navigation():
        page.locator("form.spot-draw button", has_text=label).click()


def test_the_office_draws_and_reads_the_record(browser, product_site, screenshot):
    url, lf = product_site
    cases = [accepted_project(lf, *spec) for spec in PROJECTS]
    accepted_project(lf, "331003101", "HY-ZZ-2026-001", "院桥镇全域土地综合整治项目")  # 台州市
    context, page = signed_in(browser, url, OFFICE)

    page.goto(f"{url}/dispatch/spot-checks")
    assert page.locator("h1").inner_text() == "土地综合整治项目年度抽查"
    assert page.locator("#candidate-count").inner_text() == "5"  # 台州市's is not a candidate
    assert page.locator("#required-count").inner_text() == "2"  # 40 % of 5, rounded up
    page.click("text=候选项目（5 个")
    listed = page.locator(".spot-candidates tbody tr").all_inner_texts()
    assert [row.split("\t")[1] for row in listed] == sorted(c["case_no"] for c in cases)
    page.fill("#sc-seed", str(SEED))
    screenshot(page, "spot-checks")
    submit(page, "随机抽取")

    assert re.search(r"/dispatch/spot-checks/\d+$", page.url)
    assert page.locator("#seed").inner_text() == str(SEED)
    assert "复核一致" in page.locator("#verification").inner_text()
    ordered = sorted(cases, key=lambda c: c["case_no"])
    expected = [ordered[i]["case_no"] for i in sorted(random.Random(SEED).sample(range(5), 2))]
    drawn = page.locator(".spot-drawn tbody tr")
    assert drawn.count() == 2
    assert [row.split("\t")[0] for row in drawn.all_inner_texts()] == expected
    assert all("待核查" in row for row in drawn.all_inner_texts())
    text = page.locator("main").inner_text()
    assert "2026年度 金华市市级抽查" in text and not CODES.search(text)
    page.click("text=全部候选项目")
    screenshot(page, "spot-check-draw")

    with page.expect_navigation():
        drawn.first.locator("td").nth(4).locator("a").click()  # the check case
    case_text = page.locator("main").inner_text()
    assert "抽查核实" in case_text and f"随机种子 {SEED}" in case_text
    screenshot(page, "spot-check-case")

    page.goto(f"{url}/dispatch/spot-checks")
    page.fill("#sc-seed", "1")
    page.uncheck("input[name=supplementary]")  # a second draw of the year, not a supplement
    submit(page, "补充抽取")
    assert "不能重复抽取" in page.locator("[role=alert]").inner_text()
    assert page.locator(".spot-draws tbody tr").count() == 1
    context.close()

    clerk_context, clerk = signed_in(browser, url, "zrzy.330702")
    clerk.goto(f"{url}/dispatch/spot-checks")
    assert "无权操作" in clerk.locator("h1").inner_text()
    clerk_context.close()
