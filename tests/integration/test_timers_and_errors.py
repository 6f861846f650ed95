"""Timers (date, duration, cycle) through the job table, script errors and refused expressions
on the instance, and termination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.db.tables import Job
from engine.errors import Conflict, DefinitionInvalid, PermissionDenied
from engine.services.actor import SYSTEM
from tests.bpmn_builder import gateway_process, linear_process, script, timer_catch, user_task


def deploy(lf, pid: str, content: bytes) -> None:
    lf.definitions.deploy({f"{pid}.bpmn": content}, SYSTEM)


def start(lf, pid: str, **data):
    return lf.instances.start(lf.auth.actor_for("alice"), pid, "330702101201", data=data)


def jobs(lf, instance_id: str) -> list[Job]:
    with lf.uow.read() as session:
        return list(session.scalars(select(Job).where(Job.instance_id == instance_id)))


def test_duration_timer_is_a_job_that_fires_once_when_due(lf, clock):
    deploy(
        lf,
        "wait_p3d",
        linear_process("wait_p3d", timer_catch("timeDuration", '"P3D"'), script("fired = True")),
    )
    case = start(lf, "wait_p3d")
    assert case["status"] == "waiting"
    [job] = jobs(lf, case["id"])
    assert job.due_at == clock.now() + timedelta(days=3)
    clock.advance(timedelta(days=3) - timedelta(seconds=1))
    assert lf.jobs.run_due() == 0
    clock.advance(timedelta(seconds=2))
    assert lf.jobs.run_due() == 1
    assert lf.jobs.run_due() == 0
    done = lf.instances.get(SYSTEM, case["id"])
    assert done["status"] == "completed" and done["data"]["fired"] is True
    assert jobs(lf, case["id"]) == []
    assert [h["action"] for h in done["history"]].count("timer_fired") == 1


def test_date_timer_reads_local_time_and_expressions(lf, clock):
    # 2026-11-05 09:00 in Beijing is 01:00 UTC
    deploy(lf, "wait_date", linear_process("wait_date", timer_catch("timeDate", "deadline")))
    case = start(lf, "wait_date", deadline="2026-11-05T09:00:00")
    [job] = jobs(lf, case["id"])
    assert job.due_at == datetime(2026, 11, 5, 1, 0, tzinfo=UTC)
    clock.set(datetime(2026, 11, 5, 1, 0, 1, tzinfo=UTC))
    assert lf.jobs.run_due() == 1
    assert lf.instances.get(SYSTEM, case["id"])["status"] == "completed"


def test_cycle_timer_fires_each_cycle(lf, clock):
    cycle = (
        '<bpmn:userTask id="{id}"/>'
        '<bpmn:boundaryEvent id="remind_timer" attachedToRef="{id}" cancelActivity="false">'
        '<bpmn:timerEventDefinition><bpmn:timeCycle>"R2/PT1H"</bpmn:timeCycle>'
        "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:scriptTask id="count"><bpmn:script>reminders = reminders + 1</bpmn:script>'
        "</bpmn:scriptTask>"
        '<bpmn:endEvent id="remind_end"/>'
        '<bpmn:sequenceFlow id="fr1" sourceRef="remind_timer" targetRef="count"/>'
        '<bpmn:sequenceFlow id="fr2" sourceRef="count" targetRef="remind_end"/>'
    )
    deploy(lf, "remind", linear_process("remind", cycle))
    case = start(lf, "remind", reminders=0)
    for expected in (1, 2):
        clock.advance(timedelta(hours=1, seconds=1))
        assert lf.jobs.run_due() == 1
        history = lf.instances.get(SYSTEM, case["id"])["history"]
        assert [h["action"] for h in history].count("timer_fired") == expected
    clock.advance(timedelta(hours=5))
    assert lf.jobs.run_due() == 0  # R2: two cycles only
    assert lf.instances.get(SYSTEM, case["id"])["status"] == "running"


def test_a_failing_script_puts_the_case_in_error_with_a_clear_message(lf):
    deploy(lf, "boom", linear_process("boom", script("x = 1 / 0")))
    case = start(lf, "boom")
    assert case["status"] == "error"
    assert "division by zero" in case["error"] and "e0" in case["error"]
    [incident] = case["incidents"]
    assert incident["element_id"] == "e0" and "已转管理员处理" in incident["message"]
    assert "detail" not in incident  # the technical detail is for administrators
    assert any(h["action"] == "incident_opened" for h in case["history"])


ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "__import__('os').system('id')",
    "open('/etc/passwd').read()",
    "getattr(region, '__class__')",
    "'{0.__class__}'.format(region)",
    "9 ** 9 ** 9",
    "[x for x in range(10 ** 9)]",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_escapes_in_a_gateway_condition_are_refused_at_deploy_or_on_the_instance(lf, payload):
    """What the parser can see is refused at deploy with the flow's id and line; the rest
    (huge numbers, runaway loops, unknown functions) is refused when evaluated, on the case."""
    try:
        deploy(lf, "gw_escape", gateway_process("gw_escape", payload))
    except DefinitionInvalid as refused:
        [problem] = refused.problems
        assert problem.element_id == "f_yes" and problem.line == 3  # the builder's line
        assert "conditionExpression" in problem.message
        return
    case = start(lf, "gw_escape")
    assert case["status"] == "error"
    assert case["error"], "the refusal is explained on the instance"
    assert not [t for t in case["tasks"] if t["state"] == "open"]


@pytest.mark.parametrize("payload", ["import os", "while True: pass", "f = open"])
def test_escapes_in_a_script_task_are_refused(lf, payload):
    try:
        deploy(lf, "script_escape", linear_process("script_escape", script(payload), user_task()))
    except DefinitionInvalid as refused:
        assert refused.problems[0].element_id == "e0"
        return
    case = start(lf, "script_escape")
    assert case["status"] == "error" and case["error"]


def test_a_syntax_error_in_a_condition_is_a_located_deploy_error(lf):
    with pytest.raises(DefinitionInvalid) as refused:
        deploy(lf, "typo", gateway_process("typo", "approved =="))
    problem = refused.value.problems[0]
    assert problem.element_id == "f_yes" and "conditionExpression" in problem.message


def test_terminate_cancels_tasks_and_timers_and_is_admin_only(lf):
    deploy(
        lf,
        "wait_then_work",
        linear_process("wait_then_work", user_task("办理"), timer_catch("timeDuration", '"P1D"')),
    )
    case = start(lf, "wait_then_work")
    with pytest.raises(PermissionDenied):
        lf.instances.terminate(lf.auth.actor_for("alice"), case["id"], "撤回")
    ended = lf.instances.terminate(lf.auth.actor_for("admin"), case["id"], "申请人撤回")
    assert ended["status"] == "terminated"
    assert {t["state"] for t in ended["tasks"]} == {"cancelled"}
    with pytest.raises(Conflict):
        lf.instances.terminate(lf.auth.actor_for("admin"), case["id"], "again")
