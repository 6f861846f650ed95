"""督办单 as a process (processes/supervision_order.bpmn) on SQLite and PostgreSQL: an office
issues one by hand, the department replies in its inbox, the office closes it, asks for a
further reply or escalates it; a late reply tells the department's heads and the office; the
ladder's own orders still fire once each; every step shows on the supervised case's timeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.db.tables import (
    HumanTask,
    Instance,
    Notification,
    SlaClock,
    SlaEscalation,
    SupervisionOrder,
)
from engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from engine.services.actor import SYSTEM
from engine.services.inbox import TaskFilter
from engine.services.supervision import IssueRequest
from tests.bpmn_builder import laned_process

VILLAGE = "330702101201"
MON_NOV_2 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
OFFICE, CLERK = "ldxz.330702", "zrzy.330702"
REPLY = {"reply_progress": "已办结", "reply_text": "已于11月4日完成审查并出具意见"}


@pytest.fixture
def lf(product_lf, clock):
    """The product's processes (with supervision_order) and a one-step case in 婺城区's
    自然资源和规划局 to supervise."""
    clock.set(MON_NOV_2)
    product_lf.definitions.deploy(
        {
            "parcel.bpmn": laned_process(
                "parcel",  # no time limit: only the orders' own clocks run
                [("review", {"dept_type": "zrzy", "level": "county"}, {})],
            )
        },
        SYSTEM,
    )
    return product_lf


def start_case(lf) -> tuple[dict, dict]:
    case = lf.instances.start(SYSTEM, "parcel", VILLAGE)
    return case, next(t for t in case["tasks"] if t["state"] == "open")


def actor(lf, username: str):
    return lf.auth.actor_for(username)


def told(lf, event: str) -> list[str]:
    with lf.uow.read() as session:
        return sorted(
            session.scalars(select(Notification.recipient).where(Notification.template == event))
        )


def timeline_texts(lf, case_id: str) -> list[str]:
    entries = lf.case_record.page(SYSTEM, case_id)["timeline"]
    return [e["text"] for e in entries if e["action"] == "supervision_order"]


def issue(lf, task: dict, **given) -> dict:
    by = given.pop("by", OFFICE)
    request = IssueRequest(
        task_id=task["id"],
        grade=given.pop("grade", "orange"),
        text=given.pop("text", "请加快审查，按期出具意见"),
        reply_days=given.pop("reply_days", 3),
        **given,
    )
    return lf.supervision.issue(actor(lf, by), request)


def test_issue_reply_close_across_the_office_and_the_clerk(lf):
    case, task = start_case(lf)
    order = issue(lf, task)
    assert (order["office"], order["department"], order["status"]) == (OFFICE, CLERK, "open")
    assert order["grade_name"] == "橙色" and order["issued_by"] == OFFICE
    # three working days from Monday 11-02: Thursday 11-05, 24:00 Beijing
    assert order["reply_due_at"] == "2026-11-05T15:59:59+00:00"
    assert order["order_case_no"].startswith("督办2026-")
    # the department's clerk finds the reply step in the inbox, its committed limit the order's
    clerk = actor(lf, CLERK)
    queue = lf.inbox.list(clerk, TaskFilter(scope="queue"))["items"]
    reply = next(t for t in queue if t["id"] == order["reply_task_id"])
    assert reply["name"] == "reply" and reply["department"] == CLERK
    [committed] = lf.sla.task_clocks(clerk, reply["id"])["clocks"]
    assert (committed["kind"], committed["limit"]) == ("committed", "3wd")
    assert committed["due_at"] == order["reply_due_at"]
    assert "ldxz.330702" not in told(lf, "supervision_order")
    assert {"zrzy.330702", "alice", "bob"} <= set(told(lf, "supervision_order"))

    # the clerk replies through the task, as the task page does
    lf.tasks.complete(clerk, reply["id"], REPLY)
    answered = lf.supervision.get(actor(lf, OFFICE), order["id"])
    assert answered["status"] == "answered" and answered["replied_by"] == CLERK
    assert answered["reply_text"] == "已办结：已于11月4日完成审查并出具意见"
    assert told(lf, "supervision_answered") == [OFFICE]
    assert answered["can_close"] and not answered["can_reply"]
    with pytest.raises(PermissionDenied):
        lf.supervision.close(clerk, order["id"])  # the department only replies

    closed = lf.supervision.close(actor(lf, OFFICE), order["id"], "已落实")
    assert closed["status"] == "closed" and closed["closed_by"] == OFFICE
    assert closed["order_case_status"] == "completed"
    texts = timeline_texts(lf, case["id"])
    assert len(texts) == 3
    assert texts[0].startswith("婺城区领导小组办公室下达橙色督办单（督办2026-")
    assert "于2026-11-05前反馈" in texts[0]
    assert texts[1].startswith("婺城区自然资源和规划局反馈橙色督办单") and "11月4日" in texts[1]
    assert texts[2].endswith("：已落实") and "办结" in texts[2]


def test_a_late_reply_tells_the_department_heads_and_the_office(lf, clock):
    _, task = start_case(lf)
    order = issue(lf, task, reply_days=2)  # due Wednesday 11-04 24:00
    assert order["reply_due_at"] == "2026-11-04T15:59:59+00:00"
    clock.set(datetime(2026, 11, 4, 16, 0, 1, tzinfo=UTC))
    lf.jobs.run_due()
    # the department's heads (the demo user) and the office, not the handlers; no sla_red
    assert told(lf, "supervision_overdue") == [OFFICE, CLERK]
    assert told(lf, "sla_red") == []
    office = actor(lf, OFFICE)
    late = lf.supervision.list(office, status="overdue")
    assert [o["id"] for o in late["items"]] == [order["id"]] and late["counts"]["overdue"] == 1
    assert late["items"][0]["overdue"] is True
    assert lf.inbox.get(SYSTEM, order["reply_task_id"])["sla_state"] == "red"
    # the later rungs of the reply's clock issue no 督办 of the 督办
    clock.set(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    lf.jobs.run_due()
    with lf.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(SupervisionOrder)) == 1
    assert told(lf, "supervision_overdue") == [OFFICE, CLERK]
    assert any("逾期未反馈" in t for t in timeline_texts(lf, order["instance_id"]))


def test_escalating_goes_one_office_and_one_grade_up_until_the_top(lf):
    _, task = start_case(lf)
    blue = issue(lf, task, grade="blue")
    # no reply yet: the office escalates; the reply step ends, the city office's order opens
    escalated = lf.supervision.escalate(actor(lf, OFFICE), blue["id"], "逾期未反馈")
    assert escalated["status"] == "escalated" and escalated["order_case_status"] == "completed"
    orange = escalated["escalated_order"]
    assert (orange["office"], orange["grade"], orange["parent_id"]) == (
        "ldxz.330700",
        "orange",
        blue["id"],
    )
    with lf.uow.read() as session:
        replies = session.scalars(
            select(HumanTask.state).where(HumanTask.task_spec == "reply").order_by(HumanTask.id)
        ).all()
    assert sorted(replies) == ["cancelled", "open"]
    city = actor(lf, "ldxz.330700")
    assert [o["id"] for o in lf.supervision.list(city, scope="office")["items"]] == [orange["id"]]
    with pytest.raises(PermissionDenied):  # the county office no longer runs it
        lf.supervision.escalate(actor(lf, OFFICE), orange["id"], "再升级")
    # answered, the city office escalates it in its review: the province's red order
    lf.tasks.complete(actor(lf, CLERK), orange["reply_task_id"], REPLY)
    red = lf.supervision.escalate(city, orange["id"], "反馈不实")["escalated_order"]
    assert (red["office"], red["grade"]) == ("ldxz.330000", "red")
    lf.tasks.complete(actor(lf, CLERK), red["reply_task_id"], REPLY)
    with pytest.raises(Conflict, match="最高"):
        lf.supervision.escalate(actor(lf, "ldxz.330000"), red["id"], "仍不满意")


def test_a_further_reply_gets_the_days_the_office_gave(lf):
    case, task = start_case(lf)
    order = issue(lf, task)
    lf.tasks.complete(actor(lf, CLERK), order["reply_task_id"], REPLY)
    again = lf.supervision.send_back(actor(lf, OFFICE), order["id"], "请附审查意见书", 2)
    assert again["status"] == "open" and again["reply_task_id"] != order["reply_task_id"]
    [committed] = lf.sla.task_clocks(SYSTEM, again["reply_task_id"])["clocks"]
    assert committed["limit"] == "2wd" and again["reply_due_at"] == committed["due_at"]
    lf.tasks.complete(actor(lf, CLERK), again["reply_task_id"], REPLY)
    assert lf.supervision.get(actor(lf, OFFICE), order["id"])["status"] == "answered"
    assert any("要求补充反馈" in t and "审查意见书" in t for t in timeline_texts(lf, case["id"]))


def test_the_ladder_issues_each_order_once_as_a_case(lf, clock):
    lf.definitions.deploy(
        {
            "late.bpmn": laned_process(
                "late",
                [("review", {"dept_type": "zrzy", "level": "county"}, {"sla_statutory": "2wd"})],
            )
        },
        SYSTEM,
    )
    case = lf.instances.start(SYSTEM, "late", VILLAGE)
    for moment in (
        datetime(2026, 11, 4, 16, 0, 1, tzinfo=UTC),  # red: blue from 婺城区
        datetime(2026, 11, 9, 16, 0, 1, tzinfo=UTC),  # red+3: orange from 金华市
        datetime(2026, 11, 18, 16, 0, 1, tzinfo=UTC),  # red+10: red from 浙江省
    ):
        clock.set(moment)
        lf.jobs.run_due()
    with lf.uow.read() as session:
        orders = session.scalars(select(SupervisionOrder).order_by(SupervisionOrder.id)).all()
        rungs = session.scalars(
            select(SlaEscalation.rung)
            .join(SlaClock, SlaClock.id == SlaEscalation.clock_id)
            .where(SlaClock.instance_id == case["id"])
            .order_by(SlaEscalation.id)
        ).all()
        cases = session.scalars(
            select(Instance.id).where(Instance.id.in_([o.order_instance_id for o in orders]))
        ).all()
    assert [(o.office, o.grade, o.issued_by) for o in orders] == [
        ("ldxz.330702", "blue", "system"),
        ("ldxz.330700", "orange", "system"),
        ("ldxz.330000", "red", "system"),
    ]
    assert len(cases) == 3 and rungs == ["yellow", "red", "red+3", "red+10"]
    assert all(o.instance_id == case["id"] for o in orders)
    texts = timeline_texts(lf, case["id"])
    assert len([t for t in texts if "下达" in t]) == 3


def test_who_may_issue_and_see_orders(lf):
    case, task = start_case(lf)
    with pytest.raises(PermissionDenied):  # a clerk issues nothing
        issue(lf, task, by=CLERK)
    with pytest.raises(NotFound):  # another county's office does not see the case
        issue(lf, task, by="ldxz.330782")
    with pytest.raises(ValidationFailed):
        issue(lf, task, reply_days=40)
    order = issue(lf, task)
    with pytest.raises(Conflict):  # one open order per office and step
        issue(lf, task)
    assert lf.supervision.list(actor(lf, "zrzy.330782"))["items"] == []
    with pytest.raises(NotFound):
        lf.supervision.get(actor(lf, "zrzy.330782"), order["id"])
    # the city office watches its territory's orders, read-only
    seen = lf.supervision.get(actor(lf, "ldxz.330700"), order["id"])
    assert not seen["can_escalate"] and not seen["can_close"]
    # the department may not escalate its own order through the message API
    with pytest.raises((PermissionDenied, NotFound)):
        lf.messages.correlate(
            actor(lf, CLERK),
            "supervision_order_escalated",
            instance_id=order["order_instance_id"],
            payload={"reason": "x"},
        )
    assert lf.supervision.get(actor(lf, OFFICE), order["id"])["status"] == "open"
    assert case["id"] == order["instance_id"]


def test_the_api_runs_an_order_between_two_users(lf):
    from fastapi.testclient import TestClient

    from engine.api.app import create_app

    case, task = start_case(lf)
    with TestClient(create_app(lf, start_scheduler=False)) as client:

        def sign_in(username: str) -> dict[str, str]:
            answer = client.post(
                "/api/v1/auth/token", json={"username": username, "password": "demo"}
            )
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        office, clerk = sign_in(OFFICE), sign_in(CLERK)
        options = client.get(
            f"/api/v1/instances/{case['id']}/supervision-options", headers=office
        ).json()
        assert options["offices"] == [{"code": OFFICE, "name": "婺城区领导小组办公室"}]
        assert [s["task_id"] for s in options["steps"]] == [task["id"]]
        assert options["reply_days"] == 5
        body = {"task_id": task["id"], "grade": "red", "text": "请立即办理", "reply_days": 2}
        assert (
            client.post("/api/v1/supervision-orders", json=body, headers=clerk).status_code == 403
        )
        issued = client.post("/api/v1/supervision-orders", json=body, headers=office)
        assert issued.status_code == 201, issued.text
        order = issued.json()
        listed = client.get("/api/v1/supervision-orders", headers=clerk).json()
        assert [o["id"] for o in listed["items"]] == [order["id"]]
        assert listed["items"][0]["can_reply"] and listed["counts"]["open"] == 1
        refused = client.post(
            f"/api/v1/supervision-orders/{order['id']}/reply",
            json={"data": {"reply_progress": "正在办理", "reply_text": "正在审查"}},
            headers=clerk,
        )
        assert refused.status_code == 422  # 预计办结日期 is needed while still in hand
        replied = client.post(
            f"/api/v1/supervision-orders/{order['id']}/reply",
            json={"data": {**REPLY, "reply_contact": "张三 0579-12345678"}},
            headers=clerk,
        )
        assert replied.status_code == 200 and replied.json()["status"] == "answered"
        sent_back = client.post(
            f"/api/v1/supervision-orders/{order['id']}/send-back",
            json={"opinion": "请附意见书", "days": 1},
            headers=office,
        ).json()
        assert sent_back["status"] == "open" and sent_back["reply_days"] == 2
        client.post(
            f"/api/v1/supervision-orders/{order['id']}/reply",
            json={"data": REPLY},
            headers=clerk,
        )
        closed = client.post(
            f"/api/v1/supervision-orders/{order['id']}/close", json={}, headers=office
        ).json()
        assert closed["status"] == "closed"
        assert [s["event"] for s in closed["steps"]] == [
            "issued",
            "answered",
            "sent_back",
            "answered",
            "closed",
        ]
        tabs = client.get("/api/v1/supervision-orders?status=closed", headers=office).json()
        assert tabs["total"] == 1 and tabs["counts"]["closed"] == 1
        wrong = client.get("/api/v1/supervision-orders?status=lost", headers=office)
        assert wrong.status_code == 422
