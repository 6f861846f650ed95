"""An event-based gateway (a message or a timer, whichever comes first) and an embedded
sub-process whose task is routed by the lane it sits in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.db.tables import Job
from engine.services.actor import SYSTEM
from tests.bpmn_builder import HEADER

LANE = (
    '<bpmn:laneSet><bpmn:lane id="l" name="审查"><bpmn:extensionElements>'
    '<spiffworkflow:properties><spiffworkflow:property name="dept_type" value="zrzy"/>'
    '<spiffworkflow:property name="level" value="county"/></spiffworkflow:properties>'
    "</bpmn:extensionElements>{refs}</bpmn:lane></bpmn:laneSet>"
)

PUBLICITY = (
    HEADER.format(pid="publicity")
    + """
<bpmn:message id="m_obj" name="objection"/>
<bpmn:process id="publicity" isExecutable="true">
 <bpmn:startEvent id="start"/>
 <bpmn:eventBasedGateway id="wait"/>
 <bpmn:intermediateCatchEvent id="got_objection">
  <bpmn:messageEventDefinition id="md" messageRef="m_obj"><bpmn:extensionElements>
   <spiffworkflow:messageVariable>objection</spiffworkflow:messageVariable>
  </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>
 <bpmn:intermediateCatchEvent id="period_over"><bpmn:timerEventDefinition>
  <bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>
 </bpmn:intermediateCatchEvent>
 <bpmn:scriptTask id="objected"><bpmn:script>outcome = "objected"</bpmn:script></bpmn:scriptTask>
 <bpmn:scriptTask id="passed"><bpmn:script>outcome = "passed"</bpmn:script></bpmn:scriptTask>
 <bpmn:endEvent id="end1"/><bpmn:endEvent id="end2"/>
 <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="wait"/>
 <bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="got_objection"/>
 <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="period_over"/>
 <bpmn:sequenceFlow id="f3" sourceRef="got_objection" targetRef="objected"/>
 <bpmn:sequenceFlow id="f4" sourceRef="period_over" targetRef="passed"/>
 <bpmn:sequenceFlow id="f5" sourceRef="objected" targetRef="end1"/>
 <bpmn:sequenceFlow id="f6" sourceRef="passed" targetRef="end2"/>
</bpmn:process></bpmn:definitions>"""
).encode()

EMBEDDED = (
    HEADER.format(pid="embedded")
    + """
<bpmn:process id="embedded" isExecutable="true">"""
    + LANE.format(
        refs="<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>sub</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>end</bpmn:flowNodeRef>"
    )
    + """
 <bpmn:startEvent id="start"/>
 <bpmn:subProcess id="sub">
  <bpmn:startEvent id="s_start"/><bpmn:userTask id="inner" name="内部审查"/>
  <bpmn:endEvent id="s_end"/>
  <bpmn:sequenceFlow id="s0" sourceRef="s_start" targetRef="inner"/>
  <bpmn:sequenceFlow id="s1" sourceRef="inner" targetRef="s_end"/>
 </bpmn:subProcess>
 <bpmn:endEvent id="end"/>
 <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="sub"/>
 <bpmn:sequenceFlow id="f1" sourceRef="sub" targetRef="end"/>
</bpmn:process></bpmn:definitions>"""
).encode()


def start(lf, pid: str, content: bytes) -> dict:
    lf.definitions.deploy({f"{pid}.bpmn": content}, SYSTEM)
    return lf.instances.start(SYSTEM, pid, "330702101201", business_key=f"{pid}-1")


def test_event_gateway_waits_for_the_message(lf):
    case = start(lf, "publicity", PUBLICITY)
    assert case["status"] == "waiting"
    with lf.uow.read() as session:
        assert len(session.scalars(select(Job).where(Job.instance_id == case["id"])).all()) == 1
    done = lf.messages.correlate(
        SYSTEM, "objection", business_key="publicity-1", payload={"text": "界址有争议"}
    )
    assert done["status"] == "completed"
    data = lf.instances.get(SYSTEM, case["id"])["data"]
    assert data["outcome"] == "objected" and data["objection"] == {"text": "界址有争议"}
    with lf.uow.read() as session:
        assert session.scalars(select(Job).where(Job.instance_id == case["id"])).all() == []


def test_event_gateway_times_out_without_a_message(lf, clock):
    case = start(lf, "publicity", PUBLICITY)
    clock.advance(timedelta(days=5, seconds=1))
    assert lf.jobs.run_due() == 1
    after = lf.instances.get(SYSTEM, case["id"])
    assert after["status"] == "completed" and after["data"]["outcome"] == "passed"


def test_a_task_in_an_embedded_subprocess_is_routed_by_its_lane(lf):
    case = start(lf, "embedded", EMBEDDED)
    [task] = [t for t in case["tasks"] if t["state"] == "open"]
    assert task["name"] == "inner" and task["department"] == "zrzy.330702"
    lf.tasks.complete(lf.auth.actor_for("zrzy.330702"), task["id"], {})
    assert lf.instances.get(SYSTEM, case["id"])["status"] == "completed"
