"""The 材料清单 on the task page in real Chromium, on the product's 入市 process: the applicant
uploads a PDF and an image, the checklist turns from 缺 to ✓, the PDF and the image preview, a
program renamed .pdf is refused with the reason shown, and a file can be taken back.
Screenshot: test-output/screenshots/attachments.png (1366×768)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from engine.services.container import Landflow
from tests import attachment_files as files
from tests.conftest import PROJECT, make_settings
from tests.live_server import serving
from tests.scenarios.test_joint_review_entry import start

APPLICANT = "applicant.330702101201"


@pytest.fixture
def entry_site(sqlite_template, tmp_path, clock) -> Iterator[tuple[str, Landflow]]:
    path = tmp_path / "landflow.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings(
        f"sqlite:///{path}",
        processes_dir=PROJECT / "processes",
        forms_dir=PROJECT / "forms",
        attachments_dir=tmp_path / "attachments",
    )
    lf = Landflow.build(settings, clock)
    with serving(lf) as url:
        yield url, lf
    lf.close()


def signed_in(browser, url: str, username: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    return context, page


def row(page, material: str):
    return page.locator(f'#attachments tr[data-material="{material}"]')


def upload(page, material: str, name: str, mime: str, data: bytes) -> None:
    line = row(page, material)
    line.locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    assert line.locator(".att-chosen").inner_text() == name  # the picker says what was chosen
    with page.expect_navigation():
        line.get_by_role("button", name="上传").click()


def test_the_applicant_uploads_materials_and_sees_the_checklist_and_previews(
    browser, entry_site, screenshot
):
    url, lf = entry_site
    case = start(lf)
    task = case.task("apply")
    context, page = signed_in(browser, url, APPLICANT)
    page.goto(f"{url}/tasks/{task['id']}")
    panel = page.locator("#attachments")
    assert "材料清单与附件" in panel.locator("h2").inner_text()
    for material in ("入市申请书", "土地权属证明", "宗地图"):
        assert row(page, material).locator(".att-mark").inner_text() == "缺"
    assert row(page, "现状照片").locator(".att-mark").inner_text() == "选交"
    assert row(page, "宗地图").locator(".att-chosen").inner_text() == "未选择文件"

    upload(page, "宗地图", "宗地图.pdf", "application/pdf", files.pdf("宗地图"))
    assert row(page, "宗地图").locator(".att-mark").inner_text() == "✓ 已上传"
    upload(page, "现状照片", "现场照片.png", "image/png", files.png(240, 160, (70, 130, 180)))
    assert row(page, "现状照片").locator(".att-mark").inner_text() == "✓ 已上传"
    shown = row(page, "宗地图").inner_text()
    assert "宗地图.pdf" in shown and lf.names.user(APPLICANT) in shown  # 古方村入市主体
    assert APPLICANT not in panel.inner_text()  # the uploader by name, never the username

    # a program renamed .pdf is refused by its content, with the reason in place
    upload(page, "土地权属证明", "权属证明.pdf", "application/pdf", files.exe())
    problem = page.locator("#attachments .att-problem")
    assert problem.inner_text().startswith("上传未成功：不支持的文件类型")
    assert row(page, "土地权属证明").locator(".att-mark").inner_text() == "缺"

    # previews: the image is drawn, the PDF is embedded from its inline address
    image = panel.locator(".att-preview.att-image img")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('.att-preview.att-image img');"
        " return i && i.complete && i.naturalWidth === 240; }"
    )
    frame = panel.locator(".att-preview.att-pdf iframe")
    source = frame.get_attribute("src")
    answer = page.request.get(f"{url}{source}")
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("inline;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.body() == files.pdf("宗地图")

    visible = page.locator("body").inner_text()
    for code in ("applicant.", "sha256", "application/pdf", "image/png", "null", "None"):
        assert code not in visible, code
    screenshot(page, "attachments")
    page.locator("#attachments-title").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('attachments').scrollIntoView()")
    screenshot(page, "attachments_panel", full_page=False)

    # the uploader takes a file back while the step is open: the checklist says 缺 again
    with page.expect_navigation():
        row(page, "宗地图").get_by_role("button", name="删除 宗地图.pdf").click()
    assert row(page, "宗地图").locator(".att-mark").inner_text() == "缺"
    context.close()


def test_an_outsider_cannot_open_a_file_by_its_address(browser, entry_site):
    url, lf = entry_site
    case = start(lf)
    task = case.task("apply")
    made = lf.attachments.upload(
        lf.auth.actor_for(APPLICANT), task["id"], "宗地图", "宗地图.pdf", files.pdf()
    )
    context, page = signed_in(browser, url, "zrzy.330782")
    for path in (f"/attachments/{made['id']}", f"/attachments/{made['id']}/preview"):
        answer = page.request.get(f"{url}{path}")
        assert answer.status == 404
        assert "未找到" in answer.text() and "%PDF" not in answer.text()
    context.close()
