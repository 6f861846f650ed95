"""Hostile models (issue 14): what a diagram can ask of the engine is budgeted. A static value
over a budget is a located 422 at deploy; a value known only at run time, or any library error,
is an incident with a Chinese message that an administrator can retry; nothing is a 500 and
the server keeps answering sign-in while such a case runs or is refused."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.db.tables import Instance
from engine.errors import DefinitionInvalid
from engine.services.actor import SYSTEM
from tests.conftest import FIXTURES
from tests.live_server import serving
from tests.support import ApiUser, assert_state_round_trips

HOSTILE = FIXTURES / "hostile"
VILLAGE = "330702101201"

# file -> (element id, words of the Chinese message)
REFUSED_AT_DEPLOY = {
    "timer_duration_huge.bpmn": ("step", "时长“P99999999Y”过长"),
    "timer_cycle_zero.bpmn": ("remind", "间隔短于 60 秒"),
    "timer_cycle_negative.bpmn": ("step", "不是有效的 ISO 8601 时长"),
    "cardinality_huge.bpmn": ("step", "执行次数（loopCardinality）为 20000"),
    "service_task.bpmn": ("step", "服务任务（serviceTask）尚无可用的连接器"),
    "call_self.bpmn": ("step", "循环调用（call_self → call_self）"),
    "bpmn_named.dmn": (None, "扩展名为 .dmn，内容却是 BPMN"),
    "not_executable.bpmn": (None, "没有可执行的流程"),
}

# process -> (start data, element id of the incident, words of its Chinese message)
INCIDENT_AT_RUN = {
    "timer_dynamic": ({"wait": "P99999999Y"}, "step", "时长“P99999999Y”过长"),
    "cardinality_dynamic": ({"copies": 20000}, "step", "为 20000，超过上限 500"),
    "mi_missing_input": ({}, "step", "输入集合“reviewers”不存在"),
    "shared_references": ({}, "step", "使办件数据超过上限"),
    "shared_sum": ({}, "step", "计算出错"),
    "repeated_join": ({}, "step", "计算出错"),
    "self_reference": ({}, "step", "引用了自身"),
}


def hostile(name: str) -> bytes:
    return (HOSTILE / name).read_bytes()


def alice(lf):
    return lf.auth.actor_for("alice")


def admin(lf):
    return lf.auth.actor_for("admin")


def deploy(lf, name: str) -> None:
    lf.definitions.deploy({name: hostile(name)}, SYSTEM)


def start(lf, process_id: str, **data):
    return lf.instances.start(alice(lf), process_id, VILLAGE, data=data)


def line_of(name: str, element_id: str) -> int:
    lines = hostile(name).decode().splitlines()
    return next(i for i, text in enumerate(lines, 1) if f'id="{element_id}"' in text)


@pytest.mark.parametrize("name", sorted(REFUSED_AT_DEPLOY))
def test_a_static_value_over_a_budget_is_refused_at_deploy_located(lf, name):
    element_id, words = REFUSED_AT_DEPLOY[name]
    with pytest.raises(DefinitionInvalid) as refused:
        deploy(lf, name)
    [problem] = [p for p in refused.value.problems if p.file == name]
    assert words in problem.message, problem
    assert problem.element_id == element_id
    if element_id is not None:
        assert line_of(name, element_id) <= problem.line <= line_of(name, element_id) + 1
    else:
        assert problem.line is not None
    assert lf.definitions.list_versions(Path(name).stem) == []


@pytest.mark.parametrize("process_id", sorted(INCIDENT_AT_RUN))
def test_a_value_over_a_budget_at_run_time_is_an_incident(lf, process_id):
    data, element_id, words = INCIDENT_AT_RUN[process_id]
    deploy(lf, f"{process_id}.bpmn")
    started = time.monotonic()
    case = start(lf, process_id, **data)
    assert time.monotonic() - started < 10
    assert case["status"] == "error"
    [incident] = case["incidents"]
    assert incident["element_id"] == element_id
    assert words in incident["message"] and "已转管理员处理" in incident["message"]
    assert [t for t in case["tasks"] if t["state"] == "open"] == []
    assert_state_round_trips(lf, case["id"])
    with lf.uow.read() as session:
        stored = session.get(Instance, case["id"])
        assert len(stored.state_json) < 1_000_000
        json.loads(stored.state_json)


def test_a_timer_too_far_away_is_retried_with_corrected_data(lf, clock):
    deploy(lf, "timer_dynamic.bpmn")
    case = start(lf, "timer_dynamic", wait="P99999999Y")
    [incident] = case["incidents"]
    fixed = lf.incidents.retry(admin(lf), incident["id"], {"wait": "P2D"})
    assert fixed["incident"]["status"] == "resolved"
    assert lf.instances.get(SYSTEM, case["id"])["status"] == "waiting"
    clock.advance(timedelta(days=2, minutes=1))
    lf.jobs.run_due()
    after = lf.instances.get(SYSTEM, case["id"])
    assert [t["title"] for t in after["tasks"] if t["state"] == "open"] == ["办理"]


def test_a_missing_multi_instance_input_is_retried_with_the_list(lf):
    deploy(lf, "mi_missing_input.bpmn")
    case = start(lf, "mi_missing_input")
    [incident] = case["incidents"]
    assert incident["element_id"] == "step"
    lf.incidents.retry(admin(lf), incident["id"], {"reviewers": ["fgw", "cz"]})
    after = lf.instances.get(SYSTEM, case["id"])
    assert after["status"] == "running" and after["incidents"] == []
    assert [t["title"] for t in after["tasks"] if t["state"] == "open"] == ["会审", "会审"]
    assert_state_round_trips(lf, case["id"])


def test_a_self_referencing_value_keeps_the_case_whole_and_the_step_can_be_cancelled(lf):
    deploy(lf, "self_reference.bpmn")
    case = start(lf, "self_reference")
    [incident] = case["incidents"]
    again = lf.incidents.retry(admin(lf), incident["id"], {})
    assert again["incident"]["status"] == "open" and again["incident"]["attempts"] == 2
    lf.incidents.cancel_step(admin(lf), incident["id"], "脚本有误，跳过")
    after = lf.instances.get(SYSTEM, case["id"])
    assert after["status"] == "running"
    assert [t["title"] for t in after["tasks"] if t["state"] == "open"] == ["办理"]


def test_dates_are_stored_as_iso_text(lf):
    deploy(lf, "stores_now.bpmn")
    case = start(lf, "stores_now")
    assert case["status"] == "running" and case["incidents"] == []
    assert case["data"]["stamp"] == "2026-11-02T01:00:00+00:00"
    assert case["data"]["day"] == "2026-11-02" and case["data"]["pair"] == [1, 2]
    assert_state_round_trips(lf, case["id"])


def test_an_endless_loop_stops_at_the_step_budget_and_the_command_is_undone(lf):
    deploy(lf, "endless_loop.bpmn")
    case = start(lf, "endless_loop", n=0)
    [work] = [t for t in case["tasks"] if t["state"] == "open"]
    lf.tasks.complete(admin(lf), work["id"], {})
    after = lf.instances.get(SYSTEM, case["id"])
    assert after["status"] == "error"
    [incident] = after["incidents"]
    assert "引擎步骤超过上限（500 步）" in incident["message"]
    assert incident["element_id"] in ("count", "again")
    # the case is as the command found it: the task open again, the counter untouched
    assert [t["title"] for t in after["tasks"] if t["state"] == "open"] == ["办理"]
    assert after["data"]["n"] == 0
    assert_state_round_trips(lf, case["id"])


# ---- over HTTP: no 500, located 422s, incidents ----------------------------------------------
@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


def upload(user: ApiUser, name: str) -> httpx.Response:
    return user.client.post(
        "/api/v1/definitions",
        headers=user.headers,
        files=[("files", (name, hostile(name), "application/xml"))],
    )


def test_over_http_every_hostile_model_is_a_422_or_an_incident_never_a_500(client):
    user = ApiUser(client, "admin", "admin-pass")
    for name, (element_id, words) in REFUSED_AT_DEPLOY.items():
        response = upload(user, name)
        assert response.status_code == 422, response.text
        [problem] = [p for p in response.json()["problems"] if p["file"] == name]
        assert problem["element_id"] == element_id and words in problem["message"]
        assert isinstance(problem["line"], int)
    for process_id, (data, element_id, words) in INCIDENT_AT_RUN.items():
        assert upload(user, f"{process_id}.bpmn").status_code == 201
        case = user.post(
            "/api/v1/instances",
            {"process_id": process_id, "region": VILLAGE, "data": data},
            expect=201,
        )
        assert case["status"] == "error"
        [incident] = case["incidents"]
        assert incident["element_id"] == element_id and words in incident["message"]


# ---- a real server stays responsive ---------------------------------------------------------
def test_the_server_answers_sign_in_within_a_second_while_hostile_models_run(lf):
    """Sign-ins run back to back while each hostile model is deployed and started. Every one
    answers 200; nine in ten within 1 s and none over 3 s (this machine runs other tests
    meanwhile: one slow outlier is the scheduler's, a held lock would make them all slow)."""
    took: list[float] = []
    with serving(lf) as url, httpx.Client(base_url=url, timeout=30) as http:
        token = sign_in(http, "admin", "admin-pass")[1]
        headers = {"Authorization": f"Bearer {token}"}
        for name in [*REFUSED_AT_DEPLOY, *(f"{p}.bpmn" for p in INCIDENT_AT_RUN)]:
            outcome: dict[str, int] = {}

            def hostile_request(name: str = name, outcome: dict[str, int] = outcome) -> None:
                files = [("files", (name, hostile(name), "application/xml"))]
                deployed = http.post("/api/v1/definitions", headers=headers, files=files)
                outcome["deploy"] = deployed.status_code
                if deployed.status_code == 201:
                    process_id = Path(name).stem
                    data = INCIDENT_AT_RUN[process_id][0]
                    body = {"process_id": process_id, "region": VILLAGE, "data": data}
                    started = http.post("/api/v1/instances", headers=headers, json=body)
                    outcome["start"] = started.status_code

            worker = threading.Thread(target=hostile_request)
            worker.start()
            while worker.is_alive():
                took.append(sign_in(http)[0])
                assert took[-1] < 3.0, f"sign-in took {took[-1]:.2f} s while {name} ran"
            worker.join()
            assert outcome["deploy"] in (201, 422) and outcome.get("start", 201) == 201, outcome
            took.append(sign_in(http)[0])
    ninth = sorted(took)[int(len(took) * 0.9)]
    assert ninth < 1.0, f"nine in ten sign-ins within {ninth:.2f} s; all: {sorted(took)[-5:]}"


def sign_in(
    http: httpx.Client, username: str = "alice", password: str = "alice-pass"
) -> tuple[float, str]:
    began = time.monotonic()
    response = http.post("/api/v1/auth/token", json={"username": username, "password": password})
    took = time.monotonic() - began
    assert response.status_code == 200, response.text
    return took, response.json()["access_token"]
