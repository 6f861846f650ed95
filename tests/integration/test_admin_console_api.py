"""The admin console's own routes on SQLite and PostgreSQL: the home figures, deployments and
versions with their cases, a version's diagram, jobs with retry, and the history search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.db.tables import Job
from engine.services.actor import SYSTEM
from tests.bpmn_builder import laned_process
from tests.support import ApiUser

LANE = {"dept_type": "zrzy", "level": "county"}


@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def admin(client) -> ApiUser:
    return ApiUser(client, "admin", "admin-pass")


def deploy(lf, steps: list[str], name: str = "宗地审查") -> None:
    xml = laned_process("parcel", [(s, LANE, {}) for s in steps])
    xml = xml.replace(b'id="parcel"', f'id="parcel" name="{name}"'.encode(), 1)
    lf.definitions.deploy({"parcel.bpmn": xml}, SYSTEM)


def add_job(lf, clock, kind: str, status: str = "pending", error: str | None = None) -> int:
    with lf.uow.write() as session:
        job = Job(
            kind=kind,
            target=f"{kind}-target",
            due_at=clock.now(),
            status=status,
            attempts=5 if status == "failed" else 0,
            last_error=error,
            payload={},
            created_at=clock.now(),
        )
        session.add(job)
        session.flush()
        return job.id


def test_versions_with_their_cases_and_diagram(lf, admin, client):
    deploy(lf, ["check"])
    first = lf.instances.start(SYSTEM, "parcel", "330702101201")
    lf.instances.start(SYSTEM, "parcel", "330702101202")
    lf.instances.terminate(SYSTEM, first["id"], "重复申请")
    deploy(lf, ["check", "approve"])
    lf.instances.start(SYSTEM, "parcel", "330702101201")
    [parcel] = [
        p for p in admin.get("/api/v1/admin/definitions")["items"] if p["process_id"] == "parcel"
    ]
    assert parcel["name"] == "宗地审查"
    assert [(v["version"], v["deployed_by"], v["source"]) for v in parcel["versions"]] == [
        (2, "system", "api"),
        (1, "system", "api"),
    ]
    assert parcel["versions"][0]["cases"] == {
        "running": 1,
        "completed": 0,
        "terminated": 0,
        "error": 0,
    }
    assert parcel["versions"][1]["cases"] == {
        "running": 1,
        "completed": 0,
        "terminated": 1,
        "error": 0,
    }

    diagram = admin.get("/api/v1/admin/definitions/parcel/versions/1/diagram")
    assert 'id="check"' in diagram["xml"] and 'id="approve"' not in diagram["xml"]
    assert diagram["elements"] == [
        {"id": "check", "name": "check", "state": "active", "departments": [], "open_tasks": 1}
    ]
    admin.get("/api/v1/admin/definitions/parcel/versions/9/diagram", expect=404)
    clerk = ApiUser(client, "zrzy.330702", "demo")
    clerk.get("/api/v1/admin/definitions", expect=403)
    clerk.get("/api/v1/admin/definitions/parcel/versions/1/diagram", expect=403)


def test_the_home_figures(lf, admin, clock):
    figures = admin.get("/api/v1/admin/overview")
    assert figures["calendar_years_missing"] == [2027] and figures["this_year"] == 2026
    assert figures["running_cases"] == figures["unroutable_tasks"] == figures["failed_jobs"] == 0
    lane = {"dept_type": "sl", "level": "township"}
    lf.definitions.deploy({"w.bpmn": laned_process("w", [("check", lane, {})])}, SYSTEM)
    lf.instances.start(SYSTEM, "w", "330702101201")
    add_job(lf, clock, "timer", "failed", "boom")
    figures = admin.get("/api/v1/admin/overview")
    assert figures["running_cases"] == 1 and figures["unroutable_tasks"] == 1
    assert figures["failed_jobs"] == 1 and figures["open_incidents"] == 0
    assert figures["dead_deliveries"] == 0


def test_jobs_by_group_and_the_retry_of_a_failed_one(lf, admin, client, clock):
    failed = add_job(lf, clock, "digest", "failed", "SMTPError: refused")
    dead_delivery = add_job(lf, clock, "deliver", "failed", "gone")
    due = add_job(lf, clock, "sla")
    clock.advance(timedelta(minutes=1))
    add_job(lf, clock, "timer")  # due now too
    with lf.uow.write() as session:
        later = session.get(Job, due)
        later.due_at = clock.now() + timedelta(days=2)
    page = admin.get("/api/v1/admin/jobs", group="failed")
    assert page["counts"] == {"due": 1, "scheduled": 1, "running": 0, "held": 0, "failed": 2}
    assert {j["id"] for j in page["items"]} == {failed, dead_delivery}
    assert admin.get("/api/v1/admin/jobs", group="failed", kind="digest")["total"] == 1

    retried = admin.post(f"/api/v1/admin/jobs/{failed}/retry")
    assert retried["status"] == "pending" and retried["attempts"] == 0
    assert retried["last_error"] == "SMTPError: refused"  # kept until it runs again
    assert admin.get("/api/v1/admin/jobs", group="due")["counts"]["failed"] == 1
    admin.post(f"/api/v1/admin/jobs/{failed}/retry", expect=409)  # no longer failed
    conflict = admin.post(f"/api/v1/admin/jobs/{dead_delivery}/retry", expect=409)
    assert "消息发送记录" in conflict["message"]
    admin.post("/api/v1/admin/jobs/99999/retry", expect=404)
    ApiUser(client, "zrzy.330702", "demo").post(f"/api/v1/admin/jobs/{failed}/retry", expect=403)


def test_the_history_log_is_searched_by_case_actor_action_and_day(lf, admin, client, clock):
    deploy(lf, ["check"])
    first = lf.instances.start(SYSTEM, "parcel", "330702101201")
    clock.advance(timedelta(days=2))
    second = lf.instances.start(SYSTEM, "parcel", "330702101202")
    clerk = lf.auth.actor_for("zrzy.330702")
    [task] = lf.instances.get(SYSTEM, second["id"])["tasks"]
    lf.tasks.claim(clerk, task["id"])

    everything = admin.get("/api/v1/admin/audit")
    assert everything["total"] == 5 and everything["items"][0]["action"] == "task_claimed"
    claimed = everything["items"][0]
    assert claimed["case_no"] == second["case_no"] and claimed["task_title"] == "check"
    by_case = admin.get("/api/v1/admin/audit", case_no=first["case_no"])
    assert {e["instance_id"] for e in by_case["items"]} == {first["id"]}
    assert admin.get("/api/v1/admin/audit", user="zrzy.330702")["total"] == 1
    assert admin.get("/api/v1/admin/audit", action="instance_started")["total"] == 2
    assert admin.get("/api/v1/admin/audit", since="2026-11-04")["total"] == 3
    assert admin.get("/api/v1/admin/audit", until="2026-11-02")["total"] == 2
    assert admin.get("/api/v1/admin/audit", case_no="%")["total"] == 0
    ApiUser(client, "zrzy.330702", "demo").get("/api/v1/admin/audit", expect=403)
