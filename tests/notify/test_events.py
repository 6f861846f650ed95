"""Every notification event is written by the command that causes it, in its transaction, to
exactly the people it concerns (never to another county's clerks, never to the actor for what
they did themselves), with the payload its templates need; department robots get a delivery
only for their own department; re-running a trigger delivers nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from engine.db.notify_tables import ChannelEndpoint, Delivery
from engine.db.tables import HumanTask, Job, Notification, SlaClock, User
from engine.errors import Conflict
from engine.services.actor import SYSTEM
from engine.services.inbox import TaskFilter
from tests.bpmn_builder import laned_process, linear_process, script

VILLAGE = "330702101201"  # 古方村, 婺城区
COUNTY = "330702"
SEP_28 = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
CASE_KEYS = {"instance_id", "case_no", "case_title", "process_name", "region_name"}
TASK_KEYS = {"task", "task_id", "department", "department_name", *CASE_KEYS}


def lane(dept_type: str, level: str = "county") -> dict[str, str]:
    return {"dept_type": dept_type, "level": level}


def deploy(lf, pid: str, steps: list[tuple[str, str, dict[str, str]]], end: str = "") -> None:
    content = laned_process(pid, [(name, lane(dept), props) for name, dept, props in steps])
    if end:
        content = content.replace(
            b'<bpmn:endEvent id="end"/>', f'<bpmn:endEvent id="end" name="{end}"/>'.encode()
        )
    lf.definitions.deploy({f"{pid}.bpmn": content}, SYSTEM)


def actor(lf, username: str):
    return lf.auth.actor_for(username)


def open_task(lf, case_id: str, name: str | None = None) -> dict[str, Any]:
    [task] = [
        t
        for t in lf.instances.get(SYSTEM, case_id)["tasks"]
        if t["state"] == "open" and (name is None or t["name"] == name)
    ]
    return task


def notices(lf, code: str, task_id: str | None = None) -> list[Notification]:
    with lf.uow.read() as session:
        query = select(Notification).where(Notification.template == code)
        if task_id is not None:
            query = query.where(Notification.task_id == task_id)
        return list(session.scalars(query.order_by(Notification.recipient)))


def told(lf, code: str, task_id: str | None = None) -> list[str]:
    return [n.recipient for n in notices(lf, code, task_id)]


def robot(lf, department: str) -> int:
    """A webhook receiver of the department (nothing is sent here: the workers send)."""
    with lf.uow.write() as session:
        row = ChannelEndpoint(
            department=department,
            kind="webhook",
            name=f"{department} 值班群",
            url="http://127.0.0.1:9/hook",
            secret=None,
            events=None,
            enabled=True,
            created_at=lf.clock.now(),
            updated_at=lf.clock.now(),
        )
        session.add(row)
        session.flush()
        return row.id


def robot_deliveries(lf, endpoint_id: int) -> list[str]:
    with lf.uow.read() as session:
        return list(
            session.scalars(
                select(Delivery.event)
                .where(Delivery.endpoint_id == endpoint_id)
                .order_by(Delivery.id)
            )
        )


def set_email(lf, username: str) -> None:
    with lf.uow.write() as session:
        session.execute(
            update(User).where(User.username == username).values(email=f"{username}@example.cn")
        )


def test_a_new_task_tells_whoever_may_claim_it_and_the_department_robots(lf):
    deploy(lf, "queued", [("review", "zrzy", {}), ("check", "fgw", {})])
    lf.auth.ensure_user("carol", "carol-pass", "Carol")  # stands in for the demo clerk
    lf.organisation.add_substitution(
        SYSTEM, "zrzy.330702", "carol", date(2026, 11, 1), date(2026, 11, 30), "休假"
    )
    own, other_county, next_department = (
        robot(lf, "zrzy.330702"),
        robot(lf, "zrzy.330782"),
        robot(lf, "fgw.330702"),
    )
    case = lf.instances.start(actor(lf, "alice"), "queued", VILLAGE)
    review = open_task(lf, case["id"])

    recipients = told(lf, "task_queued", review["id"])
    assert recipients == ["bob", "carol", "zrzy.330702"]  # not alice: she started the case
    # exactly the people whose 待认领 queue shows it (and alice, who caused it)
    watchers = [
        name
        for name in ("alice", "bob", "carol", "zrzy.330702", "zrzy.330782", "fgw.330702", "admin")
        if review["id"]
        in {t["id"] for t in lf.inbox.list(actor(lf, name), TaskFilter(scope="queue"))["items"]}
    ]
    assert watchers == ["alice", "bob", "carol", "zrzy.330702"]
    payload = notices(lf, "task_queued", review["id"])[0].payload
    assert payload.keys() >= TASK_KEYS
    assert payload["task"] == "review" and payload["department_name"] == "婺城区自然资源和规划局"
    assert payload["case_no"] == case["case_no"] and payload["region_name"].endswith("古方村")
    assert robot_deliveries(lf, own) == ["task_queued"]
    assert robot_deliveries(lf, other_county) == robot_deliveries(lf, next_department) == []

    lf.tasks.complete(actor(lf, "bob"), review["id"], {})
    check = open_task(lf, case["id"])
    assert told(lf, "task_queued", check["id"]) == ["alice", "fgw.330702"]  # not bob
    assert robot_deliveries(lf, next_department) == ["task_queued"]
    assert robot_deliveries(lf, own) == ["task_queued"] and robot_deliveries(lf, other_county) == []


def test_a_failed_command_leaves_no_notification(lf):
    deploy(lf, "atomic", [("review", "zrzy", {}), ("check", "fgw", {})])
    endpoint = robot(lf, "fgw.330702")
    case = lf.instances.start(actor(lf, "alice"), "atomic", VILLAGE)
    review = open_task(lf, case["id"])
    before = len(told(lf, "task_queued"))

    def crash(session: Session) -> None:
        raise RuntimeError("power cut")

    event.listen(Session, "before_commit", crash)
    try:
        with pytest.raises(RuntimeError, match="power cut"):
            lf.tasks.complete(actor(lf, "alice"), review["id"], {})
    finally:
        event.remove(Session, "before_commit", crash)
    assert len(told(lf, "task_queued")) == before and robot_deliveries(lf, endpoint) == []
    assert open_task(lf, case["id"])["id"] == review["id"]
    lf.tasks.complete(actor(lf, "alice"), review["id"], {})
    assert told(lf, "task_queued", open_task(lf, case["id"])["id"]) == ["bob", "fgw.330702"]
    assert robot_deliveries(lf, endpoint) == ["task_queued"]


def test_a_stale_revision_rolls_the_notifications_back(pg_lf):
    lf = pg_lf
    deploy(lf, "stale", [("review", "zrzy", {}), ("check", "fgw", {})])
    case = lf.instances.start(actor(lf, "alice"), "stale", VILLAGE)
    review = open_task(lf, case["id"])
    original = lf.instances.restore

    def restore_then_race(session, instance):
        execution = original(session, instance)
        with lf.uow.engine.begin() as other:
            other.execute(
                text("UPDATE instances SET revision = revision + 1 WHERE id = :id"),
                {"id": case["id"]},
            )
        return execution

    lf.instances.restore = restore_then_race
    try:
        with pytest.raises(Conflict):
            lf.tasks.complete(actor(lf, "alice"), review["id"], {})
    finally:
        lf.instances.restore = original
    assert {n.task_id for n in notices(lf, "task_queued")} == {review["id"]}  # not "check"


def test_the_ladder_tells_the_department_and_its_robots_once(lf, clock):
    clock.set(SEP_28)
    deploy(lf, "ladder", [("review", "zrzy", {"sla_statutory": "2wd"})])
    own, other = robot(lf, "zrzy.330702"), robot(lf, "zrzy.330782")
    case = lf.instances.start(SYSTEM, "ladder", VILLAGE)
    task = open_task(lf, case["id"])
    clock.set(datetime(2026, 9, 28, 16, 0, 1, tzinfo=UTC))  # 09-29 00:00 Beijing: yellow
    assert lf.jobs.run_due() == 1
    assert told(lf, "sla_yellow") == ["alice", "bob", "zrzy.330702"]
    clock.set(datetime(2026, 9, 30, 16, 0, 0, tzinfo=UTC))  # after 09-30 24:00: red
    assert lf.jobs.run_due() == 1
    # the unclaimed task's handlers and the department head (the demo user is both)
    assert told(lf, "sla_red") == ["alice", "bob", "zrzy.330702"]
    assert told(lf, "supervision_order") == ["alice", "bob", "zrzy.330702"]
    red = notices(lf, "sla_red")[0].payload
    assert red.keys() >= TASK_KEYS and red["due_at"] == "2026-09-30T15:59:59+00:00"
    assert red["clock"] == "statutory" and red["provisional"] is False
    order = notices(lf, "supervision_order")[0].payload
    assert (order["grade"], order["grade_name"]) == ("blue", "蓝色")
    assert order["office_name"] == "婺城区领导小组办公室" and "督办" in order["text"]
    assert robot_deliveries(lf, own) == ["task_queued", "sla_red", "supervision_order"]
    assert robot_deliveries(lf, other) == []

    # the red rung's job runs again (a second worker, a crash after the commit): nothing new
    with lf.uow.write() as session:
        clock_id = session.scalar(select(SlaClock.id).where(SlaClock.task_id == task["id"]))
        session.add(
            Job(
                kind="sla",
                instance_id=case["id"],
                target=f"{clock_id}:red",
                due_at=clock.now(),
                status="pending",
                attempts=0,
                payload={"rung": "red"},
                created_at=clock.now(),
            )
        )
    assert lf.jobs.run_due() == 1
    assert told(lf, "sla_red") == ["alice", "bob", "zrzy.330702"]
    assert robot_deliveries(lf, own) == ["task_queued", "sla_red", "supervision_order"]
    # and writing the same occurrence again queues no second delivery
    with lf.uow.write() as session:
        row = session.get(HumanTask, task["id"])
        lf.outbox.emit(
            session, "sla_red", ["zrzy.330702"], clock.now(), task=row, key=f"sla_red:{clock_id}"
        )
    assert robot_deliveries(lf, own) == ["task_queued", "sla_red", "supervision_order"]


def test_a_return_tells_the_earlier_handler_or_else_the_queue(lf):
    deploy(lf, "ret", [("draft", "zrzy", {}), ("review", "fgw", {"return_to": "draft"})])
    case = lf.instances.start(actor(lf, "alice"), "ret", VILLAGE)
    lf.tasks.complete(actor(lf, "alice"), open_task(lf, case["id"])["id"], {"area": 12.5})
    review = open_task(lf, case["id"])
    reopened = lf.tasks.return_task(actor(lf, "bob"), review["id"], "面积与测绘成果不一致")[
        "reopened"
    ]
    assert told(lf, "task_returned") == ["alice"]
    payload = notices(lf, "task_returned")[0].payload
    assert payload.keys() >= TASK_KEYS and payload["task_id"] == reopened["id"]
    assert (payload["by_name"], payload["reason"]) == ("Bob", "面积与测绘成果不一致")
    assert told(lf, "task_queued", reopened["id"]) == []  # it went back to alice, not the queue

    # the earlier handler has left: the step goes back to the queue, and so does the notice
    lf.organisation.create_user(SYSTEM, "dave", "Dave", "dave-pass-1", [("zrzy.330702", "handler")])
    second = lf.instances.start(actor(lf, "bob"), "ret", VILLAGE)
    lf.tasks.complete(actor(lf, "dave"), open_task(lf, second["id"])["id"], {})
    with lf.uow.write() as session:
        session.execute(update(User).where(User.username == "dave").values(is_active=False))
    review = open_task(lf, second["id"])
    again = lf.tasks.return_task(actor(lf, "bob"), review["id"], "缺少宗地图")["reopened"]
    assert again["assignee"] is None
    assert told(lf, "task_returned", again["id"]) == ["alice", "zrzy.330702"]  # not bob


def test_transfer_and_delegation_tell_the_receiver(lf):
    deploy(lf, "hand", [("review", "zrzy", {})])
    set_email(lf, "bob")
    case = lf.instances.start(SYSTEM, "hand", VILLAGE)
    task = open_task(lf, case["id"])
    lf.tasks.claim(actor(lf, "alice"), task["id"])
    lf.tasks.transfer(actor(lf, "alice"), task["id"], "bob")
    assert told(lf, "task_transferred") == ["bob"]
    [notice] = notices(lf, "task_transferred")
    assert notice.payload["by_name"] == "Alice" and notice.payload.keys() >= TASK_KEYS
    with lf.uow.read() as session:
        mails = session.scalars(
            select(Delivery.address).where(
                Delivery.event == "task_transferred", Delivery.channel == "email"
            )
        ).all()
    assert mails == ["bob@example.cn"]

    lf.tasks.delegate(actor(lf, "bob"), task["id"], "zrzy.330702")
    assert told(lf, "task_delegated") == ["zrzy.330702"]
    assert notices(lf, "task_delegated")[0].payload["by_name"] == "Bob"


def test_suspending_and_resuming_tell_whoever_works_on_the_case(lf, clock):
    clock.set(SEP_28)
    deploy(lf, "pause", [("review", "zrzy", {"sla_statutory": "10wd"})])
    case = lf.instances.start(SYSTEM, "pause", VILLAGE)
    task = open_task(lf, case["id"])
    lf.sla.suspend(actor(lf, "alice"), task["id"], "专家评审", "组织专家论证")
    # the step is unclaimed: its department's queue, but not alice, who suspended it
    assert told(lf, "case_suspended") == ["bob", "zrzy.330702"]
    payload = notices(lf, "case_suspended")[0].payload
    assert (payload["by_name"], payload["reason"]) == ("Alice", "组织专家论证")
    assert payload.keys() >= TASK_KEYS

    lf.tasks.claim(actor(lf, "alice"), task["id"])
    clock.set(datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    resumed = lf.sla.resume(actor(lf, "bob"), task["id"])
    assert told(lf, "case_resumed") == ["alice"]  # the holder now
    assert notices(lf, "case_resumed")[0].payload["due_at"] == resumed["due_at"]


def test_an_extension_tells_the_head_then_the_requester(lf, clock):
    clock.set(SEP_28)
    deploy(lf, "extend", [("review", "zrzy", {"sla_statutory": "10wd"})])
    case = lf.instances.start(SYSTEM, "extend", VILLAGE)
    task = open_task(lf, case["id"])
    lf.organisation.create_user(SYSTEM, "xiao", "小王", "xiao-pass-1", [("zrzy.330702", "handler")])
    lf.sla.request_extension(actor(lf, "xiao"), task["id"], 10, "需现场踏勘")
    assert told(lf, "sla_extension_requested") == ["zrzy.330702"]  # the head, not the handlers
    asked = notices(lf, "sla_extension_requested")[0].payload
    assert (asked["by_name"], asked["days"], asked["reason"]) == ("小王", 10, "需现场踏勘")

    lf.sla.decide_extension(actor(lf, "zrzy.330702"), task["id"], True, "同意延期")
    assert told(lf, "sla_extension_decided") == ["xiao"]
    decided = notices(lf, "sla_extension_decided")[0].payload
    assert decided["approved"] is True and decided["days"] == 10
    assert decided["due_at"] == "2026-10-30T15:59:59+00:00"  # 10-16 + 10 working days
    assert decided["by_name"] == "婺城区自然资源和规划局" and decided.keys() >= TASK_KEYS


def test_a_finished_case_tells_its_applicant(lf):
    deploy(lf, "finish", [("review", "zrzy", {})], end="准予入市")
    case = lf.instances.start(actor(lf, "applicant.330702101201"), "finish", VILLAGE)
    lf.tasks.complete(actor(lf, "zrzy.330702"), open_task(lf, case["id"])["id"], {})
    # the village's 申请人 department (the demo applicant, and alice and bob, test clerks there)
    assert told(lf, "case_completed") == ["alice", "applicant.330702101201", "bob"]
    payload = notices(lf, "case_completed")[0].payload
    assert payload["result"] == "准予入市" and payload.keys() >= CASE_KEYS
    assert notices(lf, "case_completed")[0].instance_id == case["id"]

    # a county case started by a department has no applicant to tell
    county = lf.instances.start(actor(lf, "zrzy.330702"), "finish", COUNTY)
    lf.tasks.complete(actor(lf, "zrzy.330702"), open_task(lf, county["id"])["id"], {})
    assert lf.instances.get(SYSTEM, county["id"])["status"] == "completed"
    assert len(told(lf, "case_completed")) == 3


def test_a_new_incident_tells_the_admins_once(lf):
    lf.organisation.create_user(SYSTEM, "ops", "运维", "ops-pass-12", [], is_admin=True)
    lf.definitions.deploy({"boom.bpmn": linear_process("boom", script("x = 1 / 0"))}, SYSTEM)
    case = lf.instances.start(actor(lf, "alice"), "boom", VILLAGE)
    [incident] = case["incidents"]
    assert told(lf, "incident_opened") == ["admin", "ops"]
    payload = notices(lf, "incident_opened")[0].payload
    assert payload["message"] and payload["element_name"] and payload.keys() >= CASE_KEYS
    lf.incidents.retry(SYSTEM, incident["id"], {})  # fails again: the same incident
    assert told(lf, "incident_opened") == ["admin", "ops"]
