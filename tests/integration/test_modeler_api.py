"""The modeler's API over HTTP on SQLite and PostgreSQL: load a process, validate (problems on
their elements), drafts, deploy a new version through DefinitionService, diff versions, the
syntax check as you type, decisions, the round-trip check and the form editor — all for
administrators only."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.errors import ValidationFailed
from engine.services.container import Landflow
from tests.conftest import PROJECT, make_settings
from tests.scenarios.harness import Scenario
from tests.scenarios.test_joint_review_entry import START, VILLAGE, application
from tests.support import ApiUser

PROCESS = "joint_review_entry"
FILE = f"{PROCESS}.bpmn"
CONDITION = "precheck_passed == True"


@pytest.fixture
def modeler_lf(database_url, clock, wall_clock, tmp_path) -> Iterator[Landflow]:
    forms = tmp_path / "forms"
    shutil.copytree(PROJECT / "forms", forms)
    settings = make_settings(database_url, processes_dir=PROJECT / "processes", forms_dir=forms)
    lf = Landflow.build(settings, clock, wall_clock)
    lf.start_up()
    yield lf
    lf.close()


@pytest.fixture
def client(modeler_lf) -> Iterator[TestClient]:
    with TestClient(create_app(modeler_lf, start_scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def admin(client) -> ApiUser:
    return ApiUser(client, "admin", "admin-pass")


def current_xml(admin: ApiUser) -> str:
    return admin.get(f"/api/v1/modeler/processes/{PROCESS}")["xml"]


def with_committed_limit(xml: str, limit: str) -> str:
    return xml.replace(
        '<spiffworkflow:property name="formKey" value="entry_precheck" />',
        '<spiffworkflow:property name="formKey" value="entry_precheck" />\n'
        f'            <spiffworkflow:property name="sla_committed" value="{limit}" />',
    )


def test_an_admin_loads_a_process_with_its_versions_and_materials(admin):
    model = admin.get(f"/api/v1/modeler/processes/{PROCESS}")
    assert (model["file_name"], model["version"]) == (FILE, 1)
    assert model["versions"][0]["source"] == "startup"
    assert '<bpmn:process id="joint_review_entry"' in model["xml"]
    assert [m["name"] for m in model["materials"]["apply"]][:2] == ["入市申请书", "土地权属证明"]
    choices = admin.get("/api/v1/modeler/choices")
    assert {"code": "sl", "name": "水利局"} in choices["department_types"]
    assert {"key": "entry_precheck", "title": "入市条件及负面清单审查意见"} in choices[
        "forms"
    ] or any(f["key"] == "entry_precheck" for f in choices["forms"])
    assert any(d["id"] == "joint_review_entry_max_term" for d in choices["decisions"])
    admin.get("/api/v1/modeler/processes/no_such_process", expect=404)


def test_validation_marks_problems_on_their_elements(admin):
    xml = current_xml(admin)
    clean = admin.post("/api/v1/modeler/validate", {"file_name": FILE, "xml": xml})
    assert clean == {"valid": True, "errors": [], "warnings": []}
    broken = (
        xml.replace(CONDITION, "precheck_passed ==")
        .replace('value="entry_precheck"', 'value="no_such_form"')
        .replace(
            '<spiffworkflow:property name="dept_type" value="fgw" />',
            '<spiffworkflow:property name="dept_type" value="water" />',
        )
    )
    found = admin.post("/api/v1/modeler/validate", {"file_name": FILE, "xml": broken})
    assert not found["valid"]
    errors = {(e["element_id"], e["message"]) for e in found["errors"]}
    assert ("flow_gw_precheck_gw_cond_split", "条件：语法错误（第 1 行）：无法解析") in errors
    assert any(e == "precheck" and "no_such_form" in m for e, m in errors)
    assert any(e == "lane_fgw" and "“water”不存在" in m for e, m in errors)
    assert all(e["file"] == FILE and e["line"] for e in found["errors"])


def test_deploy_creates_a_version_and_the_diff_names_the_change(admin, modeler_lf):
    xml = with_committed_limit(current_xml(admin), "5wd")
    deployed = admin.post("/api/v1/modeler/deploy", {"file_name": FILE, "xml": xml}, expect=201)
    assert [(v["process_id"], v["version"]) for v in deployed["created"]] == [(PROCESS, 2)]
    again = admin.post("/api/v1/modeler/deploy", {"file_name": FILE, "xml": xml}, expect=201)
    assert again["created"] == []  # same content: no new version
    diff = admin.get(f"/api/v1/modeler/processes/{PROCESS}/diff", base=1, target=2)
    assert diff["added"] == [] and diff["removed"] == []
    assert diff["changed"] == [
        {
            "id": "precheck",
            "type": "userTask",
            "type_label": "人工环节",
            "name": "入市条件及负面清单审查",
            "changes": [
                {
                    "property": "property:sla_committed",
                    "label": "承诺时限",
                    "before": None,
                    "after": "5wd",
                }
            ],
        }
    ]
    versions = admin.get(f"/api/v1/modeler/processes/{PROCESS}")["versions"]
    assert [(v["version"], v["source"], v["deployed_by"]) for v in versions] == [
        (2, "modeler", "admin"),
        (1, "startup", "system"),
    ]
    admin.get(f"/api/v1/modeler/processes/{PROCESS}/diff", base=1, target=7, expect=404)


def test_deploy_refuses_errors_and_models_without_executable_process(admin, client):
    broken = current_xml(admin).replace(CONDITION, "precheck_passed ==")
    response = client.post(
        "/api/v1/modeler/deploy", headers=admin.headers, json={"file_name": FILE, "xml": broken}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith("模型有 1 处错误，未部署")
    assert body["problems"][0]["element_id"] == "flow_gw_precheck_gw_cond_split"
    miwg = (PROJECT.parent / "shared/conformance/miwg-reference/A.1.0.bpmn").read_bytes()
    response = client.post(
        "/api/v1/modeler/deploy",
        headers=admin.headers,
        json={"file_name": "A.1.0.bpmn", "xml": miwg.decode("latin-1")},
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith("该模型不能部署：流程")
    assert "未标记为可执行" in response.json()["message"]
    assert [
        v["version"]
        for v in admin.get("/api/v1/definitions")["items"]
        if v["process_id"] == PROCESS
    ] == [1]


def with_materials(xml: str, task_form: str, materials: str) -> str:
    """The task whose formKey is `task_form` gets a `materials` property (raw JSON text)."""
    marker = f'<spiffworkflow:property name="formKey" value="{task_form}" />'
    value = materials.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    assert marker in xml
    return xml.replace(
        marker, f'{marker}\n<spiffworkflow:property name="materials" value="{value}" />', 1
    )


APPLY_LIST = [
    {"name": "入市申请书", "required": True, "note": "盖章"},
    {"name": "宗地界址图", "required": True, "note": ""},
    {"name": "村民代表会议决议", "required": False, "note": "三分之二以上同意"},
]


def test_materials_edited_in_the_diagram_are_validated_and_deployed(admin, client, modeler_lf):
    xml = current_xml(admin)

    def refused(materials: str) -> list[str]:
        checked = admin.post(
            "/api/v1/modeler/validate",
            {"file_name": FILE, "xml": with_materials(xml, "entry_application", materials)},
        )
        assert not checked["valid"]
        return [(e["element_id"], e["message"]) for e in checked["errors"]]

    twice = json.dumps([{"name": "宗地图", "required": True}] * 2, ensure_ascii=False)
    assert refused(twice) == [("apply", "环节“提出入市申请”的所需材料第 2 项：材料“宗地图”重复")]
    assert refused("[{") == [
        ("apply", "环节“提出入市申请”的所需材料（materials）不是有效的 JSON 列表")
    ]
    bad_name = json.dumps([{"name": "a/b.pdf", "required": True}])
    assert "含有 . / \\ * 引号 尖括号" in refused(bad_name)[0][1]
    assert "应为 true 或 false" in refused('[{"name": "宗地图", "required": "是"}]')[0][1]
    # the ordinary deployment (not through the modeler) refuses it too
    broken = with_materials(xml, "entry_application", twice).encode()
    response = client.post(
        "/api/v1/definitions", headers=admin.headers, files={"files": (FILE, broken, "text/xml")}
    )
    assert response.status_code == 422, response.text
    assert "材料“宗地图”重复" in response.text

    def start(key: str) -> Scenario:
        modeler_lf.clock.set(START)
        return Scenario(modeler_lf, PROCESS, VILLAGE, business_key=key)

    before = start("入市-1")  # a case on version 1 keeps materials.csv's list
    listed = json.dumps(APPLY_LIST, ensure_ascii=False)
    edited = with_materials(
        with_materials(xml, "entry_application", listed), "entry_precheck", "[]"
    )
    draft = admin.post(
        "/api/v1/modeler/drafts",
        {"process_id": PROCESS, "file_name": FILE, "xml": edited, "note": "材料"},
        expect=201,
    )
    assert 'name="materials"' in admin.get(f"/api/v1/modeler/drafts/{draft['id']}")["xml"]
    deployed = admin.post("/api/v1/modeler/deploy", {"file_name": FILE, "xml": edited}, expect=201)
    assert [v["version"] for v in deployed["created"]] == [2]
    diff = admin.get(f"/api/v1/modeler/processes/{PROCESS}/diff", base=1, target=2)
    labels = {(c["id"], ch["label"]) for c in diff["changed"] for ch in c["changes"]}
    assert labels == {("apply", "所需材料"), ("precheck", "所需材料")}

    after = start("入市-2")
    asked = admin.get(f"/api/v1/tasks/{after.task('apply')['id']}/materials")
    assert [(m["name"], m["required"], m["note"]) for m in asked["materials"]] == [
        (m["name"], m["required"], m["note"]) for m in APPLY_LIST
    ]
    assert asked["missing"] == ["入市申请书", "宗地界址图"]
    old = admin.get(f"/api/v1/tasks/{before.task('apply')['id']}/materials")
    assert old["missing"] == ["入市申请书", "土地权属证明", "宗地图"]
    applicant = after.actor(after.department_for("applicant", "village"))
    task_id = after.task("apply")["id"]
    with pytest.raises(ValidationFailed) as blocked:
        modeler_lf.tasks.complete(applicant, task_id, application())
    missing = [e.field for e in blocked.value.errors]
    assert missing == ["materials.入市申请书", "materials.宗地界址图"]
    refused_upload = client.post(
        f"/api/v1/tasks/{task_id}/attachments",
        headers=admin.headers,
        files={"file": ("宗地图.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        data={"material": "宗地图"},  # listed by materials.csv, no longer by the diagram
    )
    assert refused_upload.status_code in (403, 422)
    with pytest.raises(ValidationFailed, match="材料清单中没有这项材料"):
        modeler_lf.attachments.upload(applicant, task_id, "宗地图", "宗地图.pdf", PDF)
    for name in ("入市申请书", "宗地界址图"):
        modeler_lf.attachments.upload(applicant, task_id, name, f"{name}.pdf", PDF)
    modeler_lf.tasks.complete(applicant, task_id, application())
    assert after.open_names() == ["precheck"]
    # an empty list in the diagram asks for nothing, whatever materials.csv lists
    catalog = modeler_lf.attachments.catalog
    assert [m.name for m in catalog.for_task(PROCESS, "draft_plan")][:1] == ["入市方案"]
    assert catalog.for_task(PROCESS, "draft_plan", {"materials": "[]"}) == ()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_engines_parse_problems_read_in_chinese(admin):
    xml = current_xml(admin)
    join = '<bpmn:parallelGateway id="gw_cond_join">'
    merge = (
        f"{join}<bpmn:extensionElements><spiffworkflow:properties>"
        '<spiffworkflow:property name="merge" value="zzz" />'
        "</spiffworkflow:properties></bpmn:extensionElements>"
    )
    checked = admin.post(
        "/api/v1/modeler/validate", {"file_name": FILE, "xml": xml.replace(join, merge)}
    )
    assert [(e["element_id"], e["message"]) for e in checked["errors"]] == [
        ("gw_cond_join", "汇聚规则“zzz”无法识别（可用 strict、last）")
    ]
    stray = xml.replace(join, '<bpmn:parallelGateway id="gw_cond_join" foo="1">')
    checked = admin.post("/api/v1/modeler/validate", {"file_name": FILE, "xml": stray})
    assert [e["message"] for e in checked["errors"]] == [
        "不符合 BPMN 2.0 规范：并行网关（parallelGateway）不能有属性 foo"
    ]


def test_drafts_are_saved_listed_updated_and_known_as_deployed(admin):
    xml = current_xml(admin)
    body = {"process_id": PROCESS, "file_name": FILE, "xml": xml, "note": "初稿", "base_version": 1}
    draft = admin.post("/api/v1/modeler/drafts", body, expect=201)
    assert (draft["note"], draft["base_version"]) == ("初稿", 1)
    assert draft["deployed_at"]  # unchanged: it is what is deployed
    changed = with_committed_limit(xml, "3wd")
    updated = admin.post(
        "/api/v1/modeler/drafts",
        {**body, "xml": changed, "note": "改为3个工作日", "draft_id": draft["id"]},
        expect=201,
    )
    assert updated["id"] == draft["id"] and updated["deployed_at"] is None
    assert admin.get(f"/api/v1/modeler/drafts/{draft['id']}")["xml"] == changed
    admin.post("/api/v1/modeler/deploy", {"file_name": FILE, "xml": changed}, expect=201)
    (listed,) = admin.get("/api/v1/modeler/drafts", process_id=PROCESS)
    assert listed["note"] == "改为3个工作日" and listed["deployed_at"]
    response = admin.client.delete(f"/api/v1/modeler/drafts/{draft['id']}", headers=admin.headers)
    assert response.status_code == 204
    assert admin.get("/api/v1/modeler/drafts", process_id=PROCESS) == []


def test_expressions_decisions_and_round_trip(admin):
    checked = admin.post("/api/v1/modeler/expressions/check", {"text": "(a", "mode": "eval"})
    assert checked == {
        "ok": False,
        "message": "语法错误（第 1 行第 1 列）：括号未闭合",
        "line": 1,
        "column": 1,
    }
    assert admin.post("/api/v1/modeler/expressions/check", {"text": "x = 1", "mode": "exec"})["ok"]
    decision = admin.get("/api/v1/modeler/decisions/joint_review_entry_max_term")
    assert decision["file_name"] == "joint_review_entry_max_term.dmn"
    assert "<decisionTable" in decision["xml"]
    admin.get("/api/v1/modeler/decisions/nope", expect=404)
    xml = current_xml(admin)
    same = admin.post(
        "/api/v1/modeler/round-trip", {"file_name": FILE, "original": xml, "exported": xml}
    )
    assert same["ok"] and same["checked"] > 1000
    lost = admin.post(
        "/api/v1/modeler/round-trip",
        {
            "file_name": FILE,
            "original": xml,
            "exported": with_committed_limit(xml, "5wd").replace(
                '<spiffworkflow:property name="formKey" value="entry_application" />', ""
            ),
        },
    )
    assert not lost["ok"]
    assert {x["element_id"] for x in lost["lost"]} == {"apply"}


def test_the_form_editor_checks_and_saves_forms_the_registry_then_uses(admin, modeler_lf):
    form = admin.get("/api/v1/modeler/forms/entry_precheck")
    assert form["exists"] and form["revisions"] == []
    assert any(u["element_id"] == "precheck" for u in form["used_by"])
    schema = json.loads(form["content"])
    bad = admin.post("/api/v1/modeler/forms/entry_precheck/check", {"content": "{"})
    assert not bad["valid"] and bad["errors"][0].startswith("不是有效的 JSON")
    read_by_diagram = dict(
        schema,
        properties={
            k: v for k, v in schema["properties"].items() if k != "planning_designates_business_use"
        },
    )
    warned = admin.post(
        "/api/v1/modeler/forms/entry_precheck/check",
        {"content": json.dumps(read_by_diagram, ensure_ascii=False)},
    )
    assert warned["valid"]
    assert any("planning_designates_business_use" in w for w in warned["warnings"]), warned
    schema["properties"]["precheck_note"] = {"title": "审查备注", "type": "string"}
    content = json.dumps(schema, ensure_ascii=False, indent=2)
    saved = admin.client.put(
        "/api/v1/modeler/forms/entry_precheck",
        headers=admin.headers,
        json={"content": content, "note": "增加审查备注"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["revision"] == 2
    assert "precheck_note" in modeler_lf.forms.schema("entry_precheck")["properties"]
    revisions = admin.get("/api/v1/modeler/forms/entry_precheck")["revisions"]
    assert [(r["revision"], r["saved_by"], r["note"]) for r in revisions] == [
        (2, "admin", "增加审查备注"),
        (1, "file", "保存前的文件"),
    ]
    first = admin.get("/api/v1/modeler/forms/entry_precheck/revisions/1")
    assert "precheck_note" not in first["content"]
    refused = admin.client.put(
        "/api/v1/modeler/forms/entry_precheck", headers=admin.headers, json={"content": "[]"}
    )
    assert refused.status_code == 422
    assert "precheck_note" in modeler_lf.forms.schema("entry_precheck")["properties"]


def test_clerks_are_refused(client):
    clerk = ApiUser(client, "zrzy.330702", "demo")
    clerk.get(f"/api/v1/modeler/processes/{PROCESS}", expect=403)
    clerk.get("/api/v1/modeler/choices", expect=403)
    clerk.get("/api/v1/modeler/forms", expect=403)
    clerk.post("/api/v1/modeler/validate", {"file_name": FILE, "xml": "<x/>"}, expect=403)
