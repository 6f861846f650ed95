"""Signing in through the unified identity platform in Chromium: the sign-in page offers
“使用统一身份认证登录”, the browser goes to a real local OpenID Connect provider, signs in
there and comes back signed in; an unknown platform user sees why they are refused; sign-out."""

from __future__ import annotations

import shutil

import pytest

from engine.services.container import Landflow
from tests.conftest import make_settings
from tests.live_server import serving
from tests.oidc_provider import PlatformUser, Provider, running_provider

SECRET_VARIABLE = "LANDFLOW_TEST_OIDC_SECRET"


@pytest.fixture
def platform(wall_clock, monkeypatch):
    monkeypatch.setenv(SECRET_VARIABLE, "browser-test-secret")
    provider = Provider("landflow", "browser-test-secret", wall_clock.now)
    provider.users = {
        "zrzy": PlatformUser("zlb-0001", "zrzy.330702", "王科员"),
        "stranger": PlatformUser("zlb-9999", "wang.wu", "王五"),
    }
    with running_provider(provider):
        yield provider


@pytest.fixture
def oidc_site(sqlite_template, tmp_path, clock, wall_clock, platform):
    path = tmp_path / "landflow.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings(
        f"sqlite:///{path}",
        oidc_issuer=platform.issuer,
        oidc_client_id="landflow",
        oidc_client_secret=f"env:{SECRET_VARIABLE}",
    )
    lf = Landflow.build(settings, clock, wall_clock)
    lf.start_up()
    with serving(lf) as url:
        yield url
    lf.close()


def test_sign_in_through_the_platform(page, oidc_site, platform, screenshot):
    page.goto(f"{oidc_site}/login")
    button = page.get_by_role("link", name="使用统一身份认证登录")
    assert button.is_visible()
    screenshot(page, "oidc-01-sign-in-page")
    button.click()
    page.wait_for_url(f"{platform.url}/authorize**")
    assert page.get_by_role("heading", name="统一身份认证平台（测试）").is_visible()
    page.fill("input[name=login]", "zrzy")
    screenshot(page, "oidc-02-platform")
    page.click("button[type=submit]")
    page.wait_for_url(f"{oidc_site}/")
    assert "zrzy.330702" in page.content() or "婺城区" in page.content()
    screenshot(page, "oidc-03-signed-in")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{oidc_site}/login/oidc/signed-out")
    link = page.get_by_role("link", name="同时退出统一身份认证平台")
    assert link.get_attribute("href").startswith(f"{platform.url}/logout")
    screenshot(page, "oidc-04-signed-out")
    page.goto(f"{oidc_site}/")
    assert "/login" in page.url  # the session really ended


def test_an_unknown_platform_user_is_told_why(page, oidc_site, platform, screenshot):
    page.goto(f"{oidc_site}/login")
    page.get_by_role("link", name="使用统一身份认证登录").click()
    page.fill("input[name=login]", "stranger")
    page.click("button[type=submit]")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "统一身份认证账号（wang.wu）尚未开通本系统账号" in alert.inner_text()
    assert page.url.startswith(f"{oidc_site}/login/oidc/callback")
    screenshot(page, "oidc-05-unknown-user")


def test_the_sign_in_page_has_no_platform_button_without_configuration(page, site):
    page.goto(f"{site}/login")
    assert page.get_by_role("link", name="使用统一身份认证登录").count() == 0
