"""Driving the modeler page in Chromium: sign in, wait for the diagram, map diagram
coordinates to the screen, and read what bpmn-js holds (through the page's test hook
`window.landflowModeler`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

VIEWPORT = {"width": 1366, "height": 768}


@contextmanager
def signed_in(browser, url: str, username: str, password: str) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    try:
        yield page
        assert errors == [], errors
    finally:
        context.close()


def open_modeler(page, url: str, process_id: str) -> None:
    page.goto(f"{url}/modeler?process={process_id}")
    page.wait_for_selector("#modeler[data-ready=true]", timeout=30_000)


def run(page, script: str, arg: Any = None) -> Any:
    """Evaluate `script` (a function of (modeler, arg)) against the page's bpmn-js modeler."""
    hook = "const modeler = window.landflowModeler.modeler;"
    return page.evaluate(f"([arg]) => {{ {hook} return ({script})(modeler, arg); }}", [arg])


def show_at(page, x: float, y: float, scale: float = 0.8) -> None:
    """Scroll and zoom so that diagram point (x, y) is the canvas's top left corner, right of
    the palette."""
    run(
        page,
        """(modeler, [x, y, scale]) => {
          const canvas = modeler.get('canvas');
          const box = canvas.viewbox();
          canvas.viewbox({x: x - 135 / scale, y: y, width: box.outer.width / scale,
                          height: box.outer.height / scale});
        }""",
        [x, y, scale],
    )


def screen(page, x: float, y: float) -> tuple[float, float]:
    found = run(
        page,
        """(modeler, [x, y]) => {
          const canvas = modeler.get('canvas');
          const box = canvas.viewbox();
          const rect = canvas._container.getBoundingClientRect();
          return [rect.left + (x - box.x) * box.scale, rect.top + (y - box.y) * box.scale];
        }""",
        [x, y],
    )
    return found[0], found[1]


def bounds(page, element_id: str) -> dict[str, float]:
    return run(
        page,
        "(modeler, id) => { const e = modeler.get('elementRegistry').get(id);"
        " return {x: e.x, y: e.y, width: e.width, height: e.height}; }",
        element_id,
    )


def waypoints(page, element_id: str) -> list[tuple[float, float]]:
    points = run(
        page,
        "(modeler, id) => modeler.get('elementRegistry').get(id).waypoints.map(p => [p.x, p.y])",
        element_id,
    )
    return [(x, y) for x, y in points]


def selected(page) -> list[str]:
    return run(page, "(modeler) => modeler.get('selection').get().map(e => e.id)")


def click_diagram(page, x: float, y: float) -> None:
    page.mouse.click(*screen(page, x, y))


def wait_text(page, selector: str, text: str, exact: bool = False) -> None:
    """Wait until the element's text contains (or is) `text`."""
    page.wait_for_function(
        "([selector, text, exact]) => { const e = document.querySelector(selector);"
        " return !!e && (exact ? e.textContent === text : e.textContent.includes(text)); }",
        arg=[selector, text, exact],
    )
