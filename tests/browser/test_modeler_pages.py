"""The BPMN modeler in real Chromium (issue 12's "done when"): an administrator opens
joint_review_entry, adds a lane (水利局, county) and a user task in it on the flow after the
application, sets its form and a 5-working-day limit in the property panel, breaks a condition
and sees the error on that flow, fixes it, deploys version 2; a new case then reaches
婺城区水利局's inbox with the due date. Also: the version comparison, the form editor with its
live preview, and the pages refused to non-administrators.
Screenshots: modeler.png, modeler-validation.png, version-diff.png, form-editor.png."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from itertools import pairwise

import pytest

from engine.services.container import Landflow
from tests.browser.modeler_support import (
    bounds,
    click_diagram,
    open_modeler,
    run,
    screen,
    selected,
    show_at,
    signed_in,
    wait_text,
    waypoints,
)
from tests.conftest import PROJECT, VILLAGE, make_settings
from tests.live_server import serving
from tests.scenarios.harness import Scenario
from tests.scenarios.test_joint_review_entry import application

PROCESS = "joint_review_entry"
NEW_TASK = "水利设施影响审查"
NEW_LANE = "县水利局"
BROKEN = "precheck_passed == "
CONDITION_FLOW = "flow_gw_precheck_gw_cond_split"
ADMIN = ("admin", "admin-pass")
ANNOTATION = """    <bpmn:textAnnotation id="note_limit">
      <bpmn:text>本版起：入市条件审查承诺 5 个工作日办结</bpmn:text>
    </bpmn:textAnnotation>
    <bpmn:association id="note_limit_link" sourceRef="precheck" targetRef="note_limit" />
"""
ANNOTATION_DI = """      <bpmndi:BPMNShape id="note_limit_di" bpmnElement="note_limit">
        <dc:Bounds x="660" y="420" width="180" height="50" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="note_limit_link_di" bpmnElement="note_limit_link">
        <di:waypoint x="620" y="500" />
        <di:waypoint x="700" y="470" />
      </bpmndi:BPMNEdge>
"""


@pytest.fixture
def modeler_site(sqlite_template, tmp_path, clock) -> Iterator[tuple[str, Landflow]]:
    """The shipped processes, with a copy of forms/ (the form editor writes there)."""
    path = tmp_path / "landflow.db"
    shutil.copy(sqlite_template, path)
    forms = tmp_path / "forms"
    shutil.copytree(PROJECT / "forms", forms)
    settings = make_settings(
        f"sqlite:///{path}", processes_dir=PROJECT / "processes", forms_dir=forms
    )
    lf = Landflow.build(settings, clock)
    with serving(lf) as url:
        yield url, lf
    lf.close()


def add_lane_below_applicant(page) -> str:
    lane = bounds(page, "lane_applicant")
    show_at(page, lane["x"], lane["y"] + 40)
    click_diagram(page, lane["x"] + 12, lane["y"] + lane["height"] / 2)
    assert selected(page) == ["lane_applicant"]
    before = set(
        run(
            page,
            "(m) => m.get('elementRegistry').filter(e => e.type === 'bpmn:Lane').map(e => e.id)",
        )
    )
    page.click('.djs-context-pad [data-action="lane-insert-below"]')
    after = run(
        page, "(m) => m.get('elementRegistry').filter(e => e.type === 'bpmn:Lane').map(e => e.id)"
    )
    (new_lane,) = set(after) - before
    return new_lane


def select_lane(page, lane_id: str) -> None:
    lane = bounds(page, lane_id)
    click_diagram(page, lane["x"] + 12, lane["y"] + lane["height"] / 2)
    assert selected(page) == [lane_id]


def drop_task_on_flow(page, flow_id: str, lane_id: str) -> str:
    """Palette → 环节, dropped where the flow crosses the lane: bpmn-js splits the flow."""
    lane = bounds(page, lane_id)
    middle = lane["y"] + lane["height"] / 2
    points = waypoints(page, flow_id)
    (x,) = [
        x1
        for (x1, y1), (x2, y2) in pairwise(points)
        if x1 == x2 and min(y1, y2) < middle < max(y1, y2)
    ]
    page.click('.djs-palette [data-action="create.task"]')
    target = screen(page, x, middle)
    page.mouse.move(target[0] - 40, target[1] - 10)
    page.mouse.move(target[0], target[1], steps=8)
    page.mouse.click(*target)
    (task_id,) = selected(page)
    return task_id


def test_an_admin_adds_a_step_deploys_it_and_a_new_case_reaches_the_department(
    browser, modeler_site, screenshot
):
    url, lf = modeler_site
    with signed_in(browser, url, *ADMIN) as page:
        open_modeler(page, url, PROCESS)
        assert "已打开已部署的版本 1" in page.text_content("#modeler-state")
        # the palette and context pad speak Chinese
        assert (
            page.get_attribute('.djs-palette [data-action="create.task"]', "aria-label") == "环节"
        )

        lane_id = add_lane_below_applicant(page)
        select_lane(page, lane_id)
        page.fill("#modeler-panel input[data-field=name]", NEW_LANE)
        page.select_option("#modeler-panel select[data-field=dept_type]", "sl")
        page.select_option("#modeler-panel select[data-field=level]", "county")
        assert (
            page.locator(
                "#modeler-panel select[data-field=dept_type] option:checked"
            ).text_content()
            == "水利局"
        )

        task_id = drop_task_on_flow(page, "flow_apply_precheck", lane_id)
        page.click('.djs-context-pad [data-action="replace"]')
        page.click('[data-id="replace-with-user-task"]')
        assert (
            run(page, "(m, id) => m.get('elementRegistry').get(id).type", task_id)
            == "bpmn:UserTask"
        )
        panel = page.locator("#modeler-panel")
        assert "办理部门（由所在泳道“县水利局”决定）：县（区）级水利局" in panel.text_content()
        page.fill("#modeler-panel input[data-field=name]", NEW_TASK)
        page.select_option("#modeler-panel select[data-field=formKey]", "entry_review_opinion")
        page.fill("#modeler-panel input[data-field=sla_committed]", "5")
        page.fill(
            "#modeler-panel textarea[data-field=sla_basis]", "本地承诺：水利设施影响审查 5 个工作日"
        )
        page.locator("#modeler-panel textarea[data-field=sla_basis]").blur()
        screenshot(page, "modeler")

        # a broken condition: the syntax check says so as it is typed, validation marks the flow
        flow = waypoints(page, CONDITION_FLOW)
        show_at(page, flow[0][0] - 300, flow[0][1] - 200)
        click_diagram(page, (flow[0][0] + flow[1][0]) / 2, (flow[0][1] + flow[1][1]) / 2)
        assert selected(page) == [CONDITION_FLOW]
        condition = page.locator("#modeler-panel textarea[data-field=condition]")
        assert condition.input_value() == "precheck_passed == True"
        condition.fill(BROKEN)
        status = page.locator("#modeler-panel .pf-status")
        wait_text(page, "#modeler-panel .pf-status", "语法错误")
        assert "语法错误" in status.text_content()
        page.click("#btn-validate")
        page.wait_for_selector("#modeler-problems:not([hidden])")
        assert "校验未通过" in page.text_content("#problems-title")
        problem = page.locator(
            f"#problems-list li.problem-error:has([data-element={CONDITION_FLOW}])"
        )
        assert "条件：语法错误" in problem.text_content()
        marked = page.locator(f'.djs-element[data-element-id="{CONDITION_FLOW}"]')
        assert "lf-problem-error" in marked.get_attribute("class")
        assert page.locator(f'.lf-problem-badge[data-element="{CONDITION_FLOW}"]').count() == 1
        screenshot(page, "modeler-validation")

        problem.locator("button").click()  # selects the flow again
        assert selected(page) == [CONDITION_FLOW]
        page.locator("#modeler-panel textarea[data-field=condition]").fill(
            "precheck_passed == True"
        )
        wait_text(page, "#modeler-panel .pf-status", "语法正确", exact=True)
        page.click("#btn-validate")
        wait_text(page, "#problems-title", "校验通过")
        assert page.locator(".lf-problem-badge-error").count() == 0

        page.click("#btn-deploy")
        page.fill("#deploy-note", "增加水利设施影响审查")
        page.click("#deploy-confirm")
        wait_text(page, "#modeler-state", "已部署为版本 2")

    versions = lf.definitions.list_versions(PROCESS)
    assert [v["version"] for v in versions] == [2, 1]
    draft = lf.modeler.drafts.list(lf.auth.actor_for("admin"), PROCESS)[0]
    assert draft["note"] == "增加水利设施影响审查" and draft["deployed_at"]

    case = Scenario(lf, PROCESS, VILLAGE, business_key="婺城-入市-建模-001")
    assert case.case["version"] == 2
    case.complete("apply", application(), by="applicant@village")
    (task,) = case.open_tasks(task_id)
    assert task["title"] == NEW_TASK
    assert task["department"] == "sl.330702"  # 婺城区水利局, the case's county
    due = date.fromisoformat(task["due_at"][:10])
    expected = lf.calendar.current().add_workdays(date(2026, 11, 2), 5)
    assert due == expected

    with signed_in(browser, url, "sl.330702", "demo") as page:
        page.goto(f"{url}/?scope=queue")
        row = page.locator("table tr", has_text=NEW_TASK)
        assert row.count() == 1
        assert f"{expected.isoformat()} 前" in row.text_content()


def test_the_version_comparison_shows_what_changed_on_both_diagrams(
    browser, modeler_site, screenshot
):
    url, lf = modeler_site
    admin = lf.auth.actor_for("admin")
    xml = lf.modeler.model(admin, PROCESS)["xml"]
    changed = xml.replace(
        '<spiffworkflow:property name="formKey" value="entry_precheck" />',
        '<spiffworkflow:property name="formKey" value="entry_precheck" />\n'
        '            <spiffworkflow:property name="sla_committed" value="5wd" />',
    ).replace('name="出具不予入市告知书"', 'name="出具不予入市决定书"')
    changed = changed.replace("  </bpmn:process>", ANNOTATION + "  </bpmn:process>").replace(
        "    </bpmndi:BPMNPlane>", ANNOTATION_DI + "    </bpmndi:BPMNPlane>"
    )
    lf.modeler.deploy(admin, f"{PROCESS}.bpmn", changed)
    with signed_in(browser, url, *ADMIN) as page:
        page.goto(f"{url}/modeler/diff?process={PROCESS}")
        page.wait_for_selector("#version-diff[data-rendered=true]", timeout=30_000)
        summary = "".join(page.text_content("#diff-summary").split())
        assert "新增2个元素，删除0个，修改2个" in summary
        added = page.locator('#diff-target .djs-element[data-element-id="note_limit"]')
        assert "lf-diff-added" in added.get_attribute("class")
        assert page.locator('#diff-base .djs-element[data-element-id="note_limit"]').count() == 0
        screenshot(page, "version-diff")
        rows = page.locator(".diff-list tr.diff-changed")
        assert rows.count() == 2
        precheck = page.locator(".diff-list tr[data-element=precheck]")
        assert "承诺时限：（无） → 5wd" in precheck.text_content()
        refusal = page.locator(".diff-list tr[data-element=refusal]")
        assert "名称：出具不予入市告知书 → 出具不予入市决定书" in refusal.text_content()
        for side in ("#diff-base", "#diff-target"):
            marked = page.locator(f'{side} .djs-element[data-element-id="precheck"]')
            assert "lf-diff-changed" in marked.get_attribute("class")
        precheck.click()


def test_the_form_editor_previews_checks_and_saves_a_form(browser, modeler_site, screenshot):
    url, lf = modeler_site
    path = lf.settings.forms_dir / "entry_eco.json"
    original = json.loads(path.read_text(encoding="utf-8"))
    with signed_in(browser, url, *ADMIN) as page:
        page.goto(f"{url}/modeler/forms/entry_eco")
        page.wait_for_selector("#form-editor[data-checked=valid]")
        preview = page.locator("#form-preview")
        first = next(iter(original["properties"].values()))["title"]
        assert first in preview.text_content()
        source = page.locator("#form-content")
        source.fill(source.input_value().replace('"properties"', '"properties" "broken"', 1))
        page.wait_for_selector("#form-editor[data-checked=invalid]")
        assert "不是有效的 JSON" in page.text_content("#form-check")
        assert "无法预览" in preview.text_content()
        edited = dict(original)
        edited["properties"] = {
            **original["properties"],
            "water_impact_note": {"title": "涉水影响说明", "type": "string", "maxLength": 2000},
        }
        source.fill(json.dumps(edited, ensure_ascii=False, indent=2))
        page.wait_for_selector("#form-editor[data-checked=valid]")
        assert "涉水影响说明" in preview.text_content()
        assert preview.locator("textarea[name=water_impact_note]").count() == 1
        page.fill("#form-note", "增加涉水影响说明")
        page.click("#form-save")
        wait_text(page, "#form-state", "已保存为第 2 版")
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, "form-editor")
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert "water_impact_note" in saved["properties"]
    assert "water_impact_note" in lf.forms.schema("entry_eco")["properties"]
    history = lf.form_editor.get(lf.auth.actor_for("admin"), "entry_eco")["revisions"]
    assert [(r["revision"], r["saved_by"]) for r in history] == [(2, "admin"), (1, "file")]


def test_the_modeler_pages_do_not_exist_for_clerks(browser, modeler_site):
    url, _lf = modeler_site
    with signed_in(browser, url, "zrzy.330702", "demo") as page:
        for path in (f"/modeler?process={PROCESS}", "/modeler", "/modeler/forms/entry_eco"):
            response = page.goto(f"{url}{path}")
            assert response.status == 404, path
            assert "页面不存在" in page.text_content("main")
    with signed_in(browser, url, *ADMIN) as page:
        response = page.goto(f"{url}/modeler?process=no_such_process")
        assert response.status == 404
        assert "流程“no_such_process”尚未部署" in page.text_content("main")


def test_a_decision_table_is_edited_and_deployed_with_the_diagram(
    browser, modeler_site, screenshot
):
    url, lf = modeler_site
    with signed_in(browser, url, *ADMIN) as page:
        open_modeler(page, url, PROCESS)
        rule = bounds(page, "rule_max_term")
        show_at(page, rule["x"] - 200, rule["y"] - 150)
        click_diagram(page, rule["x"] + rule["width"] / 2, rule["y"] + rule["height"] / 2)
        assert selected(page) == ["rule_max_term"]
        picked = "#modeler-panel select[data-field=calledDecisionId]"
        assert page.input_value(picked) == "joint_review_entry_max_term"
        page.click("#modeler-panel button:has-text('打开决策表')")
        page.wait_for_selector("#dmn-canvas .tjs-table", timeout=20_000)
        assert "入市土地最高出让年限" in page.text_content("#dmn-title")
        assert "命中策略" in page.text_content("#dmn-canvas")
        cell = page.locator("#dmn-canvas td.output-cell").first
        assert cell.text_content().strip() == "70"
        cell.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("60")
        screenshot(page, "modeler-decision-table", full_page=False)
        page.click("#dmn-keep")
        wait_text(page, "#modeler-state", "joint_review_entry_max_term.dmn 已修改")
        page.click("#btn-validate")
        wait_text(page, "#problems-title", "校验通过")
        page.click("#btn-deploy")
        page.click("#deploy-confirm")
        wait_text(page, "#modeler-state", "已部署")
    deployed = lf.definitions.file_content("joint_review_entry_max_term.dmn")
    assert "<text>60</text>" in deployed and "<text>70</text>" not in deployed
