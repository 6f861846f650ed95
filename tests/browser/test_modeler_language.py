"""Everything the modeler, its decision table editor and the form editor show reads in Chinese
(Chromium): the visible text and the tooltips, with every kind of element selected, after a
validation that the engine's parser refuses (its messages are translated), in the decision
table with its header editor open, and on the form editor. What may stay Latin: identifiers
(element ids, process ids, form keys, decision ids, file names, anything with _ . : or a
digit) and the names of standards and languages in the allow-list.
Screenshots: modeler-language.png, modeler-decision-table-language.png (1366×768)."""

from __future__ import annotations

import re

from tests.browser.modeler_support import open_modeler, run, signed_in, wait_text
from tests.browser.test_modeler_pages import modeler_site  # noqa: F401 (fixture)

PROCESS = "joint_review_entry"
ADMIN = ("admin", "admin-pass")
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.:/-]*")
# standards, languages and the few code words hints quote on purpose
ALLOWED = {
    "BPMN", "DMN", "FEEL", "JSON", "Schema", "XML", "ISO", "Python", "Camunda", "KB", "MB",
    "forms", "processes",  # the folders files are kept in
    "import", "eval", "workdays", "days", "wd", "d", "true", "false", "in", "not",
    "and", "or", "spiffworkflow:property", "isExecutable", "csv",
    "strict", "last", "list", "sum",  # merge rules, written in the diagram as such
}  # fmt: skip
QUOTED = re.compile(r"“[^”]*”")  # what the user wrote, quoted back in a message
VISIBLE = """() => {
  const skip = (e) => e.closest('.bjs-powered-by, .djs-powered-by, script, style, [hidden]');
  const attrs = Array.from(document.querySelectorAll('[title], [placeholder], [aria-label]'))
    .filter(e => !skip(e) && e.checkVisibility({visibilityProperty: true}))
    .flatMap(e => ['title', 'placeholder', 'aria-label'].map(a => e.getAttribute(a) || ''));
  return document.body.innerText + '\\n' + attrs.join('\\n');
}"""


def latin_words(page, identifiers: set[str]) -> set[str]:
    found = set()
    for token in TOKEN.findall(QUOTED.sub("", page.evaluate(VISIBLE))):
        token = token.rstrip(".:/-")
        if len(token) < 2 or token in ALLOWED or token in identifiers:
            continue
        if re.search(r"[_.:\d]", token) or token.lower() in {a.lower() for a in ALLOWED}:
            continue
        found.add(token)
    return found


def select(page, element_id: str) -> None:
    run(page, "(m, id) => m.get('selection').select(m.get('elementRegistry').get(id))", element_id)


def identifiers_of(page, lf) -> set[str]:
    ids = set(run(page, "(m) => m.get('elementRegistry').getAll().map(e => e.id)"))
    admin = lf.auth.actor_for("admin")
    choices = lf.modeler.choices(admin)
    ids |= {f["key"] for f in choices["forms"]} | {p["id"] for p in choices["processes"]}
    ids |= {d["id"] for d in choices["decisions"]}
    return ids


def test_the_modeler_and_its_editors_read_in_chinese(browser, modeler_site, screenshot):  # noqa: F811
    url, lf = modeler_site
    with signed_in(browser, url, *ADMIN) as page:
        open_modeler(page, url, PROCESS)
        ids = identifiers_of(page, lf)
        assert latin_words(page, ids) == set()
        kinds = run(
            page,
            "(m) => { const seen = {}; m.get('elementRegistry').getAll()"
            ".filter(e => e.type !== 'label')"
            ".forEach(e => { seen[e.type] = seen[e.type] || e.id; });"
            " return Object.values(seen); }",
        )
        assert len(kinds) >= 12
        for element_id in kinds:
            run(
                page,
                "(m, id) => m.get('selection').select(m.get('elementRegistry').get(id))",
                element_id,
            )
            page.wait_for_timeout(100)  # the context pad and panel are drawn
            assert latin_words(page, ids) == set(), element_id

        # a diagram the engine's parser refuses: its messages in Chinese
        run(
            page,
            """(m) => {
              const e = m.get('elementRegistry').get('gw_cond_join');
              const moddle = m.get('moddle');
              const ns = 'http://spiffworkflow.org/bpmn/schema/1.0/core';
              const props = moddle.createAny('spiffworkflow:properties', ns, {});
              props.$children = [moddle.createAny('spiffworkflow:property', ns,
                                                  {name: 'merge', value: 'zzz'})];
              const ext = m.get('bpmnFactory').create('bpmn:ExtensionElements', {values: [props]});
              m.get('modeling').updateProperties(e, {extensionElements: ext});
            }""",
        )
        page.click("#btn-validate")
        wait_text(page, "#problems-list", "汇聚规则“zzz”无法识别")
        assert latin_words(page, ids) == set()
        page.locator("#modeler-problems").scroll_into_view_if_needed()
        screenshot(page, "modeler-language", full_page=False)

        select(page, "rule_max_term")
        page.click("#modeler-panel button:has-text('打开决策表')")
        page.wait_for_selector("#dmn-canvas .tjs-table", timeout=20_000)
        assert "命中策略" in page.inner_text("#dmn-dialog")
        assert latin_words(page, ids) == set()
        page.locator("#dmn-canvas th.input-cell").first.dblclick()
        page.wait_for_selector(".context-menu .type-ref-edit, .context-menu", timeout=5_000)
        assert latin_words(page, ids) == set()
        assert "文字" in page.inner_text("#dmn-canvas thead")  # the input's type, "string"
        screenshot(page, "modeler-decision-table-language", full_page=False)
        page.keyboard.press("Escape")
        page.click("#dmn-close")

        page.goto(f"{url}/modeler/forms/entry_application")
        page.wait_for_selector("#form-preview", timeout=20_000)
        assert latin_words(page, ids) == set()
        page.goto(f"{url}/modeler")
        assert latin_words(page, ids) == set()
