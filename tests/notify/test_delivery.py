"""Delivery end to end: events written by `Outbox.emit` reach a real SMTP server and a real HTTP
receiver (DingTalk, WeCom and webhook formats, signatures verified) through the delivery runner;
a mail server that is down makes messages wait, and once it is back each arrives exactly once;
dead letters are replayed by an admin; quiet hours hold mail back; a digest collects a day's
events into one mail; a user's choices are honoured. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.api.app import create_app
from engine.db.notify_tables import ChannelEndpoint, Delivery, DeliveryAttempt
from engine.db.tables import HumanTask, Notification
from engine.services.actor import SYSTEM
from engine.services.container import Landflow
from engine.services.notify.preferences import PreferenceChange
from tests.bpmn_builder import laned_process
from tests.conftest import make_settings
from tests.support import ApiUser

from .receivers import Receiver

DEPARTMENT = "zrzy.330702"  # 婺城区自然资源和规划局
VILLAGE = "330702101201"  # 古方村


@pytest.fixture
def nlf(database_url, clock, wall_clock, smtp_server) -> Iterator[Landflow]:
    """Landflow whose mail goes to the test SMTP server; three delivery attempts at most."""
    settings = make_settings(
        database_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        delivery_max_attempts=3,
        public_url="https://landflow.example.gov.cn",
    )
    landflow = Landflow.build(settings, clock, wall_clock)
    landflow.start_up()
    yield landflow
    landflow.close()


def review_task(lf: Landflow) -> HumanTask:
    """A real case whose 审查 step waits in 婺城区自然资源和规划局's queue."""
    lf.definitions.deploy(
        {
            "queue_review.bpmn": laned_process(
                "queue_review", [("review", {"dept_type": "zrzy", "level": "county"}, {})]
            )
        },
        SYSTEM,
    )
    case = lf.instances.start(SYSTEM, "queue_review", VILLAGE, "婺城-审查-1")
    with lf.uow.read() as session:
        return session.scalars(select(HumanTask).where(HumanTask.instance_id == case["id"])).one()


def mail_to(lf: Landflow, username: str, address: str, **choices) -> None:
    """The user gives a mail address and wants every event by mail."""
    actor = lf.auth.actor_for(username)
    current = lf.preferences.get(actor)
    lf.preferences.update(
        actor,
        PreferenceChange(
            channels={e["code"]: {**e["channels"], "email": True} for e in current["events"]},
            email=address,
            phone=None,
            quiet_start=choices.get("quiet_start"),
            quiet_end=choices.get("quiet_end"),
            digest=choices.get("digest", False),
            digest_time=choices.get("digest_time", "08:30"),
        ),
    )


def emit(lf: Landflow, code: str, recipients, task: HumanTask | None = None, key=None, **payload):
    with lf.uow.write() as session:
        lf.outbox.emit(
            session,
            code,
            recipients,
            lf.clock.now(),
            task=task,
            department=task.department if task else None,
            payload=payload,
            key=key,
        )


def in_app(lf: Landflow) -> int:
    with lf.uow.read() as session:
        return session.scalar(select(func.count()).select_from(Notification))


def deliveries(lf: Landflow, **where) -> list[Delivery]:
    with lf.uow.read() as session:
        query = select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list(session.scalars(query))


def add_robots(lf: Landflow, receiver: Receiver) -> None:
    now = lf.clock.now()
    with lf.uow.write() as session:
        for kind, url, secret in (
            ("dingtalk", receiver.dingtalk_url(), receiver.dingtalk_secret),
            ("wecom", receiver.wecom_url(), None),
            ("webhook", receiver.url("webhook"), receiver.webhook_secret),
        ):
            session.add(
                ChannelEndpoint(
                    department=DEPARTMENT,
                    kind=kind,
                    name=f"婺城区自然资源局工作群（{kind}）",
                    url=url,
                    secret=secret,
                    events=None,
                    enabled=True,
                    created_at=now,
                    updated_at=now,
                )
            )


def test_a_queued_task_reaches_mail_and_every_department_robot(nlf, smtp_server, receiver):
    task = review_task(nlf)
    add_robots(nlf, receiver)
    mail_to(nlf, "alice", "alice@example.gov.cn")
    emit(nlf, "task_queued", ["alice"], task, key="queued-1")

    assert nlf.deliveries.run_due() == 4  # alice's mail, DingTalk, WeCom, webhook
    assert nlf.deliveries.run_due() == 0

    (mail,) = smtp_server.messages
    assert mail["To"].addresses[0].addr_spec == "alice@example.gov.cn"
    subject = str(mail["Subject"])
    assert task.title in subject or "待认领" in subject, subject
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "婺城区自然资源和规划局" in text and "婺城区自然资源和规划局" in html
    assert f"https://landflow.example.gov.cn/tasks/{task.id}" in text
    assert "zrzy." not in text and VILLAGE not in text

    (ding,) = receiver.received["dingtalk"]
    assert ding.json["msgtype"] == "markdown" and "婺城区自然资源和规划局" in str(ding.json)
    assert "sign" in ding.query  # signed, and the receiver verified it before accepting
    (wecom,) = receiver.received["wecom"]
    assert task.title in wecom.json["markdown"]["content"]
    (hook,) = receiver.received["webhook"]
    assert hook.json["event"] == "task_queued" and hook.json["data"]["task_id"] == task.id
    headers = {name.lower(): value for name, value in hook.headers.items()}
    assert headers["x-landflow-delivery"] == hook.json["id"]

    assert {d.status for d in deliveries(nlf)} == {"sent"}
    with nlf.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 4


def test_mail_waits_while_the_server_is_down_and_then_arrives_once(nlf, smtp_server, clock):
    task = review_task(nlf)
    mail_to(nlf, "alice", "alice@example.gov.cn")
    mail_to(nlf, "bob", "bob@example.gov.cn")
    smtp_server.stop()
    emit(nlf, "task_queued", ["alice", "bob"], task, key="queued-down")
    emit(nlf, "sla_red", ["alice"], task, key="red-down", due_at="2026-11-09T01:00:00+00:00")

    assert nlf.deliveries.run_due() == 3
    waiting = deliveries(nlf, channel="email")
    assert {d.status for d in waiting} == {"retrying"} and all(d.last_error for d in waiting)
    assert nlf.deliveries.run_due() == 0  # not due again before the backoff

    clock.advance(timedelta(seconds=31))
    assert nlf.deliveries.run_due() == 3  # second attempt, still down
    smtp_server.start()
    assert nlf.deliveries.run_due() == 0  # backoff 60 s still running
    clock.advance(timedelta(seconds=61))
    assert nlf.deliveries.run_due() == 3
    for _ in range(3):  # whatever else comes due, nothing is sent twice
        clock.advance(timedelta(hours=2))
        nlf.deliveries.run_due()

    assert sorted(m["To"].addresses[0].username for m in smtp_server.messages) == [
        "alice",
        "alice",
        "bob",
    ]
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(set(ids)) == 3
    assert {d.status for d in deliveries(nlf, channel="email")} == {"sent"}
    assert [d.attempts for d in deliveries(nlf, channel="email")] == [3, 3, 3]


def test_a_dead_letter_is_replayed_by_an_admin(nlf, receiver, clock):
    task = review_task(nlf)
    add_robots(nlf, receiver)
    receiver.fail("webhook", times=1, status=400)  # refused: final at once
    receiver.fail("wecom", times=3, status=500)  # three 500s: the attempts run out
    emit(nlf, "task_queued", [], task, key="dead-1")

    for _ in range(3):
        nlf.deliveries.run_due()
        clock.advance(timedelta(hours=1))
    webhook, wecom = deliveries(nlf, channel="webhook")[0], deliveries(nlf, channel="wecom")[0]
    assert (webhook.status, webhook.attempts) == ("dead", 1)
    assert (wecom.status, wecom.attempts) == ("dead", 3)
    assert receiver.received["webhook"] == [] and receiver.received["wecom"] == []

    with TestClient(create_app(nlf, start_scheduler=False)) as client:
        admin = ApiUser(client, "admin", "admin-pass")
        log = admin.get("/api/v1/admin/deliveries", status="dead")
        assert log["total"] == 2 and log["counts"]["dead"] == 2
        assert {i["channel_name"] for i in log["items"]} == {"Webhook", "企业微信机器人"}
        detail = admin.get(f"/api/v1/admin/deliveries/{wecom.id}")
        assert [a["ok"] for a in detail["attempt_log"]] == [False, False, False]
        clerk = ApiUser(client, "alice", "alice-pass")
        clerk.get("/api/v1/admin/deliveries", expect=403)
        clerk.post("/api/v1/admin/deliveries/replay", {"ids": [wecom.id]}, expect=403)
        assert admin.post("/api/v1/admin/deliveries/replay", {"ids": [webhook.id, wecom.id]}) == {
            "queued": 2
        }
    assert nlf.deliveries.run_due() == 2
    assert len(receiver.received["webhook"]) == 1 and len(receiver.received["wecom"]) == 1
    assert {d.status for d in deliveries(nlf)} == {"sent"}


def test_quiet_hours_hold_mail_until_they_end(nlf, smtp_server, clock):
    task = review_task(nlf)
    mail_to(nlf, "alice", "alice@example.gov.cn", quiet_start="22:00", quiet_end="07:30")
    clock.set(datetime(2026, 11, 3, 15, 0, tzinfo=UTC))  # 23:00 in Beijing
    before = in_app(nlf)
    emit(nlf, "task_queued", ["alice"], task, key="night")
    (delivery,) = deliveries(nlf, channel="email")
    assert delivery.due_at == datetime(2026, 11, 3, 23, 30, tzinfo=UTC)  # 07:30 Beijing
    assert nlf.deliveries.run_due() == 0
    assert in_app(nlf) == before + 1  # the in-app message is there at once
    clock.set(datetime(2026, 11, 3, 23, 30, tzinfo=UTC))
    assert nlf.deliveries.run_due() == 1
    assert len(smtp_server.messages) == 1


def test_a_digest_collects_the_day_into_one_mail(nlf, smtp_server, clock):
    task = review_task(nlf)
    mail_to(nlf, "alice", "alice@example.gov.cn", digest=True, digest_time="08:30")
    clock.set(datetime(2026, 11, 3, 2, 0, tzinfo=UTC))  # 10:00 Beijing
    emit(nlf, "task_queued", ["alice"], task, key="d1")
    clock.advance(timedelta(hours=2))
    emit(nlf, "sla_yellow", ["alice"], task, key="d2", due_at="2026-11-04T01:00:00+00:00")
    clock.advance(timedelta(hours=2))
    emit(nlf, "sla_red", ["alice"], task, key="d3", due_at="2026-11-04T01:00:00+00:00")
    assert deliveries(nlf, channel="email") == []
    nlf.jobs.run_due()
    nlf.deliveries.run_due()
    assert smtp_server.messages == []  # not before 08:30 the next morning

    clock.set(datetime(2026, 11, 4, 0, 30, tzinfo=UTC))  # 08:30 Beijing
    nlf.jobs.run_due()
    assert nlf.deliveries.run_due() == 1
    (mail,) = smtp_server.messages
    text = mail.get_body(("plain",)).get_content()
    for name in ("新事项进入本部门待认领", "即将到期（黄灯）", "已超期（红灯）"):
        assert name in text, name

    emit(nlf, "sla_red", ["alice"], task, key="d4", due_at="2026-11-04T01:00:00+00:00")
    nlf.jobs.run_due()
    nlf.deliveries.run_due()
    assert len(smtp_server.messages) == 1  # the next item waits for tomorrow's digest
    clock.set(datetime(2026, 11, 5, 0, 30, tzinfo=UTC))
    nlf.jobs.run_due()
    nlf.deliveries.run_due()
    assert len(smtp_server.messages) == 2
    with nlf.uow.read() as session:
        statuses = session.scalars(
            select(Notification.status).where(
                Notification.created_at >= datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
            )
        ).all()
    assert statuses == ["digested"] * 4


def test_a_user_who_turns_mail_off_gets_only_the_in_app_message(nlf, smtp_server):
    task = review_task(nlf)
    mail_to(nlf, "alice", "alice@example.gov.cn")
    actor = nlf.auth.actor_for("alice")
    prefs = nlf.preferences.get(actor)
    channels = {e["code"]: dict(e["channels"]) for e in prefs["events"]}
    channels["task_queued"]["email"] = False
    nlf.preferences.update(
        actor,
        PreferenceChange(channels, "alice@example.gov.cn", None, None, None, False, "08:30"),
    )
    before = in_app(nlf)
    emit(nlf, "task_queued", ["alice"], task, key="off")
    emit(nlf, "task_returned", ["alice"], task, key="on", by_name="李审核", reason="补图")
    nlf.deliveries.run_due()
    assert [d.event for d in deliveries(nlf)] == ["task_returned"]
    assert len(smtp_server.messages) == 1
    assert in_app(nlf) == before + 2


def test_the_same_occurrence_is_delivered_once(nlf, smtp_server):
    task = review_task(nlf)
    mail_to(nlf, "alice", "alice@example.gov.cn")
    emit(nlf, "sla_red", ["alice"], task, key="sla_red:7")
    emit(nlf, "sla_red", ["alice"], task, key="sla_red:7")
    nlf.deliveries.run_due()
    assert len(deliveries(nlf)) == 1 and len(smtp_server.messages) == 1


def test_preferences_over_http_show_field_errors(nlf):
    with TestClient(create_app(nlf, start_scheduler=False)) as client:
        alice = ApiUser(client, "alice", "alice-pass")
        prefs = alice.get("/api/v1/me/notification-preferences")
        assert prefs["events"][0]["channels"]["inapp"] is True
        response = client.put(
            "/api/v1/me/notification-preferences",
            headers=alice.headers,
            json={"email": "not-a-mail", "phone": "123", "quiet_start": "25:00"},
        )
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert {"email", "phone", "quiet_start", "quiet_end"} <= fields
        saved = client.put(
            "/api/v1/me/notification-preferences",
            headers=alice.headers,
            json={
                "email": "alice@example.gov.cn",
                "phone": "13800000000",
                "channels": {"sla_red": {"sms": False}},
            },
        )
        assert saved.status_code == 200, saved.text
        red = next(e for e in saved.json()["events"] if e["code"] == "sla_red")
        assert red["channels"] == {"inapp": True, "email": True, "sms": False}


def test_robot_endpoints_are_for_admins_and_hide_their_secrets(nlf, receiver):
    with TestClient(create_app(nlf, start_scheduler=False)) as client:
        admin = ApiUser(client, "admin", "admin-pass")
        body = {
            "department": DEPARTMENT,
            "kind": "dingtalk",
            "name": "婺城区自然资源局工作群",
            "url": receiver.dingtalk_url(),
            "secret": "SECsecret",
        }
        created = admin.post("/api/v1/admin/notification-endpoints", body, expect=201)
        assert created["secret_set"] is True and "secret" not in created
        assert receiver.dingtalk_token not in created["url"]
        assert created["department_name"] == "婺城区自然资源和规划局"
        bad = client.post(
            "/api/v1/admin/notification-endpoints",
            headers=admin.headers,
            json={**body, "department": "nowhere.1", "url": "ftp://x"},
        )
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"department", "url"}
        clerk = ApiUser(client, "alice", "alice-pass")
        clerk.post("/api/v1/admin/notification-endpoints", body, expect=403)
        renamed = client.put(
            f"/api/v1/admin/notification-endpoints/{created['id']}",
            headers=admin.headers,
            json={**body, "url": created["url"], "secret": None, "name": "改名后的工作群"},
        )
        assert renamed.status_code == 200 and renamed.json()["secret_set"] is True
    with nlf.uow.read() as session:
        endpoint = session.get(ChannelEndpoint, created["id"])
        assert endpoint.url == receiver.dingtalk_url()  # the masked URL kept the real one
        assert endpoint.secret == "SECsecret" and endpoint.name == "改名后的工作群"
