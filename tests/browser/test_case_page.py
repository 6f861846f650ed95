"""The case page and the 审批表 in real Chromium on a real 入市 case: bpmn-js (served by the
project) draws the case's diagram with done / active markers and the department at the open
step, the timeline reads in Chinese with names, and no code is visible; the 审批表 prints on A4
with only the form. The API documentation works offline for admins and does not exist for
clerks. Screenshots at 1366×768 (and a tablet) go to test-output/screenshots/."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_form_pages import signed_in
from tests.conftest import PROJECT
from tests.integration.test_approval_form_pdf import (
    FGW_COMMENT,
    SUPPLEMENT_REASON,
    walk_to_revision,
)

CODES = re.compile(r"zrzy\.|applicant\.|task_completed|task_created|sla_suspended|joint_review")
TABLET = {"width": 820, "height": 1180}


VIEWER = PROJECT / "engine/web/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"


@pytest.fixture(autouse=True)
def browser_assets_built():
    if not VIEWER.is_file():
        pytest.fail("the browser assets are not built: run `make install` (npm ci + npm run build)")


def element(page, element_id: str):
    return page.locator(f'#case-diagram g.djs-element[data-element-id="{element_id}"]')


def test_the_case_page_draws_the_diagram_and_reads_in_chinese(browser, product_site, screenshot):
    url, lf = product_site
    case = walk_to_revision(lf)
    context, page = signed_in(browser, url, "zrzy.330702")
    page.goto(f"{url}/cases/{case.id}")
    page.wait_for_selector("#case-diagram[data-rendered=true]")

    assert page.locator("#case-diagram svg").count() >= 1
    # the plan, done once and open again after the review asked for a change: active
    assert "lf-active" in element(page, "draft_plan").get_attribute("class")
    for done in ("apply", "precheck", "joint_review", "call_entry_decision"):
        assert "lf-done" in element(page, done).get_attribute("class"), done
    assert element(page, "announce").count() == 1
    assert "lf-" not in element(page, "announce").get_attribute("class")  # not reached
    applicant = lf.names.department("applicant.330702101201")
    assert page.locator(".lf-dept").all_inner_texts() == [applicant]

    head = page.locator(".case-overview").inner_text()
    assert case.case["case_no"] in head and "古方村 12.5亩 工业用地入市" in head
    assert "集体经营性建设用地入市联审" in head and "金华市婺城区白龙桥镇古方村" in head
    assert "办理中" in head and "编制入市方案" in head  # status and the current step

    timeline = page.locator(".timeline").inner_text()
    assert "办理完成" in timeline and "中止计时" in timeline and "恢复计时" in timeline
    assert "婺城区自然资源和规划局" in timeline and "婺城区发展和改革委员会" in timeline
    assert f"有修改意见：{FGW_COMMENT}" in timeline
    assert "需补正：土地权属证明清晰扫描件" in timeline

    clocks = page.locator("#clocks-title + *").locator("xpath=..").inner_text()
    assert SUPPLEMENT_REASON in clocks and "补正材料" in clocks and "恢复" in clocks
    called = page.locator("section.called").inner_text()
    assert "入市方案集体决策" in called and "已结束：决议生效" in called
    assert "同意提交党员大会审议" in called
    data = page.locator("#data-title").locator("xpath=..").inner_text()
    assert "宗地面积" in data and "12.5 亩" in data

    text = page.locator("body").inner_text()
    assert not CODES.search(text), CODES.search(text)
    assert not re.search(r"\b(true|false|null|None)\b", text)
    screenshot(page, "case", full_page=False)
    screenshot(page, "case_full")
    page.set_viewport_size(TABLET)
    page.reload()
    page.wait_for_selector("#case-diagram[data-rendered=true]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "case-tablet.png"))
    context.close()


def test_the_approval_form_prints_on_a4(browser, product_site, screenshot):
    url, lf = product_site
    case = walk_to_revision(lf)
    context, page = signed_in(browser, url, "fgw.330702")
    page.goto(f"{url}/cases/{case.id}")
    page.click("text=查看、打印审批表")
    page.wait_for_url(f"{url}/cases/{case.id}/approval-form")
    assert page.locator("h1").inner_text() == "集体经营性建设用地入市联审审批表"
    header = page.locator("table.header").inner_text()
    assert case.case["case_no"] in header and "古方村股份经济合作社" in header
    steps = page.locator("table.steps tbody tr")
    done = [t for t in case.refresh()["tasks"] if t["state"] == "done"]
    assert steps.count() == len(done)
    assert f"有修改意见：{FGW_COMMENT}" in page.locator("table.steps").inner_text()
    assert page.locator("button.print-form").is_visible()
    assert not CODES.search(page.locator("body").inner_text())
    screenshot(page, "approval-form", full_page=False)
    screenshot(page, "approval-form_full")

    page.emulate_media(media="print")
    assert page.locator(".topbar").is_hidden() and page.locator(".form-toolbar").is_hidden()
    assert page.locator(".sheet").is_visible()
    pdf = page.pdf(format="A4")  # what the browser's print produces
    assert pdf.startswith(b"%PDF")
    with page.expect_download() as download:
        page.emulate_media(media="screen")
        page.click("text=下载 PDF")
    assert download.value.suggested_filename.endswith("审批表.pdf")
    context.close()


def test_the_api_docs_work_offline_for_admins_only(browser, site, page, screenshot):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname))
    page.goto(f"{site}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin-pass")
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site}/docs")
    document = page.request.get(f"{site}/openapi.json").json()
    operations = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    }
    assert len(operations) > 100
    # every operation is in the page at once (Swagger UI would draw a list this long
    # virtualized: only what is near the viewport), so the browser's find reaches each one
    page.locator(".opblock").nth(len(operations) - 1).wait_for(state="attached", timeout=30000)
    drawn = page.eval_on_selector_all(
        ".opblock",
        "blocks => blocks.map(b => [b.querySelector('.opblock-summary-method').textContent"
        ".toLowerCase(), b.querySelector('.opblock-summary-path').dataset.path])",
    )
    assert len(drawn) == len(operations)
    assert {tuple(pair) for pair in drawn} == operations
    assert page.locator(".opblock-tag").count() == len(
        {tag for item in document["paths"].values() for op in item.values() for tag in op["tags"]}
    )
    assert "/api/v1/instances/{instance_id}/diagram" in page.locator("#swagger-ui").inner_text()
    assert errors == []
    screenshot(page, "api-docs", full_page=False)
    # "Try it out" acts as the signed-in administrator: the session cookie for reads, and the
    # CSRF header on writes (without it a write would be 401)
    assert try_out(page, "get", "/api/v1/me") == "200"
    assert "管理员" in page.locator(".live-responses-table").first.inner_text()
    assert try_out(page, "post", "/api/v1/admin/clock") == "403"  # signed in; override is off
    assert hosts == {"127.0.0.1"}, hosts

    context = page.context.browser.new_context(locale="zh-CN")
    clerk = context.new_page()
    clerk.goto(f"{site}/login")
    clerk.fill("input[name=username]", "alice")
    clerk.fill("input[name=password]", "alice-pass")
    clerk.click("button[type=submit]")
    clerk.wait_for_url(f"{site}/")
    response = clerk.goto(f"{site}/docs")
    assert response.status == 404
    assert "页面不存在" in clerk.locator("main").inner_text()
    assert clerk.locator("#swagger-ui").count() == 0
    context.close()


def try_out(page, method: str, path: str) -> str:
    """Run one operation from Swagger UI as it is; the status code of the live response."""
    operation = page.locator(f".opblock-{method}").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]')
    )
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    return status.inner_text().split()[0]
