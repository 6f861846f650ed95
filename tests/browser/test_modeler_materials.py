"""所需材料 edited in the modeler's property panel (Chromium): the administrator takes over
提出入市申请's list from processes/materials.csv, renames a material, makes one required and
one optional, removes one, adds one (a duplicate name is refused in place), saves a draft and
deploys; a new case's task page then asks for exactly that list, while a case started before
keeps the file's. Screenshots: modeler-materials.png, task-materials-from-diagram.png."""

from __future__ import annotations

from tests.browser.modeler_support import open_modeler, run, signed_in, wait_text
from tests.browser.test_attachments_page import row
from tests.browser.test_modeler_pages import modeler_site  # noqa: F401 (fixture)
from tests.conftest import VILLAGE
from tests.scenarios.harness import Scenario
from tests.scenarios.test_joint_review_entry import START

PROCESS = "joint_review_entry"
CSV_LIST = ["入市申请书", "土地权属证明", "宗地图", "入市主体资格证明", "现状照片"]
EDITED = ["入市申请书", "土地权属证明", "宗地界址图", "现状照片", "村民代表会议决议"]
ADMIN = ("admin", "admin-pass")
APPLICANT = "applicant.330702101201"
PANEL = "#modeler-panel"


def material_row(page, name: str):
    return page.locator(f'{PANEL} .pf-materials-table tr[data-material="{name}"]')


def panel_names(page) -> list[str]:
    return page.eval_on_selector_all(
        f"{PANEL} .pf-materials-table input[data-field=material-name]",
        "inputs => inputs.map(i => i.value)",
    )


def start(lf, key: str) -> Scenario:
    lf.clock.set(START)
    return Scenario(lf, PROCESS, VILLAGE, business_key=key)


def test_materials_are_edited_in_the_panel_and_the_task_page_asks_for_them(
    browser,
    modeler_site,  # noqa: F811
    screenshot,
):
    url, lf = modeler_site
    before = start(lf, "婺城-入市-材料-001")
    with signed_in(browser, url, *ADMIN) as page:
        open_modeler(page, url, PROCESS)
        run(page, "(m) => m.get('selection').select(m.get('elementRegistry').get('apply'))")
        box = page.locator(f"{PANEL} [data-field=materials]")
        box.scroll_into_view_if_needed()
        assert "当前使用 processes/materials.csv" in box.inner_text()
        assert "宗地图（必交）" in box.inner_text() and "现状照片（可选）" in box.inner_text()
        box.get_by_role("button", name="在图中编辑材料清单").click()
        assert panel_names(page) == [
            "入市申请书",
            "土地权属证明",
            "宗地图",
            "入市主体资格证明",
            "现状照片",
        ]

        name = material_row(page, "宗地图").locator("input[data-field=material-name]")
        name.fill("宗地界址图")
        name.press("Tab")
        page.wait_for_selector(f'{PANEL} tr[data-material="宗地界址图"]')
        material_row(page, "现状照片").locator("input[data-field=material-required]").check()
        material_row(page, "土地权属证明").locator("input[data-field=material-required]").uncheck()
        material_row(page, "入市主体资格证明").get_by_role("button", name="删除").click()
        note = material_row(page, "现状照片").locator("input[data-field=material-note]")
        note.fill("四至现场照片各一张")
        note.press("Tab")
        adding = page.locator(f"{PANEL} input[data-field=new-material]")
        adding.fill("土地权属证明")  # already listed: refused in place
        page.locator(f"{PANEL} button:has-text('添加材料')").click()
        wait_text(page, f"{PANEL} .pf-materials-editor .pf-status", "材料“土地权属证明”已在清单中")
        adding.fill("村民代表会议决议")
        page.locator(f"{PANEL} input[data-field=new-material-required]").check()
        page.locator(f"{PANEL} button:has-text('添加材料')").click()
        page.wait_for_selector(f'{PANEL} tr[data-material="村民代表会议决议"]')
        assert panel_names(page) == [
            "入市申请书",
            "土地权属证明",
            "宗地界址图",
            "现状照片",
            "村民代表会议决议",
        ]
        page.locator(f"{PANEL} [data-field=materials]").scroll_into_view_if_needed()
        screenshot(page, "modeler-materials", full_page=False)

        # undo takes back the last change, redo restores it (one command each)
        run(page, "(m) => m.get('commandStack').undo()")
        assert "村民代表会议决议" not in panel_names(page)
        run(page, "(m) => m.get('commandStack').redo()")
        run(page, "(m) => m.get('selection').select(m.get('elementRegistry').get('apply'))")
        assert panel_names(page)[-1] == "村民代表会议决议"

        page.click("#btn-save")
        wait_text(page, "#modeler-state", "已保存")
        page.click("#btn-validate")
        wait_text(page, "#problems-title", "校验通过")
        page.click("#btn-deploy")
        page.fill("#deploy-note", "调整入市申请材料")
        page.click("#deploy-confirm")
        wait_text(page, "#modeler-state", "已部署为版本 2")

    draft = lf.modeler.drafts.list(lf.auth.actor_for("admin"), PROCESS)[0]
    xml = lf.modeler.drafts.get(lf.auth.actor_for("admin"), draft["id"])["xml"]
    assert 'name="materials"' in xml and draft["deployed_at"]
    expected = [
        ("入市申请书", True),
        ("土地权属证明", False),
        ("宗地界址图", True),
        ("现状照片", True),
        ("村民代表会议决议", True),
    ]
    after = start(lf, "婺城-入市-材料-002")
    assert after.case["version"] == 2
    with signed_in(browser, url, APPLICANT, "demo") as page:
        page.goto(f"{url}/tasks/{after.task('apply')['id']}")
        listed = page.eval_on_selector_all(
            "#attachments tr.att-item", "rows => rows.map(r => r.dataset.material)"
        )
        assert listed == [name for name, _ in expected]
        for name, required in expected:
            mark = row(page, name).locator(".att-mark").inner_text()
            assert mark == ("缺" if required else "选交"), name
        assert "四至现场照片各一张" in row(page, "现状照片").inner_text()
        screenshot(page, "task-materials-from-diagram")
        page.goto(f"{url}/tasks/{before.task('apply')['id']}")  # version 1: the file's list
        old = page.eval_on_selector_all(
            "#attachments tr.att-item", "rows => rows.map(r => r.dataset.material)"
        )
        assert old == CSV_LIST
