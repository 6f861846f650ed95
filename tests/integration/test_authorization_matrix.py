"""Every API route, taken from the app itself, against an outsider: a clerk of another county
gets 404 for anything of the case (no existence leak), 403 for administration, and lists that
do not contain it. A route missing from RULES fails the test, so no new route skips the check."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.services.actor import SYSTEM
from tests.bpmn_builder import laned_process

CASE, TASK, ADMIN, LIST, SELF, PUBLIC, MESSAGE = (
    "case",
    "task",
    "admin",
    "list",
    "self",
    "public",
    "message",
)

# (method, path) -> (what it touches, a valid body)
RULES: dict[tuple[str, str], tuple[str, object]] = {
    ("GET", "/api/v1/health"): (PUBLIC, None),
    ("POST", "/api/v1/auth/token"): (PUBLIC, None),
    ("POST", "/api/v1/auth/logout"): (SELF, None),
    ("GET", "/api/v1/me"): (SELF, None),
    ("GET", "/api/v1/auth/tokens"): (SELF, None),
    # someone else's sign-in answers like one that does not exist
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): (CASE, None),
    ("POST", "/api/v1/auth/password"): (
        SELF,
        {"current_password": "demo", "new_password": "a-new-pass-phrase"},
    ),
    ("GET", "/api/v1/admin/users/{username}/tokens"): (ADMIN, None),
    ("DELETE", "/api/v1/admin/users/{username}/tokens"): (ADMIN, None),
    ("GET", "/api/v1/admin/audit/verify"): (ADMIN, None),
    ("GET", "/api/v1/admin/audit/chain"): (ADMIN, None),
    ("GET", "/api/v1/definitions"): (LIST, None),
    ("POST", "/api/v1/definitions"): (ADMIN, None),
    ("GET", "/api/v1/definitions/files/{file_name}"): (SELF, None),  # diagrams are not secret
    ("POST", "/api/v1/instances"): (CASE, {"process_id": "parcel", "region": "330702101201"}),
    ("GET", "/api/v1/instances"): (LIST, None),
    ("GET", "/api/v1/instances/{instance_id}"): (CASE, None),
    ("GET", "/api/v1/instances/{instance_id}/diagram"): (CASE, None),
    ("POST", "/api/v1/instances/{instance_id}/terminate"): (ADMIN, {"reason": "x"}),
    ("GET", "/api/v1/tasks"): (LIST, None),
    ("GET", "/api/v1/tasks/counts"): (SELF, None),
    ("POST", "/api/v1/tasks/claim"): (LIST, {"task_ids": ["{task_id}"]}),
    ("GET", "/api/v1/tasks/{task_id}"): (TASK, None),
    ("POST", "/api/v1/tasks/{task_id}/claim"): (TASK, None),
    ("POST", "/api/v1/tasks/{task_id}/unclaim"): (TASK, None),
    ("POST", "/api/v1/tasks/{task_id}/transfer"): (TASK, {"to": "zrzy.330782"}),
    ("POST", "/api/v1/tasks/{task_id}/delegate"): (TASK, {"to": "zrzy.330782"}),
    ("POST", "/api/v1/tasks/{task_id}/resolve"): (TASK, {"data": {}}),
    ("POST", "/api/v1/tasks/{task_id}/return"): (TASK, {"reason": "x"}),
    ("POST", "/api/v1/tasks/{task_id}/complete"): (TASK, {"data": {}}),
    ("POST", "/api/v1/tasks/{task_id}/comments"): (TASK, {"text": "x"}),
    ("POST", "/api/v1/messages/{name}"): (MESSAGE, {"business_key": "WC-1"}),
    ("GET", "/api/v1/org/types"): (SELF, None),
    ("GET", "/api/v1/org/regions"): (SELF, None),
    ("POST", "/api/v1/org/regions"): (
        ADMIN,
        {"code": "330702103", "name": "新镇", "level": "township", "parent": "330702"},
    ),
    ("GET", "/api/v1/org/departments"): (SELF, None),
    ("POST", "/api/v1/org/departments"): (ADMIN, {"dept_type": "sl", "region": "330702101"}),
    ("GET", "/api/v1/org/users"): (ADMIN, None),
    ("POST", "/api/v1/org/users"): (
        ADMIN,
        {"username": "x1", "display_name": "x", "password": "password-1"},
    ),
    ("POST", "/api/v1/org/users/{username}/memberships"): (ADMIN, {"department": "zrzy.330702"}),
    ("POST", "/api/v1/org/substitutions"): (
        CASE,
        {
            "absent": "zrzy.330702",
            "substitute": "zrzy.330782",
            "starts_on": "2026-11-01",
            "ends_on": "2026-11-30",
            "reason": "x",
        },
    ),
    ("POST", "/api/v1/org/import/{kind}"): (ADMIN, None),
    ("GET", "/api/v1/org/users/{username}"): (ADMIN, None),
    ("POST", "/api/v1/org/users/{username}/deactivate"): (ADMIN, None),
    ("POST", "/api/v1/org/users/{username}/reactivate"): (ADMIN, None),
    ("DELETE", "/api/v1/org/users/{username}/memberships/{department}/{role}"): (ADMIN, None),
    ("GET", "/api/v1/org/substitutions"): (ADMIN, None),
    ("POST", "/api/v1/org/substitutions/{substitution_id}/end"): (CASE, None),
    ("POST", "/api/v1/org/import/{kind}/preview"): (ADMIN, {"csv": "code,name,level\n"}),
    ("POST", "/api/v1/org/import/{kind}/apply"): (ADMIN, {"csv": "code,name,level\n"}),
    ("GET", "/api/v1/admin/overview"): (ADMIN, None),
    ("GET", "/api/v1/admin/definitions"): (ADMIN, None),
    ("GET", "/api/v1/admin/definitions/{process_id}/versions/{version}/diagram"): (ADMIN, None),
    ("GET", "/api/v1/admin/jobs"): (ADMIN, None),
    ("POST", "/api/v1/admin/jobs/{job_id}/retry"): (ADMIN, None),
    ("GET", "/api/v1/admin/audit"): (ADMIN, None),
    ("GET", "/api/v1/tasks/{task_id}/sla"): (TASK, None),
    ("POST", "/api/v1/tasks/{task_id}/sla/suspend"): (TASK, {"reason_type": "听证", "reason": "x"}),
    ("POST", "/api/v1/tasks/{task_id}/sla/resume"): (TASK, None),
    ("POST", "/api/v1/tasks/{task_id}/sla/extension"): (TASK, {"days": 5, "reason": "x"}),
    ("POST", "/api/v1/tasks/{task_id}/sla/extension/decision"): (TASK, {"approve": True}),
    ("GET", "/api/v1/supervision-orders"): (LIST, None),
    # 督办单: an outsider sees neither the step nor any order (order 1 is as unknown as any)
    ("POST", "/api/v1/supervision-orders"): (
        TASK,
        {"task_id": "{task_id}", "grade": "blue", "text": "x", "reply_days": 3},
    ),
    ("GET", "/api/v1/instances/{instance_id}/supervision-options"): (CASE, None),
    ("GET", "/api/v1/supervision-orders/{order_id}"): (CASE, None),
    ("POST", "/api/v1/supervision-orders/{order_id}/reply"): (CASE, {"data": {}}),
    ("POST", "/api/v1/supervision-orders/{order_id}/close"): (CASE, {}),
    ("POST", "/api/v1/supervision-orders/{order_id}/send-back"): (
        CASE,
        {"opinion": "x", "days": 2},
    ),
    ("POST", "/api/v1/supervision-orders/{order_id}/escalate"): (CASE, {"reason": "x"}),
    ("GET", "/api/v1/calendar"): (SELF, None),
    ("GET", "/api/v1/calendar/history"): (ADMIN, None),
    ("GET", "/api/v1/calendar/{year}"): (SELF, None),
    ("PUT", "/api/v1/calendar/days/{day}"): (ADMIN, {"kind": "holiday", "name": "x"}),
    ("POST", "/api/v1/calendar/import"): (ADMIN, None),
    ("GET", "/api/v1/admin/alerts"): (ADMIN, None),
    ("GET", "/api/v1/instances/{instance_id}/sla"): (CASE, None),
    ("GET", "/api/v1/time-limits"): (ADMIN, None),
    ("PUT", "/api/v1/time-limits"): (
        ADMIN,
        {"process_id": "parcel", "task_spec": "check", "kind": "committed", "limit": "5wd"},
    ),
    ("DELETE", "/api/v1/time-limits/{rule_id}"): (ADMIN, None),
    ("POST", "/api/v1/admin/clock"): (ADMIN, {"now": "2026-11-02T09:00:00+08:00"}),
    ("DELETE", "/api/v1/admin/clock"): (ADMIN, None),
    ("GET", "/api/v1/incidents"): (ADMIN, None),
    ("GET", "/api/v1/incidents/counts"): (ADMIN, None),
    ("GET", "/api/v1/incidents/{incident_id}"): (ADMIN, None),
    ("POST", "/api/v1/incidents/{incident_id}/retry"): (ADMIN, {"data": {}}),
    ("POST", "/api/v1/incidents/{incident_id}/cancel-step"): (ADMIN, {"reason": "x"}),
    ("GET", "/api/v1/tasks/{task_id}/materials"): (TASK, None),
    ("POST", "/api/v1/tasks/{task_id}/attachments"): (TASK, None),
    ("GET", "/api/v1/instances/{instance_id}/attachments"): (CASE, None),
    ("GET", "/api/v1/attachments/{attachment_id}"): (CASE, None),
    ("GET", "/api/v1/attachments/{attachment_id}/content"): (CASE, None),
    ("DELETE", "/api/v1/attachments/{attachment_id}"): (CASE, None),
    ("GET", "/api/v1/notifications"): (SELF, None),
    ("POST", "/api/v1/notifications/read"): (SELF, {}),
    ("GET", "/api/v1/me/notification-preferences"): (SELF, None),
    ("PUT", "/api/v1/me/notification-preferences"): (SELF, {}),
    ("GET", "/api/v1/admin/deliveries"): (ADMIN, None),
    ("GET", "/api/v1/admin/deliveries/{delivery_id}"): (ADMIN, None),
    ("POST", "/api/v1/admin/deliveries/replay"): (ADMIN, {"ids": [1]}),
    ("GET", "/api/v1/admin/notification-endpoints"): (ADMIN, None),
    ("POST", "/api/v1/admin/notification-endpoints"): (
        ADMIN,
        {"department": "zrzy.330702", "kind": "webhook", "name": "x", "url": "https://x.cn"},
    ),
    ("PUT", "/api/v1/admin/notification-endpoints/{endpoint_id}"): (
        ADMIN,
        {"department": "zrzy.330702", "kind": "webhook", "name": "x", "url": "https://x.cn"},
    ),
    ("DELETE", "/api/v1/admin/notification-endpoints/{endpoint_id}"): (ADMIN, None),
    ("GET", "/api/v1/spot-checks/candidates"): (ADMIN, None),
    ("GET", "/api/v1/spot-checks/draws"): (ADMIN, None),
    ("POST", "/api/v1/spot-checks/draws"): (ADMIN, {"year": 2026}),
    ("GET", "/api/v1/spot-checks/draws/{draw_id}"): (ADMIN, None),
    ("GET", "/api/v1/dispatch"): (ADMIN, None),  # offices and administrators only
    ("GET", "/api/v1/dispatch/cases"): (ADMIN, None),
    ("GET", "/api/v1/dispatch/heatmap"): (ADMIN, None),
    ("GET", "/api/v1/dispatch/choices"): (ADMIN, None),
    ("GET", "/api/v1/dispatch/targets"): (ADMIN, None),
    ("PUT", "/api/v1/dispatch/targets"): (
        ADMIN,
        {"year": 2026, "region": "330702", "indicator": "new_farmland", "target": 1},
    ),
    ("GET", "/api/v1/admin/notification-templates"): (ADMIN, None),
    ("GET", "/api/v1/admin/notification-templates/{event}/{channel}"): (ADMIN, None),
    ("PUT", "/api/v1/admin/notification-templates/{event}/{channel}"): (ADMIN, {"source": "x"}),
    ("POST", "/api/v1/admin/notification-templates/{event}/{channel}/reset"): (ADMIN, None),
    ("POST", "/api/v1/admin/notification-templates/{event}/{channel}/preview"): (
        ADMIN,
        {"source": "x"},
    ),
    ("GET", "/api/v1/migrations/{process_id}"): (ADMIN, None),
    ("POST", "/api/v1/migrations/{process_id}/dry-run"): (ADMIN, {"target_version": 1}),
    ("POST", "/api/v1/migrations/{process_id}"): (ADMIN, {"target_version": 1}),
    # reports: offices and administrators only (a report outside the territory: 404)
    ("GET", "/api/v1/reports"): (ADMIN, None),
    ("POST", "/api/v1/reports"): (ADMIN, {"kind": "monthly"}),
    ("POST", "/api/v1/reports/bulletins"): (ADMIN, {"title": "x"}),
    ("GET", "/api/v1/reports/{report_id}"): (ADMIN, None),
    ("GET", "/api/v1/reports/{report_id}/{fmt}"): (ADMIN, None),
    ("GET", "/api/v1/modeler/choices"): (ADMIN, None),
    ("GET", "/api/v1/modeler/processes/{process_id}"): (ADMIN, None),
    ("GET", "/api/v1/modeler/processes/{process_id}/diff"): (ADMIN, None),
    ("POST", "/api/v1/modeler/validate"): (ADMIN, {"file_name": "parcel.bpmn", "xml": "<x/>"}),
    ("POST", "/api/v1/modeler/deploy"): (ADMIN, {"file_name": "parcel.bpmn", "xml": "<x/>"}),
    ("POST", "/api/v1/modeler/expressions/check"): (ADMIN, {"text": "a == 1"}),
    ("GET", "/api/v1/modeler/decisions/{decision_id}"): (ADMIN, None),
    ("POST", "/api/v1/modeler/round-trip"): (
        ADMIN,
        {"file_name": "parcel.bpmn", "original": "<x/>", "exported": "<x/>"},
    ),
    ("GET", "/api/v1/modeler/drafts"): (ADMIN, None),
    ("POST", "/api/v1/modeler/drafts"): (
        ADMIN,
        {"process_id": "parcel", "file_name": "parcel.bpmn", "xml": "<x/>"},
    ),
    ("GET", "/api/v1/modeler/drafts/{draft_id}"): (ADMIN, None),
    ("DELETE", "/api/v1/modeler/drafts/{draft_id}"): (ADMIN, None),
    ("GET", "/api/v1/modeler/forms"): (ADMIN, None),
    ("GET", "/api/v1/modeler/forms/{form_key}"): (ADMIN, None),
    ("GET", "/api/v1/modeler/forms/{form_key}/revisions/{revision}"): (ADMIN, None),
    ("POST", "/api/v1/modeler/forms/{form_key}/check"): (ADMIN, {"content": "{}"}),
    ("PUT", "/api/v1/modeler/forms/{form_key}"): (ADMIN, {"content": "{}"}),
}
PARAMS = {
    "order_id": "1",
    "report_id": "1",
    "fmt": "pdf",
    "token_id": "999999",
    "process_id": "parcel",
    "file_name": "parcel.bpmn",
    "name": "signed",
    "username": "zrzy.330702",
    "kind": "regions",
    "year": "2026",
    "day": "2026-11-03",
    "rule_id": "1",
    "incident_id": "1",
    "attachment_id": "00000000-0000-0000-0000-0000000a77ac",
    "delivery_id": "1",
    "draw_id": "1",
    "event": "sla_red",
    "channel": "inapp",
    "endpoint_id": "1",
    "department": "zrzy.330702",
    "role": "handler",
    "substitution_id": "1",
    "version": "1",
    "job_id": "1",
    "decision_id": "fees",
    "draft_id": "1",
    "form_key": "application",
    "revision": "1",
}


@pytest.fixture
def setup(lf):
    lf.definitions.deploy(
        {
            "parcel.bpmn": laned_process(
                "parcel", [("check", {"dept_type": "zrzy", "level": "county"}, {})]
            )
        },
        SYSTEM,
    )
    case = lf.instances.start(SYSTEM, "parcel", "330702101201", "WC-1")
    task = next(t for t in lf.instances.get(SYSTEM, case["id"])["tasks"])
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        yield client, case["id"], task["id"]


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": "demo"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def concrete(path: str, case_id: str, task_id: str) -> str:
    values = {**PARAMS, "instance_id": case_id, "task_id": task_id}
    for key, value in values.items():
        path = path.replace("{" + key + "}", value)
    return path


def fill(body, task_id: str):
    if isinstance(body, dict):
        return {k: fill(v, task_id) for k, v in body.items()}
    if isinstance(body, list):
        return [fill(v, task_id) for v in body]
    return task_id if body == "{task_id}" else body


def test_every_route_has_a_rule(setup):
    client, _, _ = setup
    served = {(m.upper(), p) for p, ops in client.app.openapi()["paths"].items() for m in ops}
    assert served - set(RULES) == set(), "declare how these routes are authorized"
    assert set(RULES) - served == set(), "these rules name routes that no longer exist"


def test_an_outsider_learns_nothing_about_the_case(setup):
    client, case_id, task_id = setup
    outsider = sign_in(client, "zrzy.330782")
    fake_case, fake_task = (
        "00000000-0000-0000-0000-00000000c45e",
        "00000000-0000-0000-0000-0000000007a5",
    )
    for (method, path), (kind, body) in sorted(RULES.items()):
        if kind == PUBLIC:
            continue
        response = client.request(
            method, concrete(path, case_id, task_id), headers=outsider, json=fill(body, task_id)
        )
        text = response.text
        if kind in (TASK, CASE, MESSAGE):
            assert response.status_code == 404, (method, path, text)
            # indistinguishable from asking about something that does not exist
            missing = client.request(
                method,
                concrete(path, fake_case, fake_task),
                headers=outsider,
                json=fill(body, fake_task),
            )
            assert missing.status_code == 404
            assert text.replace(case_id, "ID").replace(task_id, "ID") == missing.text.replace(
                fake_case, "ID"
            ).replace(fake_task, "ID"), (method, path)
            continue
        if path == "/api/v1/auth/logout":
            outsider = sign_in(client, "zrzy.330782")
        if kind == ADMIN:
            assert response.status_code == 403, (method, path, text)
        else:
            assert response.status_code < 400, (method, path, text)
        if kind == LIST and "refused" in text:
            continue  # bulk claim reports the id the caller sent, as for an unknown one
        assert case_id not in text and task_id not in text, (method, path, text)


def test_the_insider_reaches_the_same_routes(setup):
    client, case_id, task_id = setup
    insider = sign_in(client, "zrzy.330702")
    assert client.get(f"/api/v1/tasks/{task_id}", headers=insider).status_code == 200
    assert client.get(f"/api/v1/instances/{case_id}", headers=insider).status_code == 200
    listed = client.get("/api/v1/tasks", headers=insider, params={"scope": "queue"}).json()
    assert [t["id"] for t in listed["items"]] == [task_id]
    assert (
        client.post(
            f"/api/v1/tasks/{task_id}/comments", headers=insider, json={"text": "收到"}
        ).status_code
        == 201
    )
