"""Browser tests: Debian's Chromium driven by Playwright (no downloaded browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.services.container import Landflow
from tests.conftest import PROJECT, make_settings
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


VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = (
    Path(
        os.environ.get("LANDFLOW_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "test-output")
    )
    / "screenshots"
)


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot(request) -> Callable[..., Path]:
    """Save what the user sees, at 1366×768, under the test run's output folder
    (test-output/screenshots/, or $LANDFLOW_TEST_OUTPUT/screenshots/)."""

    def save(page, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.set_viewport_size(VIEWPORT)
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save


@pytest.fixture
def product_site(sqlite_template, tmp_path, clock):
    """A served Landflow with the five shipped processes and forms: (url, landflow)."""
    path = tmp_path / "landflow.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings(
        f"sqlite:///{path}", processes_dir=PROJECT / "processes", forms_dir=PROJECT / "forms"
    )
    lf = Landflow.build(settings, clock)
    with serving(lf) as url:
        yield url, lf
    lf.close()
