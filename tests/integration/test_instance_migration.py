"""Migrating running cases between versions: a dry run says who moves and who cannot and why,
the migration moves each case on its own, re-routes a step the new version routes elsewhere,
keeps timers and a half-done multi-instance, and the moved cases finish on the new version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.api.app import create_app
from engine.db.tables import Job
from engine.services.actor import SYSTEM
from engine.services.case_timeline import timeline
from tests.bpmn_builder import HEADER
from tests.conftest import VILLAGE
from tests.support import ApiUser, assert_state_round_trips

ZRZY = {"dept_type": "zrzy", "level": "county"}
ZF = {"dept_type": "zf", "level": "county"}


def _props(values: dict[str, str]) -> str:
    inner = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in values.items())
    return (
        "<bpmn:extensionElements><spiffworkflow:properties>"
        f"{inner}</spiffworkflow:properties></bpmn:extensionElements>"
    )


def permit(version: int) -> bytes:
    """Version 1: start → (legacy | 初审 check) → 计算 → 联审 joint (per department) → 决定
    decide (5-day timer → 督办 escalate) → end. Version 2 drops `legacy`, renames `check` to
    `first_review`, routes 决定 to the 人民政府 and adds 归档 `archive` after it."""
    first = "check" if version == 1 else "first_review"
    decide_lane = ZRZY if version == 1 else ZF
    lanes = {
        "lane_zrzy": (ZRZY, [first, "escalate", "legacy", "archive"]),
        "lane_review": ({"level": "county"}, ["joint"]),
        "lane_decide": (decide_lane, ["decide"]),
    }
    lane_xml = "".join(
        f'<bpmn:lane id="{lane}" name="{lane}">{_props(props)}'
        + "".join(f"<bpmn:flowNodeRef>{t}</bpmn:flowNodeRef>" for t in tasks)
        + "</bpmn:lane>"
        for lane, (props, tasks) in lanes.items()
    )
    legacy = (
        '<bpmn:userTask id="legacy" name="旧式审查"/><bpmn:endEvent id="end_legacy"/>'
        '<bpmn:sequenceFlow id="f_legacy" sourceRef="gw" targetRef="legacy">'
        '<bpmn:conditionExpression>route == "legacy"</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f_legacy_end" sourceRef="legacy" targetRef="end_legacy"/>'
        if version == 1
        else ""
    )
    after_decide = "end"
    archive = ""
    if version == 2:
        after_decide = "archive"
        archive = (
            '<bpmn:userTask id="archive" name="归档"/>'
            '<bpmn:sequenceFlow id="f_archive" sourceRef="archive" targetRef="end"/>'
        )
    return (
        HEADER.format(pid="permit")
        + '<bpmn:process id="permit" name="许可" isExecutable="true">'
        + f"<bpmn:laneSet>{lane_xml}</bpmn:laneSet>"
        + '<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" default="f_main"/>'
        + f'<bpmn:userTask id="{first}" name="初审"/>'
        + '<bpmn:scriptTask id="calc"><bpmn:script>ratio = 100 / divisor</bpmn:script>'
        + "</bpmn:scriptTask>"
        + '<bpmn:userTask id="joint" name="联审">'
        + _props({"dept_types_from": "reviewers"})
        + '<bpmn:multiInstanceLoopCharacteristics isSequential="false">'
        + "<bpmn:loopDataInputRef>reviewers</bpmn:loopDataInputRef>"
        + '<bpmn:inputDataItem id="reviewer" name="reviewer"/>'
        + "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        + '<bpmn:userTask id="decide" name="决定"/>'
        + '<bpmn:boundaryEvent id="timer_decide" name="5日未决" attachedToRef="decide">'
        + '<bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration>'
        + "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        + '<bpmn:userTask id="escalate" name="督办决定"/>'
        + '<bpmn:endEvent id="end"/><bpmn:endEvent id="end_escalated"/>'
        + legacy
        + archive
        + '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
        + f'<bpmn:sequenceFlow id="f_main" sourceRef="gw" targetRef="{first}"/>'
        + f'<bpmn:sequenceFlow id="f1" sourceRef="{first}" targetRef="calc"/>'
        + '<bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="joint"/>'
        + '<bpmn:sequenceFlow id="f3" sourceRef="joint" targetRef="decide"/>'
        + f'<bpmn:sequenceFlow id="f4" sourceRef="decide" targetRef="{after_decide}"/>'
        + '<bpmn:sequenceFlow id="f5" sourceRef="timer_decide" targetRef="escalate"/>'
        + '<bpmn:sequenceFlow id="f6" sourceRef="escalate" targetRef="end_escalated"/>'
        + "</bpmn:process></bpmn:definitions>"
    ).encode()


def open_tasks(lf, case_id: str) -> list[dict]:
    return [t for t in lf.instances.get(SYSTEM, case_id)["tasks"] if t["state"] == "open"]


def complete(lf, case_id: str, name: str, department: str | None = None) -> dict:
    task = next(
        t
        for t in open_tasks(lf, case_id)
        if t["name"] == name and department in (None, t["department"])
    )
    lf.tasks.complete(lf.auth.actor_for(task["department"]), task["id"], {})
    return task


def start(lf, **data) -> str:
    values = {"route": "main", "divisor": 4, "reviewers": ["fgw", "cz"], **data}
    return lf.instances.start(SYSTEM, "permit", VILLAGE, data=values)["id"]


@pytest.fixture
def cases(lf):
    """Five cases on version 1 — at 初审, half-way through 联审, at 决定 (its timer running),
    at the step version 2 drops, and in error — then version 2 deployed."""
    lf.definitions.deploy({"permit.bpmn": permit(1)}, SYSTEM)
    at_check = start(lf)
    in_review = start(lf)
    complete(lf, in_review, "check")
    complete(lf, in_review, "joint", "fgw.330702")
    at_decide = start(lf)
    complete(lf, at_decide, "check")
    complete(lf, at_decide, "joint")
    complete(lf, at_decide, "joint")
    legacy = start(lf, route="legacy")
    broken = start(lf, divisor=0)
    complete(lf, broken, "check")
    created = lf.definitions.deploy({"permit.bpmn": permit(2)}, SYSTEM).created
    assert [v["version"] for v in created] == [2]
    return {
        "at_check": at_check,
        "in_review": in_review,
        "at_decide": at_decide,
        "legacy": legacy,
        "broken": broken,
    }


@pytest.fixture
def admin(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        yield ApiUser(client, "admin", "admin-pass")


def reasons(report: dict) -> dict[str, list[str]]:
    return {b["instance_id"]: [r["reason"] for r in b["reasons"]] for b in report["blocked"]}


def test_the_dry_run_lists_who_moves_and_why_others_cannot(lf, cases, admin):
    versions = admin.get("/api/v1/migrations/permit")["versions"]
    assert [(v["version"], v["active_cases"]) for v in versions] == [(2, 0), (1, 5)]
    unmapped = admin.post("/api/v1/migrations/permit/dry-run", {"target_version": 2})
    assert unmapped["counts"] == {"total": 5, "movable": 0, "blocked": 5}
    why = reasons(unmapped)
    assert why[cases["at_check"]] == ["等待中的环节“初审”在第 2 版中不存在，请在映射中指定对应环节"]
    assert why[cases["at_decide"]] == ["已办环节“初审”在第 2 版中不存在，请在映射中指定对应环节"]
    assert "旧式审查" in why[cases["legacy"]][0]
    assert "异常" in why[cases["broken"]][0]

    mapped = admin.post(
        "/api/v1/migrations/permit/dry-run",
        {"target_version": 2, "mapping": {"check": "first_review"}},
    )
    assert mapped["counts"] == {"total": 5, "movable": 3, "blocked": 2}
    waiting = {
        m["instance_id"]: {w["element_id"] for w in m["waiting_at"]} for m in mapped["movable"]
    }
    assert waiting == {
        cases["at_check"]: {"first_review"},
        cases["in_review"]: {"joint"},
        cases["at_decide"]: {"decide", "timer_decide"},
    }
    assert set(reasons(mapped)) == {cases["legacy"], cases["broken"]}
    # a dry run changes nothing
    assert {lf.instances.get(SYSTEM, c)["version"] for c in cases.values()} == {1}


def test_mapping_to_an_element_the_target_lacks_is_refused(cases, admin):
    body = admin.post(
        "/api/v1/migrations/permit/dry-run",
        {"target_version": 2, "mapping": {"check": "no_such_step"}},
        expect=422,
    )
    assert "no_such_step" in str(body)
    admin.post("/api/v1/migrations/permit/dry-run", {"target_version": 9}, expect=404)


def test_migrated_cases_finish_on_the_new_version(lf, clock, cases, admin):
    with lf.uow.read() as session:
        timer_due = session.scalar(
            select(Job.due_at).where(Job.instance_id == cases["at_decide"], Job.kind == "timer")
        )
    report = admin.post(
        "/api/v1/migrations/permit",
        {"target_version": 2, "mapping": {"check": "first_review"}},
    )
    assert report["counts"] == {"total": 5, "migrated": 3, "blocked": 2, "failed": 0}
    moved = [cases["at_check"], cases["in_review"], cases["at_decide"]]
    assert {m["instance_id"] for m in report["migrated"]} == set(moved)
    for case_id in moved:
        case = lf.instances.get(SYSTEM, case_id)
        assert case["version"] == 2
        entry = next(h for h in case["history"] if h["action"] == "instance_migrated")
        assert entry["details"]["reason"] == "迁移到第 2 版（原第 1 版）"
        assert entry["actor"] == "admin"
        said = [e["text"] for e in timeline(lf.forms, case) if e["action"] == "instance_migrated"]
        assert said == ["迁移到第 2 版（原第 1 版）"]  # on the case page's timeline
        assert_state_round_trips(lf, case_id)
    for case_id in (cases["legacy"], cases["broken"]):
        assert lf.instances.get(SYSTEM, case_id)["version"] == 1

    # the renamed step: same open task, now the new version's step
    task = open_tasks(lf, cases["at_check"])[0]
    assert (task["name"], task["department"]) == ("first_review", "zrzy.330702")
    complete(lf, cases["at_check"], "first_review")
    for _ in range(2):
        complete(lf, cases["at_check"], "joint")

    # the half-done review keeps its answer: one more department, then 决定
    assert [t["department"] for t in open_tasks(lf, cases["in_review"])] == ["cz.330702"]
    complete(lf, cases["in_review"], "joint")

    # 决定 is now the 人民政府's step: the open task was re-routed, its timer kept its time
    decide = open_tasks(lf, cases["at_decide"])[0]
    assert (decide["name"], decide["department"]) == ("decide", "zf.330702")
    with lf.uow.read() as session:
        assert timer_due == session.scalar(
            select(Job.due_at).where(Job.instance_id == cases["at_decide"], Job.kind == "timer")
        )

    for case_id in (cases["at_check"], cases["in_review"]):
        assert open_tasks(lf, case_id)[0]["department"] == "zf.330702"
        complete(lf, case_id, "decide")
        complete(lf, case_id, "archive")  # the step only version 2 has
        case = lf.instances.get(SYSTEM, case_id)
        assert case["status"] == "completed"
        assert_state_round_trips(lf, case_id)

    # the kept timer fires on the new version
    clock.advance(timedelta(days=6))
    lf.jobs.run_due()
    complete(lf, cases["at_decide"], "escalate")
    assert lf.instances.get(SYSTEM, cases["at_decide"])["status"] == "completed"
    assert_state_round_trips(lf, cases["at_decide"])


def test_migrating_again_moves_nothing_and_a_chosen_case_can_move_alone(lf, cases, admin):
    only = admin.post(
        "/api/v1/migrations/permit",
        {
            "target_version": 2,
            "mapping": {"check": "first_review"},
            "instance_ids": [cases["in_review"], cases["legacy"]],
        },
    )
    assert only["counts"] == {"total": 2, "migrated": 1, "blocked": 1, "failed": 0}
    again = admin.post(
        "/api/v1/migrations/permit",
        {"target_version": 2, "mapping": {"check": "first_review"}, "source_version": 1},
    )
    assert again["counts"]["migrated"] == 2  # at_check and at_decide; in_review already moved
    assert cases["in_review"] not in {m["instance_id"] for m in again["migrated"]}
