"""The calendar never stops a case: a deadline into a year without the State Council notice
(2027: the chinese-calendar package ends in 2026) is computed on weekends plus the estimated
holidays of the `holidays` package, marked 暂定, alerted once; importing the notice recomputes
every open clock and records the change in the case's history."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.api.app import create_app
from engine.db.tables import Job, Notification, SlaClock
from engine.services.actor import SYSTEM
from tests.bpmn_builder import laned_process, linear_process, script, timer_catch, user_task
from tests.conftest import VILLAGE
from tests.sign_in import page_sign_in
from tests.support import ApiUser

DEC_21 = datetime(2026, 12, 21, 1, 0, tzinfo=UTC)  # Monday 09:00 Beijing
# A made-up 2027 notice for the test: 元旦 on Fri 01-01 and, unlike the estimate, Mon 01-04 off
NOTICE_2027 = {
    "year": 2027,
    "holidays": [{"name": "元旦", "days": ["2027-01-01", "2027-01-04"]}],
    "workdays": [],
}


def deploy_review(lf, pid: str, **props: str) -> None:
    lf.definitions.deploy(
        {
            f"{pid}.bpmn": laned_process(
                pid, [("review", {"dept_type": "zrzy", "level": "county"}, props)]
            )
        },
        SYSTEM,
    )


def open_task(case: dict) -> dict:
    return next(t for t in case["tasks"] if t["state"] == "open")


def sla_jobs(lf) -> list[tuple[str, str]]:
    with lf.uow.read() as session:
        jobs = session.scalars(select(Job).where(Job.kind == "sla").order_by(Job.id))
        return sorted((j.target.split(":")[1], j.due_at.isoformat()) for j in jobs)


def test_a_2027_deadline_is_provisional_then_recomputed_by_the_notice(lf, clock):
    clock.set(DEC_21)
    deploy_review(lf, "into_2027", sla_statutory="20wd")
    cases = [lf.instances.start(SYSTEM, "into_2027", VILLAGE) for _ in range(2)]
    for case in cases:
        assert case["status"] == "running"
        view = lf.sla.task_clocks(SYSTEM, open_task(case)["id"])
        [statutory] = view["clocks"]
        assert view["provisional"] is True and statutory["provisional"] is True
        assert statutory["state"] == "normal" and statutory["problem"] is None
        # 20 working days after Mon 2026-12-21 on the estimate (2027-01-01 off): 2027-01-19
        assert statutory["due_at"] == "2027-01-19T15:59:59+00:00"
        assert lf.inbox.get(SYSTEM, open_task(case)["id"])["sla_state"] == "normal"
    [alert] = lf.sla.alerts(SYSTEM)
    assert alert["key"] == "calendar_missing:2027" and alert["resolved_at"] is None
    assert "暂定" in alert["message"]
    with lf.uow.read() as session:
        told = session.scalars(
            select(Notification.recipient).where(Notification.template == "calendar_missing")
        ).all()
    assert told == ["admin"]  # once for the year, not once per clock
    assert sla_jobs(lf) == [("yellow", "2027-01-17T16:00:00+00:00")] * 2  # 01-18 00:00 Beijing

    result = lf.calendar.import_notice(SYSTEM, json.dumps(NOTICE_2027), "json", "国办发明电")
    assert result == {"year": 2027, "days": 2, "resolved_alerts": 1}
    for case in cases:
        [statutory] = lf.sla.task_clocks(SYSTEM, open_task(case)["id"])["clocks"]
        assert statutory["provisional"] is False
        assert statutory["due_at"] == "2027-01-20T15:59:59+00:00"
        [entry] = [
            h
            for h in lf.instances.get(SYSTEM, case["id"])["history"]
            if h["action"] == "deadline_recomputed"
        ]
        assert entry["actor"] == "system" and entry["task_id"] == open_task(case)["id"]
        assert entry["details"] == {
            "clock": "statutory",
            "old_due_at": "2027-01-19T15:59:59+00:00",
            "new_due_at": "2027-01-20T15:59:59+00:00",
            "was_provisional": True,
            "provisional": False,
        }
    assert sla_jobs(lf) == [("yellow", "2027-01-18T16:00:00+00:00")] * 2  # rescheduled
    assert lf.sla.alerts(SYSTEM)[0]["resolved_at"] is not None
    # importing the same notice again changes no due date and records nothing new
    lf.calendar.import_notice(SYSTEM, json.dumps(NOTICE_2027), "json", "国办发明电")
    history = lf.instances.get(SYSTEM, cases[0]["id"])["history"]
    assert [h["action"] for h in history].count("deadline_recomputed") == 1


def test_the_ladder_runs_on_the_provisional_calendar(lf, clock):
    clock.set(datetime(2027, 1, 4, 1, 0, tzinfo=UTC))  # Monday 2027-01-04
    deploy_review(lf, "late_2027", sla_statutory="2wd")
    case = lf.instances.start(SYSTEM, "late_2027", VILLAGE)
    clock.set(datetime(2027, 1, 7, 1, 0, tzinfo=UTC))  # past Wed 01-06 24:00
    assert lf.jobs.run_due() == 2  # yellow, then red
    task = lf.inbox.get(SYSTEM, open_task(case)["id"])
    assert task["sla_state"] == "red"
    [order] = lf.sla.supervision_orders(SYSTEM)
    assert "暂定" in order["text"] and "2027-01-06" in order["text"]
    assert lf.instances.get(SYSTEM, case["id"])["status"] == "running"


def test_workdays_in_a_timer_into_2027_does_not_stop_the_case(lf, clock):
    clock.set(DEC_21)
    lf.definitions.deploy(
        {
            "announce.bpmn": linear_process(
                "announce", timer_catch("timeDate", "workdays(20)"), user_task("公告期满")
            )
        },
        SYSTEM,
    )
    case = lf.instances.start(SYSTEM, "announce", VILLAGE)
    assert case["status"] == "waiting" and not case.get("error")
    with lf.uow.read() as session:
        [timer] = session.scalars(select(Job).where(Job.kind == "timer")).all()
    assert timer.due_at.isoformat() == "2027-01-19T15:59:59+00:00"  # on the estimate
    clock.set(datetime(2027, 1, 20, 1, 0, tzinfo=UTC))
    assert lf.jobs.run_due() >= 1
    assert lf.instances.get(SYSTEM, case["id"])["status"] == "running"


def test_days_and_is_workday_in_a_script_use_the_estimated_holidays(lf, clock):
    clock.set(DEC_21)
    lf.definitions.deploy(
        {
            "dates.bpmn": linear_process(
                "dates",
                script(
                    "spring = is_workday('2027-02-08')\n"
                    "monday = is_workday('2027-03-01')\n"
                    "until = days(3, '2027-02-05')"
                ),
                user_task("查看"),
            )
        },
        SYSTEM,
    )
    case = lf.instances.start(SYSTEM, "dates", VILLAGE)
    assert case["status"] == "running"
    assert case["data"]["spring"] is False and case["data"]["monday"] is True
    # 02-05 + 3 days is Mon 02-08, still the estimated Spring Festival: the next working day
    assert case["data"]["until"] == "2027-02-11T23:59:59+08:00"


def test_the_task_page_and_the_calendar_show_the_provisional_year(lf, clock):
    clock.set(DEC_21)
    deploy_review(lf, "into_2027", sla_statutory="20wd")
    task = open_task(lf.instances.start(SYSTEM, "into_2027", VILLAGE))
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        admin = ApiUser(client, "admin", "admin-pass")
        year = admin.get("/api/v1/calendar/2027")
        assert year["covered"] is False
        assert "2027-02-08" in year["provisional_holidays"]
        assert "2027-02-06" not in year["provisional_holidays"]  # a Saturday anyway
        assert admin.get(f"/api/v1/tasks/{task['id']}/sla")["provisional"] is True
        page_sign_in(client, "zrzy.330702", "demo")
        page = client.get(f"/tasks/{task['id']}")
        assert page.status_code == 200
        assert "暂定" in page.text and "20个工作日" in page.text
        assert "calendar_missing" not in page.text and "20wd" not in page.text
        lf.calendar.import_notice(SYSTEM, json.dumps(NOTICE_2027), "json", "国办发明电")
        assert "暂定" not in client.get(f"/tasks/{task['id']}").text


def test_clocks_an_older_version_left_without_a_calendar_get_due_dates_at_start_up(
    lf, clock, tmp_path: Path
):
    clock.set(DEC_21)
    deploy_review(lf, "stranded", sla_statutory="20wd")
    task = open_task(lf.instances.start(SYSTEM, "stranded", VILLAGE))
    with lf.uow.write() as session:
        row = session.scalars(select(SlaClock).where(SlaClock.task_id == task["id"])).one()
        row.state, row.due_at, row.yellow_at, row.provisional = (
            "calendar_missing",
            None,
            None,
            False,
        )
        row.problem = "no official holiday data for 2027"
    lf.sla.start_up(tmp_path / "no_rules.csv")
    [statutory] = lf.sla.task_clocks(SYSTEM, task["id"])["clocks"]
    assert statutory["state"] == "normal" and statutory["provisional"] is True
    assert statutory["due_at"] == "2027-01-19T15:59:59+00:00" and statutory["problem"] is None
