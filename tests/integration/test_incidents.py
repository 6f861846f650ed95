"""Incidents: a failed step stops the case exactly where it failed; nothing but an
administrator's retry (with corrected data) or cancel moves it on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.db.tables import Job
from engine.errors import Conflict, PermissionDenied, ValidationFailed
from engine.services.actor import SYSTEM
from tests.bpmn_builder import HEADER, linear_process, script, timer_catch, user_task
from tests.support import assert_state_round_trips

VILLAGE = "330702101201"


def deploy(lf, pid: str, content: bytes) -> None:
    lf.definitions.deploy({f"{pid}.bpmn": content}, SYSTEM)


def alice(lf):
    return lf.auth.actor_for("alice")


def admin(lf):
    return lf.auth.actor_for("admin")


def start(lf, pid: str, **data):
    return lf.instances.start(alice(lf), pid, VILLAGE, data=data)


def case(lf, case_id: str):
    assert_state_round_trips(lf, case_id)
    return lf.instances.get(SYSTEM, case_id)


def open_task(lf, case_id: str, name: str):
    [task] = [t for t in case(lf, case_id)["tasks"] if t["state"] == "open" and t["name"] == name]
    return task


def parallel_with_failing_gateway(pid: str) -> bytes:
    """Two branches; branch A's gateway reads `choice`, which its task may not provide."""
    return (
        HEADER.format(pid=pid) + f'<bpmn:process id="{pid}" isExecutable="true">'
        '<bpmn:startEvent id="start"/>'
        '<bpmn:parallelGateway id="split"/>'
        '<bpmn:userTask id="choose" name="选择"/>'
        '<bpmn:exclusiveGateway id="gw" name="按选择分流"/>'
        '<bpmn:endEvent id="end_a"/><bpmn:endEvent id="end_b"/>'
        '<bpmn:userTask id="other" name="并行环节"/>'
        '<bpmn:endEvent id="end_other"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="split" targetRef="choose"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="other"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="choose" targetRef="gw"/>'
        '<bpmn:sequenceFlow id="f_a" sourceRef="gw" targetRef="end_a">'
        "<bpmn:conditionExpression>choice == 'a'</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f_b" sourceRef="gw" targetRef="end_b">'
        "<bpmn:conditionExpression>choice == 'b'</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f4" sourceRef="other" targetRef="end_other"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def test_a_failed_gateway_is_an_incident_that_freezes_the_case_until_retried(lf):
    deploy(lf, "pgw", parallel_with_failing_gateway("pgw"))
    started = start(lf, "pgw")
    choose = open_task(lf, started["id"], "choose")
    other = open_task(lf, started["id"], "other")
    lf.tasks.complete(admin(lf), choose["id"], {})
    failed = case(lf, started["id"])
    assert failed["status"] == "error"
    [incident] = failed["incidents"]
    assert incident["element_id"] == "gw" and "choice" in incident["message"]
    assert "按选择分流" in incident["message"]

    # the other branch's task is refused with the reason, and the error is not forgotten
    with pytest.raises(Conflict) as refused:
        lf.tasks.complete(admin(lf), other["id"], {})
    assert "异常" in refused.value.message and "choice" in refused.value.message
    for action in (
        lambda: lf.tasks.claim(admin(lf), other["id"]),
        lambda: lf.tasks.return_task(admin(lf), other["id"], "x"),
    ):
        with pytest.raises(Conflict):
            action()
    frozen = case(lf, started["id"])
    assert frozen["status"] == "error" and frozen["error"] == failed["error"]
    assert frozen["incidents"] == failed["incidents"]
    assert [t["id"] for t in frozen["tasks"] if t["state"] == "open"] == [other["id"]]

    # listed and counted for administrators only
    with pytest.raises(PermissionDenied):
        lf.incidents.list(alice(lf))
    listed = lf.incidents.list(admin(lf))
    assert listed["total"] == 1 and "'choice' is not defined" in listed["items"][0]["detail"]
    assert lf.incidents.counts(admin(lf)) == {"pgw": 1}

    # a retry that fails again keeps the incident open and counts the attempt
    again = lf.incidents.retry(admin(lf), incident["id"], {})
    assert again["incident"]["status"] == "open" and again["incident"]["attempts"] == 2

    # correcting the data and retrying resolves it; the case goes on and can finish
    fixed = lf.incidents.retry(admin(lf), incident["id"], {"choice": "a"})
    assert fixed["incident"]["status"] == "resolved"
    resumed = case(lf, started["id"])
    assert resumed["status"] == "running" and resumed["incidents"] == []
    lf.tasks.complete(admin(lf), other["id"], {})
    done = case(lf, started["id"])
    assert done["status"] == "completed"
    actions = [h["action"] for h in done["history"]]
    assert actions.count("incident_opened") == 1 and actions.count("incident_retried") == 2
    assert lf.incidents.counts(admin(lf)) == {}
    with pytest.raises(Conflict):
        lf.incidents.retry(admin(lf), incident["id"], {})


def test_a_failed_script_step_can_be_cancelled_and_the_case_continues(lf):
    deploy(
        lf,
        "boom2",
        linear_process("boom2", script("x = 1 / 0"), user_task("后续环节")),
    )
    started = start(lf, "boom2")
    [incident] = started["incidents"]
    with pytest.raises(ValidationFailed):
        lf.incidents.cancel_step(admin(lf), incident["id"], " ")
    with pytest.raises(PermissionDenied):
        lf.incidents.cancel_step(alice(lf), incident["id"], "跳过")
    result = lf.incidents.cancel_step(admin(lf), incident["id"], "人工计算后跳过")
    assert result["incident"]["status"] == "cancelled"
    after = case(lf, started["id"])
    assert after["status"] == "running"
    [task] = [t for t in after["tasks"] if t["state"] == "open"]
    lf.tasks.complete(admin(lf), task["id"], {})
    assert case(lf, started["id"])["status"] == "completed"


def test_a_gateway_cannot_be_skipped_only_retried(lf):
    deploy(lf, "pgw2", parallel_with_failing_gateway("pgw2"))
    started = start(lf, "pgw2")
    lf.tasks.complete(admin(lf), open_task(lf, started["id"], "choose")["id"], {})
    [incident] = case(lf, started["id"])["incidents"]
    with pytest.raises(Conflict) as refused:
        lf.incidents.cancel_step(admin(lf), incident["id"], "跳过")
    assert "重试" in refused.value.message


def test_timers_wait_while_an_incident_is_open(lf, clock):
    """A timer due while the case is frozen fires only after the incident is resolved."""
    pid = "held_timer"
    content = (
        HEADER.format(pid=pid) + f'<bpmn:process id="{pid}" isExecutable="true">'
        '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="split"/>'
        '<bpmn:scriptTask id="bad"><bpmn:script>y = missing + 1</bpmn:script></bpmn:scriptTask>'
        + timer_catch("timeDuration", '"P1D"').replace("{id}", "wait")
        + '<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="split" targetRef="bad"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="wait"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="bad" targetRef="e1"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="e2"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()
    deploy(lf, pid, content)
    started = start(lf, pid)
    [incident] = started["incidents"]
    clock.advance(timedelta(days=2))
    assert lf.jobs.run_due() == 1  # the job ran but was held, the case did not move
    with lf.uow.read() as session:
        [job] = session.scalars(select(Job).where(Job.instance_id == started["id"])).all()
        assert job.status == "held"
    assert case(lf, started["id"])["status"] == "error"
    lf.incidents.retry(admin(lf), incident["id"], {"missing": 1})
    lf.jobs.run_due()  # the overdue timer fires on the retry itself or right after
    done = case(lf, started["id"])
    assert done["status"] == "completed" and done["data"]["y"] == 2


def test_retry_data_must_be_named_like_case_variables(lf):
    deploy(lf, "boom3", linear_process("boom3", script("x = 1 / 0")))
    [incident] = start(lf, "boom3")["incidents"]
    with pytest.raises(ValidationFailed):
        lf.incidents.retry(admin(lf), incident["id"], {"__class__": 1})
    with pytest.raises(ValidationFailed):
        lf.incidents.retry(admin(lf), incident["id"], ["x"])


def test_terminating_a_case_closes_its_incidents(lf):
    deploy(lf, "boom4", linear_process("boom4", script("x = 1 / 0")))
    started = start(lf, "boom4")
    lf.instances.terminate(admin(lf), started["id"], "撤件")
    assert lf.incidents.counts(admin(lf)) == {}
    assert lf.incidents.list(admin(lf), status="cancelled")["total"] == 1


def test_incidents_over_http(lf):
    from fastapi.testclient import TestClient

    from engine.api.app import create_app
    from tests.support import ApiUser

    deploy(lf, "pgw_http", parallel_with_failing_gateway("pgw_http"))
    started = start(lf, "pgw_http")
    lf.tasks.complete(admin(lf), open_task(lf, started["id"], "choose")["id"], {})
    other = open_task(lf, started["id"], "other")
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        boss = ApiUser(client, "admin", "admin-pass")
        clerk = ApiUser(client, "alice", "alice-pass")
        refused = boss.complete(other["id"], {}, expect=409)
        assert "异常" in refused["message"]
        clerk.get("/api/v1/incidents", expect=403)
        listed = boss.get("/api/v1/incidents", status="open")
        [incident] = listed["items"]
        assert boss.get("/api/v1/incidents/counts") == {"pgw_http": 1}
        one = boss.get(f"/api/v1/incidents/{incident['id']}")
        assert one["case_data"]["region"] == "330702101201"
        boss.get("/api/v1/incidents/999999", expect=404)
        boss.get("/api/v1/incidents", status="bogus", expect=422)
        boss.post(f"/api/v1/incidents/{incident['id']}/cancel-step", {"reason": ""}, expect=422)
        fixed = boss.post(f"/api/v1/incidents/{incident['id']}/retry", {"data": {"choice": "b"}})
        assert fixed["incident"]["status"] == "resolved"
        boss.complete(other["id"], {})
        assert boss.get(f"/api/v1/instances/{started['id']}")["status"] == "completed"


def test_a_failed_instance_of_a_running_multi_instance_is_found_after_a_restore(lf):
    """The failed step sits below a multi-instance task that is still running."""
    pid = "mi_fail"
    content = (
        HEADER.format(pid=pid) + f'<bpmn:process id="{pid}" isExecutable="true">'
        '<bpmn:startEvent id="start"/>'
        '<bpmn:userTask id="review" name="会审"><bpmn:extensionElements>'
        "<spiffworkflow:postScript>checked = ok + 1</spiffworkflow:postScript>"
        "</bpmn:extensionElements>"
        '<bpmn:multiInstanceLoopCharacteristics spiffworkflow:scriptsOnInstances="true">'
        "<bpmn:loopCardinality>2</bpmn:loopCardinality>"
        "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        '<bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="review"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="end"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()
    deploy(lf, pid, content)
    started = start(lf, pid)
    first, second = [t for t in case(lf, started["id"])["tasks"] if t["state"] == "open"]
    lf.tasks.complete(admin(lf), first["id"], {})
    failed = case(lf, started["id"])  # round-trips: the restored case is still failed
    assert failed["status"] == "error" and len(failed["incidents"]) == 1
    with lf.uow.read() as session:
        from engine.db.tables import Instance

        execution = lf.instances.restore(session, session.get(Instance, started["id"]))
        assert execution.status == "error" and len(execution.failed_step_ids()) == 1
    with pytest.raises(Conflict):
        lf.tasks.complete(admin(lf), second["id"], {})
    lf.incidents.retry(admin(lf), failed["incidents"][0]["id"], {"ok": 1})
    reopened = [t for t in case(lf, started["id"])["tasks"] if t["state"] == "open"]
    assert {t["id"] for t in reopened} == {first["id"], second["id"]}
    for task in reopened:
        lf.tasks.complete(admin(lf), task["id"], {"ok": 1})
    assert case(lf, started["id"])["status"] == "completed"
