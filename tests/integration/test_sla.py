"""SLA clocks against the real 2026 calendar: due dates, suspension, extension, the escalation
ladder, a year without data (provisional, 暂定), and calendar edits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from engine.db.tables import Notification, SlaEscalation, SupervisionOrder
from engine.errors import Conflict, PermissionDenied, ValidationFailed
from engine.services.actor import SYSTEM
from engine.services.inbox import TaskFilter
from tests.bpmn_builder import laned_process

BEIJING_9AM_SEP_28 = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)
VILLAGE = "330702101201"


def deploy(lf, pid: str, **props: str) -> None:
    lf.definitions.deploy(
        {
            f"{pid}.bpmn": laned_process(
                pid, [("review", {"dept_type": "zrzy", "level": "county"}, props)]
            )
        },
        SYSTEM,
    )


def start(lf, pid: str) -> tuple[dict, dict]:
    case = lf.instances.start(SYSTEM, pid, VILLAGE)
    task = next(t for t in case["tasks"] if t["state"] == "open")
    return case, task


def clocks(lf, task_id: str) -> dict[str, dict]:
    return {c["kind"]: c for c in lf.sla.task_clocks(SYSTEM, task_id)["clocks"]}


@pytest.fixture
def at_sep_28(lf, clock):
    clock.set(BEIJING_9AM_SEP_28)
    return lf


def test_due_dates_follow_the_2026_calendar(at_sep_28):
    lf = at_sep_28
    deploy(lf, "limits", sla_statutory="10wd", sla_committed="5wd", sla_basis="实施条例第四十条")
    _, task = start(lf, "limits")
    found = clocks(lf, task["id"])
    assert found["statutory"]["due_at"] == "2026-10-16T15:59:59+00:00"  # 10-16 24:00 Beijing
    assert found["committed"]["due_at"] == "2026-10-10T15:59:59+00:00"  # Sat 10-10 is a workday
    assert found["statutory"]["basis"] == "实施条例第四十条"
    listed = lf.inbox.get(SYSTEM, task["id"])
    assert listed["due_at"] == "2026-10-10T15:59:59+00:00" and listed["sla_state"] == "normal"


def test_calendar_day_limits_end_on_a_working_day(at_sep_28):
    lf = at_sep_28
    deploy(lf, "calendar_days", sla_statutory="3d")
    _, task = start(lf, "calendar_days")
    # 09-28 + 3 calendar days = 10-01, a holiday: the period ends on 10-08
    assert clocks(lf, task["id"])["statutory"]["due_at"] == "2026-10-08T15:59:59+00:00"


def test_a_suspension_moves_the_due_date_by_the_suspended_working_days(at_sep_28, clock):
    lf = at_sep_28
    deploy(lf, "supplement", sla_statutory="10wd")
    case, task = start(lf, "supplement")
    clerk = lf.auth.actor_for("zrzy.330702")
    # Friday 10-09: the 5th working day after 09-28 is Sat 10-10 (a make-up day), so a 补正 is
    # still in time (行政许可法 §32)
    clock.set(datetime(2026, 10, 9, 2, 0, tzinfo=UTC))
    with pytest.raises(ValidationFailed):
        lf.sla.suspend(clerk, task["id"], "补正", "材料不全", [])
    paused = lf.sla.suspend(clerk, task["id"], "补正", "材料不全", ["界址图", "权属证明"])
    assert paused["sla_state"] == "paused"
    notices = _notifications(lf, "supplement_notice")
    assert notices and notices[0].payload["missing_items"] == ["界址图", "权属证明"]
    assert "applicant.330702101201" in {n.recipient for n in notices}
    clock.set(datetime(2026, 10, 14, 2, 0, tzinfo=UTC))  # Wed: 10-10, 12, 13, 14 suspended
    resumed = lf.sla.resume(clerk, task["id"])
    statutory = resumed["clocks"][0]
    assert statutory["suspended_days"] == 4
    assert statutory["due_at"] == "2026-10-22T15:59:59+00:00"  # 10-16 + 4 working days
    assert resumed["suspensions"][0]["days_counted"] == 4
    with pytest.raises(Conflict, match="一次"):
        lf.sla.suspend(clerk, task["id"], "补正", "又缺", ["x"])
    lf.sla.suspend(clerk, task["id"], "专家评审", "组织专家论证")
    actions = [h["action"] for h in lf.instances.get(SYSTEM, case["id"])["history"]]
    assert actions.count("sla_suspended") == 2 and "sla_resumed" in actions


def test_the_ladder_fires_each_rung_once(at_sep_28, clock):
    lf = at_sep_28
    deploy(lf, "ladder", sla_statutory="2wd")
    case, task = start(lf, "ladder")
    due = clocks(lf, task["id"])["statutory"]
    assert due["due_at"] == "2026-09-30T15:59:59+00:00"
    assert due["yellow_at"] == "2026-09-28T16:00:00+00:00"  # 09-29 00:00 Beijing
    clock.set(datetime(2026, 9, 28, 15, 0, tzinfo=UTC))  # 23:00 Beijing on the 28th
    assert lf.jobs.run_due() == 0
    clock.set(datetime(2026, 9, 28, 16, 0, 1, tzinfo=UTC))  # 09-29 00:00 Beijing: yellow
    assert lf.jobs.run_due() == 1
    assert lf.inbox.get(SYSTEM, task["id"])["sla_state"] == "yellow"
    # the department's handlers (the task is unclaimed): the demo user and the test clerks
    assert {n.recipient for n in _notifications(lf, "sla_yellow")} == {
        "zrzy.330702",
        "alice",
        "bob",
    }
    clock.set(datetime(2026, 9, 30, 16, 0, 0, tzinfo=UTC))  # just after 09-30 24:00: red
    assert lf.jobs.run_due() == 1
    assert lf.inbox.get(SYSTEM, task["id"])["sla_state"] == "red"
    # the holder, or the handlers while unclaimed, and the department head (the demo user)
    assert [n.recipient for n in _notifications(lf, "sla_red")] == ["alice", "bob", "zrzy.330702"]
    assert _orders(lf) == [("ldxz.330702", "blue")]
    clock.set(datetime(2026, 10, 12, 0, 0, tzinfo=UTC))  # 3 working days after 09-30: 10-10
    assert lf.jobs.run_due() == 1
    clock.set(datetime(2026, 10, 23, 0, 0, tzinfo=UTC))  # 10 working days after: 10-21
    assert lf.jobs.run_due() == 1
    assert lf.jobs.run_due() == 0
    assert _orders(lf) == [
        ("ldxz.330702", "blue"),
        ("ldxz.330700", "orange"),
        ("ldxz.330000", "red"),
    ]
    with lf.uow.read() as session:
        rungs = session.scalars(select(SlaEscalation.rung).order_by(SlaEscalation.id)).all()
    assert rungs == ["yellow", "red", "red+3", "red+10"]
    office = lf.sla.supervision_orders(lf.auth.actor_for("ldxz.330700"))
    assert [o["grade"] for o in office] == ["orange"] and "督办" in office[0]["text"]
    lf.tasks.complete(lf.auth.actor_for("zrzy.330702"), task["id"], {})
    assert clocks(lf, task["id"])["statutory"]["state"] == "missed"
    assert case["id"]


def test_extension_needs_the_department_head_and_happens_once(at_sep_28):
    lf = at_sep_28
    deploy(lf, "extend", sla_statutory="10wd")
    _, task = start(lf, "extend")
    lf.organisation.create_user(SYSTEM, "xiao", "小王", "xiao-pass-1", [("zrzy.330702", "handler")])
    clerk, head = lf.auth.actor_for("xiao"), lf.auth.actor_for("zrzy.330702")
    requested = lf.sla.request_extension(clerk, task["id"], 10, "需现场踏勘")
    assert requested["clocks"][0]["extension_state"] == "requested"
    with pytest.raises(PermissionDenied):
        lf.sla.decide_extension(clerk, task["id"], True)
    approved = lf.sla.decide_extension(head, task["id"], True, "同意延期")
    assert approved["clocks"][0]["extension_days"] == 10
    assert approved["clocks"][0]["due_at"] == "2026-10-30T15:59:59+00:00"  # 10-16 + 10wd
    with pytest.raises(Conflict, match="只能延期一次"):
        lf.sla.request_extension(clerk, task["id"], 5, "再延")


def test_completing_in_time_meets_the_clock(at_sep_28):
    lf = at_sep_28
    deploy(lf, "in_time", sla_statutory="10wd")
    _, task = start(lf, "in_time")
    lf.tasks.complete(lf.auth.actor_for("zrzy.330702"), task["id"], {})
    assert clocks(lf, task["id"])["statutory"]["state"] == "met"
    with lf.uow.read() as session:
        told = set(session.scalars(select(Notification.template)))
    assert told == {"task_queued", "case_completed"}  # no warning, no 督办


def test_editing_the_calendar_recomputes_running_clocks(at_sep_28):
    lf = at_sep_28
    deploy(lf, "edit", sla_statutory="10wd")
    _, task = start(lf, "edit")
    lf.calendar.set_day(SYSTEM, date(2026, 10, 14), "holiday", "临时调整")
    assert clocks(lf, task["id"])["statutory"]["due_at"] == "2026-10-19T15:59:59+00:00"
    lf.calendar.set_day(SYSTEM, date(2026, 10, 14), None)
    assert clocks(lf, task["id"])["statutory"]["due_at"] == "2026-10-16T15:59:59+00:00"
    history = lf.calendar.history(SYSTEM)
    assert [h["action"] for h in history[:2]] == ["edit", "edit"]
    assert history[1]["details"]["after"] == {"kind": "holiday", "name": "临时调整"}


def test_the_inbox_sorts_by_due_date(at_sep_28):
    lf = at_sep_28
    deploy(lf, "slow", sla_statutory="20wd")
    deploy(lf, "fast", sla_statutory="2wd")
    deploy(lf, "none")
    for pid in ("slow", "none", "fast"):
        start(lf, pid)
    items = lf.inbox.list(lf.auth.actor_for("zrzy.330702"), TaskFilter(scope="queue"))["items"]
    assert [i["process_id"] for i in items] == ["fast", "slow", "none"]


def test_bad_limits_are_refused_at_deploy(lf):
    from engine.errors import DefinitionInvalid

    with pytest.raises(DefinitionInvalid) as refused:
        deploy(lf, "bad", sla_statutory="5 weeks")
    assert refused.value.problems[0].element_id == "review"
    with pytest.raises(DefinitionInvalid, match="exceeds"):
        deploy(lf, "bad2", sla_statutory="5wd", sla_committed="8wd")


def _notifications(lf, template: str) -> list[Notification]:
    with lf.uow.read() as session:
        return list(
            session.scalars(
                select(Notification)
                .where(Notification.template == template)
                .order_by(Notification.id)
            )
        )


def _orders(lf) -> list[tuple[str, str]]:
    with lf.uow.read() as session:
        return [
            (o.office, o.grade)
            for o in session.scalars(select(SupervisionOrder).order_by(SupervisionOrder.id))
        ]


def test_a_process_wide_limit_runs_over_the_whole_case(at_sep_28, clock):
    lf = at_sep_28
    content = laned_process(
        "overall",
        [
            ("first", {"dept_type": "zrzy", "level": "county"}, {}),
            ("second", {"dept_type": "fgw", "level": "county"}, {}),
        ],
    ).replace(
        b'isExecutable="true">',
        b'isExecutable="true"><bpmn:extensionElements><spiffworkflow:properties>'
        b'<spiffworkflow:property name="sla_overall" value="3wd"/>'
        b"</spiffworkflow:properties></bpmn:extensionElements>",
        1,
    )
    lf.definitions.deploy({"overall.bpmn": content}, SYSTEM)
    case = lf.instances.start(SYSTEM, "overall", VILLAGE)
    clock.set(datetime(2026, 10, 9, 1, 0, tzinfo=UTC))  # past 09-28 + 3wd = 09-30
    assert lf.jobs.run_due() == 2  # its yellow and red rungs (nothing else has a limit)
    orders = lf.sla.supervision_orders(SYSTEM)
    assert [(o["office"], o["task_id"]) for o in orders] == [("ldxz.330702", None)]
    assert "办理总时限" in orders[0]["text"]
    for name in ("zrzy.330702", "fgw.330702"):
        task = next(
            t for t in lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open"
        )
        lf.tasks.complete(lf.auth.actor_for(name), task["id"], {})
    assert lf.instances.get(SYSTEM, case["id"])["status"] == "completed"
    with lf.uow.read() as session:
        from engine.db.tables import SlaClock

        overall = session.scalars(select(SlaClock).where(SlaClock.kind == "overall")).one()
    assert overall.state == "missed" and overall.stopped_at is not None
