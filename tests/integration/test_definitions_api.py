"""Deploying definitions: versions by content, located errors, hardened XML, admin only."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.db.tables import Instance
from engine.services.actor import SYSTEM
from tests.conftest import FIXTURES
from tests.support import ApiUser

PROCESSES = FIXTURES / "processes"


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


def versions(user: ApiUser, process_id: str) -> list[int]:
    return [v["version"] for v in user.get("/api/v1/definitions", process_id=process_id)["items"]]


def test_start_up_deploys_the_processes_directory(admin):
    items = admin.get("/api/v1/definitions")["items"]
    assert {(v["process_id"], v["version"]) for v in items} == {
        ("sample_review", 1),
        ("sample_payment", 1),
    }
    review = next(v for v in items if v["process_id"] == "sample_review")
    assert review["called_processes"] == ["sample_payment"]


def test_identical_content_is_not_a_new_version(admin):
    result = upload(admin, {"sample_review.bpmn": (PROCESSES / "sample_review.bpmn").read_bytes()})
    assert result["created"] == []
    assert {v["process_id"] for v in result["unchanged"]} == {"sample_review", "sample_payment"}
    assert versions(admin, "sample_review") == [1]


def test_changed_content_is_a_new_version_and_running_cases_stay(lf, admin):
    old = admin.post(
        "/api/v1/instances", {"process_id": "sample_review", "region": "330702101201"}, expect=201
    )
    changed = (PROCESSES / "sample_payment.bpmn").read_text().replace('name="缴费"', 'name="缴纳"')
    changed = changed.replace("paid = True", "paid = True\nreceipt = 'R-1'")
    result = upload(admin, {"sample_payment.bpmn": changed.encode()})
    assert {(v["process_id"], v["version"]) for v in result["created"]} == {
        ("sample_payment", 2),
        ("sample_review", 2),
    }
    assert versions(admin, "sample_review") == [2, 1]
    new = admin.post(
        "/api/v1/instances", {"process_id": "sample_review", "region": "330702101201"}, expect=201
    )
    assert (old["version"], new["version"]) == (1, 2)
    task = admin.task(old["id"], "submit_application")
    admin.complete(task["id"], {"parcel_area": 1, "use": "商业", "reviewers": ["a"]})
    assert admin.get(f"/api/v1/instances/{old['id']}")["version"] == 1
    with lf.uow.read() as session:
        state = json.loads(session.get(Instance, old["id"]).state_json)
    assert "spec" not in state and "subprocess_specs" not in state


def test_a_restart_keeps_an_administrators_newer_deployment(lf, admin):
    changed = (PROCESSES / "sample_payment.bpmn").read_text().replace('name="缴费"', 'name="缴纳"')
    upload(admin, {"sample_payment.bpmn": changed.encode()})
    assert versions(admin, "sample_payment") == [2, 1]
    lf.definitions.deploy_directory(PROCESSES, SYSTEM)  # what start-up does
    assert versions(admin, "sample_payment") == [2, 1]
    assert (
        "缴纳"
        in admin.client.get(
            "/api/v1/definitions/files/sample_payment.bpmn", headers=admin.headers
        ).text
    )


@pytest.mark.parametrize(
    ("file_name", "element_id", "line", "words"),
    [
        ("broken_flow.bpmn", "flow_to_nowhere", 20, "task_missing"),
        ("not_xml.bpmn", None, 12, "malformed XML"),
        ("xxe.bpmn", None, 2, "DOCTYPE"),
        ("billion_laughs.bpmn", None, 2, "DOCTYPE"),
    ],
)
def test_invalid_definitions_are_422_with_file_element_and_line(
    admin, file_name, element_id, line, words
):
    body = upload(admin, {file_name: (PROCESSES / "invalid" / file_name).read_bytes()}, 422)
    problem = body["problems"][0]
    assert problem["file"] == file_name
    assert problem["line"] == line
    if element_id:
        assert problem["element_id"] == element_id
    assert words in problem["message"]
    assert "root:" not in json.dumps(body)  # /etc/passwd never leaks into a response
    assert versions(admin, "sample_review") == [1]


def test_schema_violations_are_located(admin):
    bad = (
        (PROCESSES / "sample_payment.bpmn")
        .read_text()
        .replace('<bpmn:userTask id="pay"', '<bpmn:userTask id="pay" bogus="1"', 1)
    )
    body = upload(admin, {"bad.bpmn": bad.encode()}, 422)
    problem = body["problems"][0]
    assert problem["file"] == "bad.bpmn" and problem["element_id"] == "pay"
    assert isinstance(problem["line"], int) and "bogus" in problem["message"]


def test_missing_called_process_is_reported(admin):
    text = (PROCESSES / "sample_review.bpmn").read_text()
    text = text.replace('id="sample_review"', 'id="other_review"').replace(
        'calledElement="sample_payment"', 'calledElement="no_such_process"'
    )
    text = text.replace('processRef="sample_review"', 'processRef="other_review"')
    body = upload(admin, {"other.bpmn": text.encode()}, 422)
    assert body["problems"][0]["file"] == "other.bpmn"
    assert "no_such_process" in json.dumps(body, ensure_ascii=False)


def test_only_admins_deploy_and_only_bpmn_or_dmn(client, admin):
    alice = ApiUser(client, "alice", "alice-pass")
    upload(alice, {"x.bpmn": b"<x/>"}, 403)
    body = upload(admin, {"notes.txt": b"hello"}, 422)
    assert body["problems"][0]["file"] == "notes.txt"
    body = upload(admin, {"../evil.bpmn": b"<x/>"}, 422)
