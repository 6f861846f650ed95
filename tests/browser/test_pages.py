"""A clerk signs in, finds the task in the inbox, submits a form with a mistake, corrects it
and sees the case move on — in a real browser against a real server."""

from __future__ import annotations

import re

from engine.services.actor import SYSTEM

APPLICATION_FIELDS = {"parcel_area": "88.5", "use": "商业"}


def sign_in(page, site: str, username="alice", password="alice-pass") -> None:
    page.goto(f"{site}/")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_wrong_password_stays_on_the_login_page(page, site):
    sign_in(page, site, password="nope")
    assert page.locator(".error").inner_text() == "用户名或密码错误"


def test_a_clerk_completes_a_task_from_the_inbox(web_lf, page, site, tmp_path):
    case = web_lf.instances.start(SYSTEM, "sample_review", "330702101201", "ZD-9")
    sign_in(page, site)
    assert "张经办" in page.locator(".who").inner_text()
    page.click("text=全部待办")
    page.click("text=提交申请")
    assert page.locator("h1").inner_text() == "提交申请"

    page.fill("#f_parcel_area", "-5")
    page.click("text=提交办理")
    page.locator(".field.invalid .error").first.wait_for()
    errors = page.locator(".field.invalid .error").all_inner_texts()
    assert any("宗地面积" in e for e in errors) and any("联审部门" in e for e in errors)

    page.fill("#f_parcel_area", APPLICATION_FIELDS["parcel_area"])
    page.select_option("#f_use", APPLICATION_FIELDS["use"])
    page.fill("#f_reviewers", "发改局\n生态环境局")
    page.click("text=提交办理")
    page.wait_for_url(re.compile(r"/cases/"))
    page.screenshot(path=str(tmp_path / "case.png"), full_page=True)
    assert "办理中" in page.locator("h1").inner_text()
    rows = page.locator("table.list tbody tr").all_inner_texts()
    assert any("提交申请" in r and "已办" in r for r in rows)
    assert sum("联审意见" in r for r in rows) == 2

    data = web_lf.instances.get(SYSTEM, case["id"])["data"]
    assert data["parcel_area"] == 88.5 and data["reviewers"] == ["发改局", "生态环境局"]
    assert "reviewer" not in data  # the loop item of the joint review is not case data


def test_pages_need_a_session_and_forms_need_the_csrf_token(web_lf, page, site):
    case = web_lf.instances.start(SYSTEM, "sample_review", "330702101201")
    task_id = web_lf.instances.get(SYSTEM, case["id"])["tasks"][0]["id"]
    response = page.request.post(
        f"{site}/tasks/{task_id}/claim", form={"csrf_token": "x"}, max_redirects=0
    )
    assert response.status == 303 and response.headers["location"] == "/login"
    sign_in(page, site)
    response = page.request.post(
        f"{site}/tasks/{task_id}/claim", form={"csrf_token": "forged"}, max_redirects=0
    )
    assert response.status == 303
    assert web_lf.instances.get(SYSTEM, case["id"])["tasks"][0]["assignee"] is None
    api = page.request.post(f"{site}/api/v1/tasks/{task_id}/claim")
    assert api.status == 401  # the cookie alone does not authorise API writes
    assert page.request.get(f"{site}/api/v1/tasks/{task_id}").status == 200
