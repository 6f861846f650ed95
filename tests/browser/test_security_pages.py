"""The pages under the Content-Security-Policy (no inline scripts, no eval): every main page
loads in Chromium without one CSP violation, and its scripts still work; the sign-in form
carries its CSRF token; the account page lists sign-ins and changes the password."""

from __future__ import annotations

import re

import pytest

from engine.services.actor import SYSTEM

VILLAGE = "330702101201"
ADMIN_PAGES = (
    "/",
    "/cases",
    "/cases/{case}",
    "/cases/{case}/approval-form",
    "/cases/new",
    "/cases/new?process_id=collective_decision",
    "/notifications",
    "/notifications/settings",
    "/account",
    "/admin",
    "/admin/audit",
    "/admin/calendar",
    "/admin/definitions",
    "/admin/definitions/collective_decision/versions/1",
    "/admin/incidents",
    "/admin/jobs",
    "/admin/org",
    "/admin/org/users/zrzy.330702",
    "/admin/time-limits",
    "/admin/deliveries",
    "/admin/notification-endpoints",
    "/admin/users/zrzy.330702/sign-ins",
    "/dispatch",
    "/dispatch/cases",
    "/dispatch/heatmap?process_id=collective_decision",
    "/dispatch/targets",
    "/dispatch/spot-checks",
    "/supervision",
    "/modeler",
    "/docs",
)
CLERK_PAGES = ("/", "/tasks/{task}", "/cases/{case}", "/account")


class Violations:
    """CSP reports seen by the page: console messages and securitypolicyviolation events."""

    def __init__(self, page) -> None:
        self.seen: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.seen.append(f"page error: {error}"))
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => console.error("
            "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
        )

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "CSP violation" in text:
            self.seen.append(text)


def sign_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)


@pytest.fixture
def a_case(product_site):
    url, lf = product_site
    case = lf.instances.start(
        SYSTEM,
        "collective_decision",
        VILLAGE,
        None,
        {"matter": "入市方案", "deciding_body": "村民代表会议"},
    )
    task = next(t for t in lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open")
    return url, lf, case["id"], task["id"]


def visit_all(page, url: str, paths, **ids) -> list[str]:
    """Open each page and wait for its scripts; returns the violations, each with its page."""
    violations = Violations(page)
    found = []
    for path in paths:
        before = len(violations.seen)
        page.goto(url + path.format(**ids))
        page.wait_for_load_state("networkidle")
        found.extend(f"{path}: {text}" for text in violations.seen[before:])
    return found


def test_the_main_pages_run_under_the_policy_without_violations(page, a_case, screenshot):
    url, _, case_id, task_id = a_case
    sign_in(page, url, "admin", "admin-pass")
    seen = visit_all(page, url, ADMIN_PAGES, case=case_id, task=task_id)
    page.goto(f"{url}/cases/{case_id}")
    page.locator(".djs-container svg, .bjs-container svg").first.wait_for(timeout=15000)
    page.goto(f"{url}/docs")
    page.locator(".swagger-ui .information-container").wait_for(timeout=15000)
    page.goto(f"{url}/admin/users/zrzy.330702/sign-ins")
    screenshot(page, "admin-user-sign-ins")
    assert seen == []


def test_a_clerks_pages_run_under_the_policy(page, a_case):
    url, _, case_id, task_id = a_case
    sign_in(page, url, "dzz.330702101201", "demo")
    assert visit_all(page, url, CLERK_PAGES, case=case_id, task=task_id) == []


def test_choosing_a_process_still_opens_its_start_form(page, a_case):
    url, *_ = a_case
    violations = Violations(page)
    sign_in(page, url, "admin", "admin-pass")
    page.goto(f"{url}/cases/new")
    page.select_option("select[name=process_id]", "collective_decision")
    page.wait_for_url(re.compile(r"process_id=collective_decision"))
    page.locator("input[name=region]").wait_for()
    assert violations.seen == []


def test_the_sign_in_form_carries_its_token_and_the_account_page_works(page, a_case, screenshot):
    url, *_ = a_case
    page.goto(f"{url}/login")
    token = page.locator("input[name=csrf_token]").get_attribute("value")
    assert token and len(token) >= 32
    sign_in(page, url, "zrzy.330702", "demo")
    page.goto(f"{url}/account")
    assert "本次登录" in page.locator("table.list").inner_text()
    page.fill("#current_password", "demo")
    page.fill("#new_password", "12345678901")
    page.fill("#new_password_again", "12345678901")
    page.click("text=修改密码 >> nth=-1")
    assert "密码不能全是数字" in page.locator(".field.invalid .error").inner_text()
    screenshot(page, "account-password-refused")
    page.fill("#current_password", "demo")
    page.fill("#new_password", "spring-field-42")
    page.fill("#new_password_again", "spring-field-42")
    page.click("button:has-text('修改密码')")
    page.locator(".flash").wait_for()
    assert "密码已修改" in page.locator(".flash").inner_text()
    screenshot(page, "account-sign-ins")
