"""The sample process, end to end over HTTP on SQLite and PostgreSQL: lanes, exclusive and
parallel gateways, DMN, a call activity, a parallel multi-instance task, an interrupting
boundary timer and a message catch. The state is stored and restored between every step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from tests.support import ApiUser, assert_state_round_trips

APPLICATION = {"parcel_area": 250.5, "use": "工业", "reviewers": ["发改局", "生态环境局"]}


@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def alice(client) -> ApiUser:
    return ApiUser(client, "alice", "alice-pass")


def start_case(user: ApiUser, business_key: str = "PARCEL-001") -> dict:
    case = user.post(
        "/api/v1/instances",
        {"process_id": "sample_review", "region": "330702101201", "business_key": business_key},
        expect=201,
    )
    assert case["status"] == "running"
    return case


def step(lf, user: ApiUser, case_id: str, name: str, data: dict) -> dict:
    task = user.task(case_id, name)
    result = user.complete(task["id"], data)
    assert_state_round_trips(lf, case_id)
    return result


def test_large_parcel_runs_every_construct_to_completion(lf, alice):
    case = start_case(alice)
    case_id = case["id"]
    assert_state_round_trips(lf, case_id)
    first = alice.task(case_id, "submit_application")
    assert first["lane"] == "申请人" and first["form_key"] == "application"
    assert first["region"] == "330702101201" and first["title"] == "提交申请"

    step(lf, alice, case_id, "submit_application", APPLICATION)
    detail = alice.get(f"/api/v1/instances/{case_id}")
    assert detail["data"]["fee_class"] == "large"  # from the DMN table

    step(lf, alice, case_id, "precheck", {"ok": True, "remark": "材料齐全"})
    open_names = sorted(t["name"] for t in alice.open_tasks(case_id))
    assert open_names == ["joint_review", "joint_review", "pay"]
    reviews = [t for t in alice.open_tasks(case_id) if t["name"] == "joint_review"]
    assert sorted(t["properties"]["item"] for t in reviews) == ["发改局", "生态环境局"]
    pay = alice.task(case_id, "pay")
    assert pay["process_id"] == "sample_payment" and pay["lane"] == "财政局"

    for review, opinion in zip(reviews, ["同意", "修改后同意"], strict=True):
        # not agreeing outright needs a reason
        remark = {"remark": "补充排水方案"} if opinion != "同意" else {}
        alice.complete(review["id"], {"opinion": opinion, **remark})
        assert_state_round_trips(lf, case_id)
    step(lf, alice, case_id, "pay", {"amount": 12345.6})
    decide = alice.task(case_id, "decide")
    step(lf, alice, case_id, "decide", {"approved": True})

    waiting = alice.get(f"/api/v1/instances/{case_id}")
    assert waiting["status"] == "waiting"
    assert sorted(waiting["data"]["opinions"]) == ["修改后同意", "同意"]
    assert waiting["data"]["paid"] is True

    result = alice.post(
        "/api/v1/messages/contract_signed",
        {"business_key": "PARCEL-001", "payload": {"contract_no": "HT-1"}},
    )
    assert result["status"] == "completed"
    assert_state_round_trips(lf, case_id)
    done = alice.get(f"/api/v1/instances/{case_id}")
    assert done["data"]["status"] == "done"
    assert done["data"]["contract"] == {"contract_no": "HT-1"}
    assert done["ended_at"] is not None
    actions = [h["action"] for h in done["history"]]
    assert actions[0] == "instance_started" and actions[-1] == "instance_completed"
    assert "message_received" in actions
    completed = [h for h in done["history"] if h["action"] == "task_completed"]
    assert len(completed) == 6 and all(h["actor"] == "alice" for h in completed)
    assert any(h["task_id"] == decide["id"] for h in completed)
    assert not alice.open_tasks(case_id)


def test_refused_precheck_ends_the_case(lf, alice):
    case_id = start_case(alice)["id"]
    step(lf, alice, case_id, "submit_application", APPLICATION)
    step(lf, alice, case_id, "precheck", {"ok": False})
    done = alice.get(f"/api/v1/instances/{case_id}")
    assert done["status"] == "completed"
    assert "status" not in done["data"]


def test_small_parcel_skips_precheck(lf, alice):
    case_id = start_case(alice)["id"]
    step(lf, alice, case_id, "submit_application", {**APPLICATION, "parcel_area": 12})
    names = sorted(t["name"] for t in alice.open_tasks(case_id))
    assert names == ["joint_review", "joint_review", "pay"]


def test_boundary_timer_interrupts_the_decision(lf, clock, alice):
    case_id = start_case(alice)["id"]
    step(lf, alice, case_id, "submit_application", {**APPLICATION, "reviewers": ["发改局"]})
    step(lf, alice, case_id, "precheck", {"ok": True})
    step(lf, alice, case_id, "joint_review", {"opinion": "同意"})
    step(lf, alice, case_id, "pay", {"amount": 1})
    decide = alice.task(case_id, "decide")

    clock.advance(timedelta(days=4, hours=23))
    assert lf.jobs.run_due() == 0
    assert alice.task(case_id, "decide")["id"] == decide["id"]

    clock.advance(timedelta(hours=1, seconds=1))
    assert lf.jobs.run_due() == 1
    assert_state_round_trips(lf, case_id)
    case = alice.get(f"/api/v1/instances/{case_id}")
    states = {t["name"]: t["state"] for t in case["tasks"]}
    assert states["decide"] == "cancelled"
    assert states["escalated_decide"] == "open"
    assert case["data"]["timed_out"] is True
    assert any(h["action"] == "timer_fired" for h in case["history"])
    alice.complete(decide["id"], {"approved": True}, expect=409)
    assert lf.jobs.run_due() == 0


def test_message_without_a_waiting_case_is_404(alice):
    case_id = start_case(alice)["id"]
    response = alice.client.post(
        "/api/v1/messages/contract_signed",
        headers=alice.headers,
        json={"business_key": "PARCEL-001"},
    )
    assert response.status_code == 404
    assert "在等待消息 contract_signed" in response.json()["message"]
    response = alice.client.post(
        "/api/v1/messages/contract_signed",
        headers=alice.headers,
        json={"instance_id": case_id, "business_key": "X"},
    )
    assert response.status_code == 400


def test_form_data_is_validated_with_field_errors(lf, alice):
    case_id = start_case(alice)["id"]
    task = alice.task(case_id, "submit_application")
    body = alice.complete(task["id"], {"parcel_area": -3, "use": "住宅", "extra": 1}, expect=422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"parcel_area", "use", "reviewers", "extra"}
    assert any("宗地面积" in e["message"] for e in body["errors"])
    assert alice.task(case_id, "submit_application")["state"] == "open"
    assert_state_round_trips(lf, case_id)


def test_get_task_carries_its_form_schema(alice):
    case_id = start_case(alice)["id"]
    task = alice.task(case_id, "submit_application")
    detail = alice.get(f"/api/v1/tasks/{task['id']}")
    assert detail["form"]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert detail["form"]["properties"]["use"]["enum"][0] == "工业"
    assert detail["instance"]["id"] == case_id


def test_claim_unclaim_and_comment(client, alice):
    bob = ApiUser(client, "bob", "bob-pass")
    case_id = start_case(alice)["id"]
    task = alice.task(case_id, "submit_application")
    assert alice.post(f"/api/v1/tasks/{task['id']}/claim")["assignee"] == "alice"
    bob.post(f"/api/v1/tasks/{task['id']}/claim", expect=409)
    alice.post(f"/api/v1/tasks/{task['id']}/claim", expect=409)
    bob.complete(task["id"], APPLICATION, expect=409)
    mine = alice.get("/api/v1/tasks", scope="mine")
    assert [t["id"] for t in mine["items"]] == [task["id"]] and mine["total"] == 1
    assert bob.get("/api/v1/tasks", scope="mine")["total"] == 0
    assert alice.get("/api/v1/tasks", scope="queue")["total"] == 0
    alice.post(f"/api/v1/tasks/{task['id']}/unclaim")
    assert bob.get("/api/v1/tasks", scope="queue")["total"] == 1
    comment = bob.post(f"/api/v1/tasks/{task['id']}/comments", {"text": "请补充界址图"}, expect=201)
    assert comment["author"] == "bob"
    detail = alice.get(f"/api/v1/tasks/{task['id']}")
    assert detail["comments"][0]["text"] == "请补充界址图"
    done = alice.complete(task["id"], APPLICATION)
    assert done["task"]["completed_by"] == "alice"
    assert alice.get("/api/v1/tasks", state="done")["total"] == 1


def test_duplicate_business_key_is_409_and_bad_start_is_422(alice):
    start_case(alice)
    alice.post(
        "/api/v1/instances",
        {"process_id": "sample_review", "region": "330702101201", "business_key": "PARCEL-001"},
        expect=409,
    )
    body = alice.post(
        "/api/v1/instances", {"process_id": "sample_review", "region": "zj"}, expect=422
    )
    assert body["errors"][0]["field"] == "region"
    alice.post("/api/v1/instances", {"process_id": "nope", "region": "330702101201"}, expect=404)
    alice.post("/api/v1/instances", {"region": "330702101201"}, expect=422)
