"""Models drawn in Camunda Modeler: deployed over HTTP with what was not imported listed, then
run, their tasks routed by candidate group, with the form, decision, loop and due date mapped."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from tests.conftest import FIXTURES, VILLAGE
from tests.support import ApiUser, assert_state_round_trips

CAMUNDA = FIXTURES / "camunda"
MODEL = (CAMUNDA / "land_review.bpmn").read_text()
DECISIONS = (CAMUNDA / "review_departments.dmn").read_bytes()

# (element id, attribute) of everything the import reports as not imported
NOT_IMPORTED = {
    ("camunda_land_review", "camunda:versionTag"),
    ("camunda_land_review", "camunda:historyTimeToLive"),
    ("start", "camunda:initiator"),
    ("precheck", "camunda:assignee"),
    ("precheck", "camunda:followUpDate"),
    ("precheck", "camunda:asyncBefore"),
    ("joint_review", "camunda:formKey"),  # imported as "opinion", with a note
    ("joint_review", "camunda:taskListener"),
    ("notify_applicant", "camunda:type"),
    ("notify_applicant", "camunda:topic"),
    ("notify_applicant", "camunda:inputOutput"),
    ("decide", "camunda:priority"),
    ("decide", "camunda:candidateGroups"),  # "management" is no department type
}


@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def admin(client) -> ApiUser:
    return ApiUser(client, "admin", "admin-pass")


def upload(user: ApiUser, files: dict[str, bytes], expect: int = 201) -> dict:
    response = user.client.post(
        "/api/v1/definitions",
        headers=user.headers,
        files=[("files", (name, content, "application/xml")) for name, content in files.items()],
    )
    assert response.status_code == expect, response.text
    return response.json()


def deploy(admin: ApiUser, model: str = MODEL, expect: int = 201) -> dict:
    return upload(
        admin,
        {"land_review.bpmn": model.encode(), "review_departments.dmn": DECISIONS},
        expect,
    )


def start(admin: ApiUser, use: str = "商业") -> dict:
    return admin.post(
        "/api/v1/instances",
        {
            "process_id": "camunda_land_review",
            "region": VILLAGE,
            "data": {"parcel_area": 1200, "use": use, "reviewers": ["fgw"]},
        },
        expect=201,
    )


def clerk(client: TestClient, department: str) -> ApiUser:
    return ApiUser(client, department, "demo")


def test_deploy_lists_what_was_not_imported_with_element_attribute_and_why(admin):
    result = deploy(admin)
    assert [(v["process_id"], v["version"]) for v in result["created"]] == [
        ("camunda_land_review", 1)
    ]
    listed = {(w["element_id"], w["attribute"]) for w in result["warnings"]}
    assert listed == NOT_IMPORTED
    for warning in result["warnings"]:
        assert warning["file"] == "land_review.bpmn"
        assert isinstance(warning["line"], int) and warning["line"] > 1
        assert warning["message"] and not warning["message"].isascii()
    by_key = {(w["element_id"], w["attribute"]): w for w in result["warnings"]}
    assert by_key[("decide", "camunda:candidateGroups")]["value"] == "management"
    assert "opinion" in by_key[("joint_review", "camunda:formKey")]["message"]
    assert "空任务" in by_key[("notify_applicant", "camunda:type")]["message"]
    # deploying the same files again is no new version, and lists the same
    again = deploy(admin)
    assert again["created"] == [] and len(again["warnings"]) == len(result["warnings"])


def test_the_imported_model_routes_by_candidate_group_and_runs_to_the_end(lf, client, admin):
    deploy(admin)
    case = start(admin)

    precheck = admin.task(case["id"], "precheck")
    assert (precheck["department"], precheck["form_key"]) == ("zrzy.330702", "precheck")
    assert precheck["properties"]["sla_statutory"] == "5d"  # camunda:dueDate="P5D"
    assert precheck["due_at"] is not None
    clerk(client, "zrzy.330702").complete(precheck["id"], {"ok": True})

    # camunda:decisionRef + resultVariable (singleEntry) chose the departments; the loop over
    # camunda:collection sends one task to each, routed by "${review_dept}:county"
    instance = admin.get(f"/api/v1/instances/{case['id']}")
    assert instance["data"]["review_dept_types"] == ["fgw", "cz"]
    assert "departments" not in instance["data"]
    reviews = admin.open_tasks(case["id"])
    assert sorted(t["department"] for t in reviews) == ["cz.330702", "fgw.330702"]
    assert {t["form_key"] for t in reviews} == {"opinion"}
    for review in reviews:
        clerk(client, review["department"]).complete(review["id"], {"opinion": "同意"})

    decide = admin.task(case["id"], "decide")  # the external task in between did nothing
    assert (decide["department"], decide["form_key"]) == ("zf.330702", "decision")
    clerk(client, "zf.330702").complete(decide["id"], {"approved": True})
    assert admin.get(f"/api/v1/instances/{case['id']}")["status"] == "completed"
    assert_state_round_trips(lf, case["id"])


def test_the_start_form_and_the_refusing_branch(client, admin):
    deploy(admin)
    refused = admin.client.post(
        "/api/v1/instances",
        headers=admin.headers,
        json={"process_id": "camunda_land_review", "region": VILLAGE, "data": {"use": "商业"}},
    )
    assert refused.status_code == 422  # camunda:formKey on the start event → startFormKey
    case = start(admin, use="工业")
    precheck = admin.task(case["id"], "precheck")
    clerk(client, "zrzy.330702").complete(precheck["id"], {"ok": False})  # ${!ok}
    assert admin.get(f"/api/v1/instances/{case['id']}")["status"] == "completed"


def test_the_iso_timer_escalates_to_the_city_office(lf, clock, admin, client):
    deploy(admin)
    case = start(admin, use="保障性租赁住房")
    clerk(client, "zrzy.330702").complete(admin.task(case["id"], "precheck")["id"], {"ok": True})
    review = admin.task(case["id"], "joint_review")
    assert review["department"] == "fgw.330702"  # the decision's catch-all rule
    clerk(client, "fgw.330702").complete(review["id"], {"opinion": "同意"})
    admin.task(case["id"], "decide")
    clock.advance(timedelta(days=11))  # "P10D", quoted into a duration our timers read
    lf.jobs.run_due()
    supervise = admin.task(case["id"], "supervise")
    assert supervise["department"] == "ldxz.330700"
    assert_state_round_trips(lf, case["id"])


def test_what_cannot_run_is_refused_with_its_element_and_line(admin):
    groovy = MODEL.replace(
        '<bpmn:serviceTask id="notify_applicant" name="短信通知申请人" '
        'camunda:type="external" camunda:topic="sms">',
        '<bpmn:scriptTask id="notify_applicant" name="短信通知申请人" scriptFormat="groovy">'
        "<bpmn:script>println 'x'</bpmn:script>",
    ).replace("</bpmn:serviceTask>", "</bpmn:scriptTask>")
    broken = groovy.replace("${review_dept_types}", "${reviewers.subList(0, 2)}")
    body = deploy(admin, broken, expect=422)
    found = {p["element_id"]: p for p in body["problems"]}
    assert set(found) == {"notify_applicant", "joint_review"}
    assert "groovy" in found["notify_applicant"]["message"]
    assert "不是一个变量" in found["joint_review"]["message"]
    assert all(isinstance(p["line"], int) for p in body["problems"])
    assert admin.get("/api/v1/definitions", process_id="camunda_land_review")["items"] == []


def test_models_of_our_own_dialect_are_left_as_they_are(admin):
    sample = (FIXTURES / "processes" / "sample_review.bpmn").read_bytes()
    result = upload(admin, {"sample_review.bpmn": sample})
    assert result["created"] == [] and result["warnings"] == []
    assert json.dumps(result).count("camunda") == 0
