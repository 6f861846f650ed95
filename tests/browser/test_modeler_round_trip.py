"""Round trip through the modeler in real Chromium: every MIWG reference model and every
process of ours is imported into the modeler page (its test hook `window.landflowModeler`),
exported again, and the server compares the export with the original — elements, attributes
(extension attributes too), text and layout (bounds, waypoints): nothing may be lost. A model
whose processes are all non-executable is refused at deployment with a Chinese message."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.services.container import Landflow
from tests.browser.modeler_support import open_modeler, signed_in, wait_text
from tests.conftest import PROJECT, make_settings
from tests.live_server import serving

CORPUS = PROJECT.parent / "shared" / "conformance" / "miwg-reference"
MODELS = sorted(CORPUS.glob("*.bpmn")) + sorted((PROJECT / "processes").glob("*.bpmn"))
ADMIN = ("admin", "admin-pass")
ROUND_TRIP = """async ([name, xml]) => {
  const hook = window.landflowModeler;
  const imported = await hook.importXML(xml);
  const exported = await hook.saveXML();
  const report = await window.LfApi.post("/api/v1/modeler/round-trip",
                                         {file_name: name, original: xml, exported: exported});
  return {warnings: imported.warnings, report: report, exported: exported};
}"""


@pytest.fixture
def site(sqlite_template, tmp_path, clock) -> Iterator[tuple[str, Landflow]]:
    path = tmp_path / "landflow.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings(
        f"sqlite:///{path}", processes_dir=PROJECT / "processes", forms_dir=PROJECT / "forms"
    )
    lf = Landflow.build(settings, clock)
    with serving(lf) as url:
        yield url, lf
    lf.close()


def text_of(path: Path) -> str:
    """The file as text, decoded as its XML declaration says (some MIWG files are Latin-1)."""
    raw = path.read_bytes()
    declared = re.match(rb"<\?xml[^>]*encoding=[\"']([^\"']+)", raw)
    return raw.decode(declared.group(1).decode() if declared else "utf-8")


def test_every_reference_model_and_process_survives_the_modeler(browser, site):
    url, _lf = site
    assert len(MODELS) >= 27, f"expected the MIWG corpus at {CORPUS} and our six processes"
    lost: dict[str, list] = {}
    dangling: dict[str, list] = {}
    with signed_in(browser, url, *ADMIN) as page:
        open_modeler(page, url, "joint_review_entry")
        for path in MODELS:
            result = page.evaluate(ROUND_TRIP, [path.name, text_of(path)])
            report = result["report"]
            assert report["checked"] > 20, path.name
            if not report["ok"]:
                lost[path.name] = report["lost"][:5]
            if report["dangling"]:
                dangling[path.name] = report["dangling"]
            if path.parent.name == "processes":
                # our extension elements are written back as they were
                assert result["exported"].count("<spiffworkflow:property ") == path.read_text(
                    encoding="utf-8"
                ).count("<spiffworkflow:property ")
    assert lost == {}
    # the only thing a modeler drops: references to elements the file itself does not have
    assert set(dangling) <= {"C.8.1.bpmn"}
    assert all("在原文件中不存在" in d["problem"] for found in dangling.values() for d in found)


def test_the_round_trip_check_notices_a_lost_attribute_and_a_moved_shape(browser, site):
    url, _lf = site
    original = (PROJECT / "processes" / "collective_decision.bpmn").read_text(encoding="utf-8")
    with signed_in(browser, url, *ADMIN) as page:
        open_modeler(page, url, "collective_decision")
        report = page.evaluate(
            """async ([xml]) => {
              const hook = window.landflowModeler;
              await hook.importXML(xml);
              const modeler = hook.modeler;
              const registry = modeler.get('elementRegistry');
              modeler.get('modeling').moveShape(registry.get('propose'), {x: 40, y: 0});
              const exported = (await hook.saveXML()).replace(' value="decision_start"', '');
              return window.LfApi.post('/api/v1/modeler/round-trip',
                {file_name: 'collective_decision.bpmn', original: xml, exported: exported});
            }""",
            [original],
        )
    assert not report["ok"]
    problems = {(loss["element_id"], loss["problem"]) for loss in report["lost"]}
    assert any(e == "propose_di" and "属性 x" in p for e, p in problems), problems
    assert any("value" in p and "丢失" in p for _e, p in problems), problems


def test_a_model_without_an_executable_process_is_refused_with_a_clear_message(browser, site):
    url, lf = site
    before = lf.definitions.list_versions()
    with signed_in(browser, url, *ADMIN) as page:
        open_modeler(page, url, "joint_review_entry")
        page.set_input_files("#file-open", str(CORPUS / "A.1.0.bpmn"))
        wait_text(page, "#modeler-state", "已打开本地文件 A.1.0.bpmn")
        page.click("#btn-deploy")
        page.click("#deploy-confirm")
        wait_text(page, "#modeler-state", "该模型不能部署")
        message = page.text_content("#modeler-state")
        assert "未标记为可执行" in message and "勾选“可执行”" in message
        assert "未标记为可执行" in page.text_content("#problems-list")
    assert lf.definitions.list_versions() == before
