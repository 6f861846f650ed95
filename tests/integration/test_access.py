"""Who sees and does what: departments of the right region, leadership offices, substitutes,
and the hand-over actions (transfer, delegate/resolve, return, bulk claim)."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from engine.services.actor import SYSTEM
from engine.services.inbox import TaskFilter
from tests.bpmn_builder import HEADER, laned_process

WUCHENG_VILLAGE = "330702101201"
YIWU_VILLAGE = "330782101201"


def lane(dept_type: str, level: str) -> dict[str, str]:
    return {"dept_type": dept_type, "level": level}


@pytest.fixture
def cases(lf):
    lf.definitions.deploy(
        {
            "parcel.bpmn": laned_process(
                "parcel",
                [("check", lane("zrzy", "county"), {}), ("invest", lane("fgw", "county"), {})],
            )
        },
        SYSTEM,
    )
    wucheng = lf.instances.start(SYSTEM, "parcel", WUCHENG_VILLAGE, "WC-1")
    yiwu = lf.instances.start(SYSTEM, "parcel", YIWU_VILLAGE, "YW-1")
    return wucheng, yiwu


def who(lf, username: str):
    return lf.auth.actor_for(username)


def open_task(lf, case: dict) -> dict:
    return next(t for t in lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open")


def test_a_wucheng_clerk_sees_the_wucheng_parcel_and_a_yiwu_clerk_does_not(lf, cases):
    wucheng, _ = cases
    task = open_task(lf, wucheng)
    wucheng_clerk, yiwu_clerk = who(lf, "zrzy.330702"), who(lf, "zrzy.330782")
    assert lf.inbox.get(wucheng_clerk, task["id"])["department"] == "zrzy.330702"
    queue = lf.inbox.list(wucheng_clerk, TaskFilter(scope="queue"))
    assert [t["id"] for t in queue["items"]] == [task["id"]]
    assert task["id"] not in [
        t["id"] for t in lf.inbox.list(yiwu_clerk, TaskFilter(scope="all"))["items"]
    ]
    for attempt in (
        lambda: lf.inbox.get(yiwu_clerk, task["id"]),
        lambda: lf.tasks.claim(yiwu_clerk, task["id"]),
        lambda: lf.tasks.complete(yiwu_clerk, task["id"], {}),
        lambda: lf.tasks.comment(yiwu_clerk, task["id"], "看看"),
        lambda: lf.instances.get(yiwu_clerk, wucheng["id"]),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert lf.instances.list(yiwu_clerk, business_key="WC-1")["total"] == 0


def test_a_case_stays_visible_to_departments_that_had_a_task(lf, cases):
    wucheng, _ = cases
    fgw = who(lf, "fgw.330702")
    with pytest.raises(NotFound):
        lf.instances.get(fgw, wucheng["id"])
    lf.tasks.complete(who(lf, "zrzy.330702"), open_task(lf, wucheng)["id"], {})
    assert lf.instances.get(fgw, wucheng["id"])["id"] == wucheng["id"]
    assert lf.instances.get(who(lf, "zrzy.330702"), wucheng["id"])["id"] == wucheng["id"]
    done = lf.inbox.list(who(lf, "zrzy.330702"), TaskFilter(scope="all", state="done"))
    assert done["total"] == 1


def test_leadership_offices_watch_their_territory_read_only(lf, cases):
    wucheng, yiwu = cases
    task = open_task(lf, wucheng)
    for office in ("ldxz.330702", "ldxz.330700", "ldxz.330000"):
        watcher = who(lf, office)
        watched = lf.inbox.list(watcher, TaskFilter(scope="watch"))
        assert task["id"] in [t["id"] for t in watched["items"]], office
        assert lf.instances.get(watcher, wucheng["id"])["id"] == wucheng["id"]
        assert lf.inbox.get(watcher, task["id"])["can_act"] is False
        with pytest.raises(PermissionDenied):
            lf.tasks.claim(watcher, task["id"])
    county_office = lf.inbox.list(who(lf, "ldxz.330702"), TaskFilter(scope="watch"))
    assert open_task(lf, yiwu)["id"] not in [t["id"] for t in county_office["items"]]
    with pytest.raises(NotFound):
        lf.instances.get(who(lf, "ldxz.331000"), wucheng["id"])


def test_clerks_start_cases_only_in_their_territory(lf, cases):
    with pytest.raises(NotFound):
        lf.instances.start(who(lf, "zrzy.330782"), "parcel", WUCHENG_VILLAGE)
    started = lf.instances.start(who(lf, "zrzy.330702"), "parcel", WUCHENG_VILLAGE)
    assert started["started_by"] == "zrzy.330702"


def test_a_substitute_acts_for_an_absent_colleague_and_history_names_both(lf, clock, cases):
    wucheng, _ = cases
    lf.organisation.create_user(
        SYSTEM, "zhang", "张三", "zhang-pass-1", [("sthj.330702", "handler")]
    )
    task = open_task(lf, wucheng)
    with pytest.raises(NotFound):
        lf.inbox.get(who(lf, "zhang"), task["id"])
    today = clock.now().date()
    lf.organisation.add_substitution(SYSTEM, "zrzy.330702", "zhang", today, today, "出差")
    zhang = who(lf, "zhang")
    assert "zrzy.330702" in zhang.departments
    assert [t["id"] for t in lf.inbox.list(zhang, TaskFilter(scope="queue"))["items"]] == [
        task["id"]
    ]
    lf.tasks.complete(zhang, task["id"], {})
    entry = next(
        h
        for h in lf.instances.get(SYSTEM, wucheng["id"])["history"]
        if h["action"] == "task_completed"
    )
    assert (entry["actor"], entry["on_behalf_of"]) == ("zhang", "zrzy.330702")


def test_substitution_is_bounded_by_its_dates(lf, clock, cases):
    lf.organisation.create_user(SYSTEM, "li", "李四", "li-pass-12", [])
    tomorrow = date.fromordinal(clock.now().date().toordinal() + 1)
    lf.organisation.add_substitution(SYSTEM, "zrzy.330702", "li", tomorrow, tomorrow, "休假")
    assert "zrzy.330702" not in who(lf, "li").departments
    with pytest.raises(ValidationFailed):
        lf.organisation.add_substitution(
            SYSTEM, "zrzy.330702", "li", tomorrow, date(2000, 1, 1), "x"
        )


def test_transfer_delegate_resolve_and_bulk_claim(lf, cases):
    wucheng, _ = cases
    task = open_task(lf, wucheng)
    lf.organisation.create_user(SYSTEM, "wang", "王五", "wang-pass-1", [("zrzy.330702", "handler")])
    clerk, wang = who(lf, "zrzy.330702"), who(lf, "wang")
    with pytest.raises(Conflict):
        lf.tasks.transfer(clerk, task["id"], "wang")  # claim first
    result = lf.tasks.claim_many(clerk, [task["id"], "no-such-task"])
    assert result["claimed"] == 1 and result["results"][1]["status"] == "refused"
    with pytest.raises(ValidationFailed):
        lf.tasks.transfer(clerk, task["id"], "fgw.330702")  # not a colleague
    assert lf.tasks.transfer(clerk, task["id"], "wang")["assignee"] == "wang"

    delegated = lf.tasks.delegate(wang, task["id"], "zrzy.330702")
    assert (delegated["owner"], delegated["assignee"], delegated["delegation"]) == (
        "wang",
        "zrzy.330702",
        "pending",
    )
    with pytest.raises(Conflict):
        lf.tasks.complete(clerk, task["id"], {})  # the delegate resolves, the owner completes
    resolved = lf.tasks.resolve(clerk, task["id"], {}, note="已核实")
    assert (resolved["assignee"], resolved["delegation"]) == ("wang", "resolved")
    lf.tasks.complete(wang, task["id"], {})
    actions = [h["action"] for h in lf.instances.get(SYSTEM, wucheng["id"])["history"]]
    for action in (
        "task_claimed",
        "task_transferred",
        "task_delegated",
        "task_resolved",
        "task_completed",
    ):
        assert action in actions


RETURN_PROCESS = (
    HEADER.format(pid="revise")
    + """
<bpmn:process id="revise" isExecutable="true">
 <bpmn:laneSet>
  <bpmn:lane id="l_a" name="申请人"><bpmn:extensionElements><spiffworkflow:properties>
   <spiffworkflow:property name="dept_type" value="applicant"/>
   <spiffworkflow:property name="level" value="village"/></spiffworkflow:properties>
   </bpmn:extensionElements><bpmn:flowNodeRef>draft</bpmn:flowNodeRef></bpmn:lane>
  <bpmn:lane id="l_z" name="自然资源"><bpmn:extensionElements><spiffworkflow:properties>
   <spiffworkflow:property name="dept_type" value="zrzy"/>
   <spiffworkflow:property name="level" value="county"/></spiffworkflow:properties>
   </bpmn:extensionElements><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>
 </bpmn:laneSet>
 <bpmn:startEvent id="start"/>
 <bpmn:userTask id="draft" name="编制"/>
 <bpmn:userTask id="review" name="审查"><bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="return_to" value="draft"/></spiffworkflow:properties>
  </bpmn:extensionElements></bpmn:userTask>
 <bpmn:exclusiveGateway id="gw" default="f_ok"/>
 <bpmn:endEvent id="end"/>
 <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="draft"/>
 <bpmn:sequenceFlow id="f1" sourceRef="draft" targetRef="review"/>
 <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw"/>
 <bpmn:sequenceFlow id="f_back" sourceRef="gw" targetRef="draft">
  <bpmn:conditionExpression>decision == "退回修改"</bpmn:conditionExpression></bpmn:sequenceFlow>
 <bpmn:sequenceFlow id="f_ok" sourceRef="gw" targetRef="end"/>
</bpmn:process></bpmn:definitions>"""
).encode()


def test_return_goes_back_to_the_step_the_diagram_names(lf):
    lf.definitions.deploy({"revise.bpmn": RETURN_PROCESS}, SYSTEM)
    case = lf.instances.start(SYSTEM, "revise", WUCHENG_VILLAGE)
    applicant, reviewer = who(lf, "applicant.330702101201"), who(lf, "zrzy.330702")
    with pytest.raises(Conflict, match="不能退回"):
        lf.tasks.return_task(applicant, open_task(lf, case)["id"], "x")
    lf.tasks.complete(applicant, open_task(lf, case)["id"], {})
    review = open_task(lf, case)
    with pytest.raises(ValidationFailed):
        lf.tasks.return_task(reviewer, review["id"], " ")
    lf.tasks.return_task(reviewer, review["id"], "界址图不清")
    again = open_task(lf, case)
    assert again["name"] == "draft" and again["department"] == "applicant.330702101201"
    returned = next(
        h for h in lf.instances.get(SYSTEM, case["id"])["history"] if h["action"] == "task_returned"
    )
    assert returned["details"]["reason"] == "界址图不清"
    assert returned["details"]["to"] == "draft"
