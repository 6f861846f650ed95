"""The organisation commands the admin console added, on SQLite and PostgreSQL: deactivating
and reactivating users, removing memberships, finding users, listing and ending stand-ins."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.db.tables import HumanTask
from engine.errors import Conflict, NotFound, PermissionDenied
from engine.services.actor import SYSTEM
from tests.bpmn_builder import laned_process
from tests.support import ApiUser

COUNTY = {"level": "county"}


@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def admin(client) -> ApiUser:
    return ApiUser(client, "admin", "admin-pass")


def claimed_task(lf, dept_type: str, username: str) -> str:
    """A case whose one task goes to `dept_type` of 婺城区, claimed by `username`."""
    pid = f"p_{dept_type}"
    lf.definitions.deploy(
        {f"{pid}.bpmn": laned_process(pid, [("check", {"dept_type": dept_type, **COUNTY}, {})])},
        SYSTEM,
    )
    case = lf.instances.start(SYSTEM, pid, "330702101201")
    [task] = lf.instances.get(SYSTEM, case["id"])["tasks"]
    lf.tasks.claim(lf.auth.actor_for(username), task["id"])
    return task["id"]


def assignee(lf, task_id: str) -> str | None:
    with lf.uow.read() as session:
        return session.get(HumanTask, task_id).assignee


def instance_of(lf, task_id: str) -> str:
    with lf.uow.read() as session:
        return session.get(HumanTask, task_id).instance_id


def test_deactivating_ends_sessions_and_puts_claims_back(lf, client, admin):
    task_id = claimed_task(lf, "zrzy", "zrzy.330702")
    clerk = ApiUser(client, "zrzy.330702", "demo")
    assert clerk.get("/api/v1/me")["username"] == "zrzy.330702"
    clerk.post("/api/v1/org/users/fgw.330702/deactivate", expect=403)

    answer = admin.post("/api/v1/org/users/zrzy.330702/deactivate")
    assert answer == {"username": "zrzy.330702", "is_active": False, "released_tasks": [task_id]}
    assert assignee(lf, task_id) is None
    clerk.get("/api/v1/me", expect=401)  # the token stopped working at once
    wrong = client.post("/api/v1/auth/token", json={"username": "zrzy.330702", "password": "demo"})
    assert wrong.status_code == 401
    admin.post("/api/v1/org/users/zrzy.330702/deactivate", expect=409)
    admin.post("/api/v1/org/users/admin/deactivate", expect=409)  # not oneself
    admin.post("/api/v1/org/users/nobody/deactivate", expect=404)
    history = lf.instances.get(SYSTEM, instance_of(lf, task_id))["history"]
    released = [h for h in history if h["action"] == "task_unclaimed"]
    assert released[-1]["actor"] == "admin"
    assert released[-1]["details"]["reason"] == "用户已停用"

    assert admin.post("/api/v1/org/users/zrzy.330702/reactivate")["is_active"] is True
    admin.post("/api/v1/org/users/zrzy.330702/reactivate", expect=409)
    assert ApiUser(client, "zrzy.330702", "demo").get("/api/v1/me")["username"] == "zrzy.330702"
    shown = admin.get("/api/v1/org/users/zrzy.330702")
    assert shown["is_active"] is True and shown["claimed_tasks"] == 0


def test_removing_the_last_role_in_a_department_releases_its_claims(lf, client, admin):
    lf.organisation.add_membership(SYSTEM, "zrzy.330702", "sthj.330702", "handler")
    lf.organisation.add_membership(SYSTEM, "zrzy.330702", "sthj.330702", "approver")
    own_task = claimed_task(lf, "zrzy", "zrzy.330702")
    sthj_task = claimed_task(lf, "sthj", "zrzy.330702")
    base = "/api/v1/org/users/zrzy.330702/memberships"

    first = client.delete(f"{base}/sthj.330702/approver", headers=admin.headers)
    assert first.status_code == 200 and first.json()["released_tasks"] == []
    assert assignee(lf, sthj_task) == "zrzy.330702"  # still a handler there
    second = client.delete(f"{base}/sthj.330702/handler", headers=admin.headers)
    assert second.json()["released_tasks"] == [sthj_task]
    assert assignee(lf, sthj_task) is None and assignee(lf, own_task) == "zrzy.330702"
    assert "sthj.330702" not in lf.auth.actor_for("zrzy.330702").departments
    again = client.delete(f"{base}/sthj.330702/handler", headers=admin.headers)
    assert again.status_code == 404 and "没有" in again.json()["message"]
    clerk = ApiUser(client, "fgw.330702", "demo")
    refused = client.delete(f"{base}/zrzy.330702/handler", headers=clerk.headers)
    assert refused.status_code == 403


def test_an_admin_keeps_their_own_admin_role(lf):
    lf.auth.ensure_user("chief", "chief-pass-1", "主任")
    lf.organisation.add_membership(SYSTEM, "chief", "zrzy.330702", "admin")
    chief = lf.auth.actor_for("chief")
    assert chief.is_admin
    with pytest.raises(Conflict):
        lf.organisation.remove_membership(chief, "chief", "zrzy.330702", "admin")
    lf.organisation.remove_membership(SYSTEM, "chief", "zrzy.330702", "admin")
    assert not lf.auth.actor_for("chief").is_admin


def test_finding_users_by_name_and_department_one_page_at_a_time(lf, admin):
    found = admin.get("/api/v1/org/users", q="婺城区", page=1, per_page=5)
    assert found["per_page"] == 5 and len(found["items"]) == 5 and found["total"] > 5
    assert all("婺城区" in u["display_name"] for u in found["items"])
    names = [u["username"] for u in found["items"]]
    assert names == sorted(names)
    second = admin.get("/api/v1/org/users", q="婺城区", page=2, per_page=5)
    assert not set(names) & {u["username"] for u in second["items"]}
    members = admin.get("/api/v1/org/users", department="sthj.330702")["items"]
    assert [u["username"] for u in members] == ["sthj.330702"]
    assert members[0]["memberships"] == [
        {"department": "sthj.330702", "role": "approver"},
        {"department": "sthj.330702", "role": "handler"},
    ]
    assert admin.get("/api/v1/org/users", q="100%_")["total"] == 0  # wildcards are literal
    everyone = admin.get("/api/v1/org/users")
    assert everyone["total"] == len(everyone["items"]) > 200


def test_stand_ins_are_listed_and_ended(lf, clock):
    today = date(2026, 11, 2)  # the test clock's local date
    running = lf.organisation.add_substitution(
        SYSTEM, "zrzy.330702", "fgw.330702", today - timedelta(days=3), today + timedelta(9), "休假"
    )
    upcoming = lf.organisation.add_substitution(
        SYSTEM, "zrzy.330702", "cz.330702", today + timedelta(days=5), today + timedelta(9), "出差"
    )
    assert running["state"] == "running" and upcoming["state"] == "upcoming"
    listed = lf.organisation.substitutions(SYSTEM, "zrzy.330702")
    assert [s["id"] for s in listed] == [upcoming["id"], running["id"]]
    assert "zrzy.330702" in lf.auth.actor_for("fgw.330702").stands_in_for

    ended = lf.organisation.end_substitution(SYSTEM, running["id"])
    assert ended["state"] == "ended" and ended["ends_on"] == "2026-11-01"
    assert lf.auth.actor_for("fgw.330702").stands_in_for == frozenset()
    assert lf.organisation.end_substitution(SYSTEM, upcoming["id"])["state"] == "cancelled"
    with pytest.raises(Conflict):
        lf.organisation.end_substitution(SYSTEM, running["id"])
    assert lf.organisation.substitutions(SYSTEM, current=True) == []
    with pytest.raises(NotFound):
        lf.organisation.end_substitution(SYSTEM, 999)
    with pytest.raises(PermissionDenied):
        lf.organisation.substitutions(lf.auth.actor_for("fgw.330702"))


def test_a_department_head_ends_a_stand_in_of_their_member_only(lf, client, admin):
    lf.auth.ensure_user("li", "li-pass-123", "李")
    lf.organisation.add_membership(SYSTEM, "li", "zrzy.330702", "handler")
    head = ApiUser(client, "zrzy.330702", "demo")
    created = head.post(
        "/api/v1/org/substitutions",
        {
            "absent": "li",
            "substitute": "fgw.330702",
            "starts_on": "2026-11-01",
            "ends_on": "2026-11-30",
            "reason": "休假",
        },
        expect=201,
    )
    outsider = ApiUser(client, "zrzy.330782", "demo")
    refused = outsider.post(f"/api/v1/org/substitutions/{created['id']}/end", expect=404)
    assert refused["message"] == f"没有编号为 {created['id']} 的代理"
    assert head.post(f"/api/v1/org/substitutions/{created['id']}/end")["state"] == "ended"
    listed = admin.get("/api/v1/org/substitutions", username="li")["items"]
    assert [s["state"] for s in listed] == ["ended"]
    head.get("/api/v1/org/substitutions", expect=403)
