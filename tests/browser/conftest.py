"""Browser tests: Debian's Chromium driven by Playwright (no downloaded browser)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from engine.services.container import Landflow
from tests.conftest import make_settings
from tests.live_server import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not shutil.which("chromium"):
        pytest.fail("Debian chromium is not installed: run `bash scripts/install-system-deps.sh`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def web_lf(sqlite_template, tmp_path, clock) -> Iterator[Landflow]:
    path = tmp_path / "landflow.db"
    shutil.copy(sqlite_template, path)
    lf = Landflow.build(make_settings(f"sqlite:///{path}"), clock)
    lf.start_up()
    lf.auth.ensure_user("alice", "alice-pass", "张经办")
    yield lf
    lf.close()


@pytest.fixture
def site(web_lf) -> Iterator[str]:
    with serving(web_lf) as url:
        yield url


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()
