"""The leadership-group office's dispatch pages in real Chromium: 金华市's office (ldxz.330700)
opens 调度看板 from the header, the ECharts charts (served by the project) draw, the red count
opens the list of red cases and a case from it; the process heatmap colours the diagram; a
clerk finds no such page. Screenshots dispatch.png and heatmap.png at 1366×768."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.services.actor import SYSTEM
from tests.browser.test_form_pages import signed_in
from tests.conftest import PROJECT
from tests.integration.test_dashboard import GUFANG, NOW, seed_known_month

ECHARTS = PROJECT / "engine/web/static/vendor/echarts/echarts.min.js"
PAINTED = """(selector) => {
  const canvas = document.querySelector(selector + ' canvas');
  if (!canvas || !canvas.width || !canvas.height) { return 0; }
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { painted += 1; } }
  return painted;
}"""


@pytest.fixture(autouse=True)
def browser_assets_built():
    if not ECHARTS.is_file():
        pytest.fail("the browser assets are not built: run `make install` (npm ci + npm run build)")


@pytest.fixture
def dispatch_site(product_site, clock):
    """The seeded month of 金华市, plus a real 四议两公开 case whose proposal is a week late
    (red, with the ladder's 督办)."""
    url, lf = product_site
    clock.set(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    late = lf.instances.start(
        SYSTEM,
        "collective_decision",
        GUFANG,
        "JC-LATE-1",
        {"matter": "入市方案", "deciding_body": "村民代表会议"},
    )
    clock.set(NOW)
    lf.jobs.run_due()
    lf.dispatch.seed_targets(PROJECT / "processes" / "demo" / "dispatch_targets.csv")
    seed_known_month(lf)
    return url, lf, lf.instances.get(SYSTEM, late["id"])


def test_the_city_office_reads_the_dashboard_and_drills_down_to_a_red_case(
    browser, dispatch_site, screenshot
):
    url, lf, late = dispatch_site
    assert next(t for t in late["tasks"] if t["state"] == "open")["sla_state"] == "red"
    context, page = signed_in(browser, url, "ldxz.330700")
    page.click("nav.main-nav >> text=调度看板")
    page.wait_for_url(f"{url}/dispatch")
    for chart in ("#chart-areas", "#chart-processes", "#chart-steps", "#chart-indicators"):
        page.wait_for_selector(f"{chart}[data-rendered=true]")
        assert page.evaluate(PAINTED, chart) > 500, chart
    head = page.locator(".dispatch-head").inner_text()
    assert "调度看板" in head and "金华市" in head and "2026-11-01 至 2026-11-20" in head
    totals = lf.dispatch.dashboard(lf.auth.actor_for("ldxz.330700"))["totals"]
    assert totals["red"] == 2  # the seeded one and the real late proposal
    kpis = page.locator(".kpis").inner_text()
    assert "红灯环节\n2" in kpis and f"在办办件\n{totals['active_cases']}" in kpis
    areas = page.locator("#areas-title + div + .table-scroll").inner_text()
    assert "婺城区" in areas and "义乌市" in areas and "黄岩区" not in areas
    assert "新增耕地" in page.locator("#indicators-title ~ table").inner_text()
    screenshot(page, "dispatch")

    page.click("a.kpi-red")
    page.wait_for_url("**/dispatch/cases?**")
    heading = page.locator("h1").inner_text()
    assert "红灯" in heading and "共 2 件" in heading
    rows = page.locator("table.case-list tbody tr")
    assert rows.count() == 2
    screenshot(page, "dispatch-cases")
    page.click(f"text={late['case_no']}")
    page.wait_for_url(f"{url}/cases/{late['id']}")
    assert late["case_no"] in page.locator(".case-overview").inner_text()
    context.close()


def test_the_heatmap_colours_the_steps_of_a_process(browser, dispatch_site, screenshot):
    url, _, _ = dispatch_site
    context, page = signed_in(browser, url, "ldxz.330700")
    page.goto(
        f"{url}/dispatch/heatmap?process=joint_review_entry&since=2026-11-01&until=2026-11-30"
    )
    page.wait_for_selector("#heatmap[data-rendered=true]")
    precheck = page.locator('#heatmap g.djs-element[data-element-id="precheck"]')
    assert "lf-heat-4" in precheck.get_attribute("class")  # two of three finished late
    apply = page.locator('#heatmap g.djs-element[data-element-id="apply"]')
    assert "lf-heat-1" in apply.get_attribute("class")  # none late
    assert page.locator(".heat-badge").count() == 3  # the steps with figures
    assert "超期66.7%" in page.locator("#heatmap").inner_text().replace(" ", "")
    assert page.locator("#heat-legend li").count() == 5
    screenshot(page, "heatmap")
    page.check("input[name=heat-mode][value=avg]")
    assert "lf-heat-4" in precheck.get_attribute("class")  # the slowest step of the process
    context.close()


def test_a_clerk_has_no_dashboard(browser, dispatch_site):
    url, _, _ = dispatch_site
    context, page = signed_in(browser, url, "zrzy.330702")
    assert page.locator("nav.main-nav >> text=调度看板").count() == 0
    response = page.goto(f"{url}/dispatch")
    assert response.status == 404
    assert page.goto(f"{url}/dispatch/heatmap").status == 404
    context.close()


def test_the_city_office_sets_a_county_target_on_the_page(browser, dispatch_site):
    url, lf, _ = dispatch_site
    context, page = signed_in(browser, url, "ldxz.330700")
    page.goto(f"{url}/dispatch")
    page.click("text=年度目标")
    page.wait_for_url("**/dispatch/targets?**")
    assert page.locator("#target_new_farmland").input_value() == "45000"  # the demo's figure
    page.select_option("#tg-region", "330702")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**region=330702**")
    page.fill("#target_new_farmland", "8000")
    page.fill("input[name=basis_new_farmland]", "婺城区分解任务")
    page.fill("#target_entry_parcels", "十二")
    page.click("#targets-form button[type=submit]")
    assert "集体经营性建设用地入市：请填写数字" in page.locator(".error").inner_text()
    page.fill("#target_entry_parcels", "12")
    page.click("#targets-form button[type=submit]")
    page.wait_for_selector(".flash")
    assert page.locator("#target_new_farmland").input_value() == "8000"
    county = lf.auth.actor_for("ldxz.330702")
    targets = {t["indicator"]: t for t in lf.dispatch.targets(county, 2026)["items"]}
    assert (targets["new_farmland"]["target"], targets["new_farmland"]["basis"]) == (
        8000.0,
        "婺城区分解任务",
    )
    assert (targets["entry_parcels"]["target"], targets["entry_parcels"]["updated_by"]) == (
        12.0,
        "ldxz.330700",
    )
    context.close()
