"""A cheap step: what one user-task completion costs in statements, and a looping case's stored
state that stops growing (older completed passes pruned) while it still restores, returns,
joins and finishes."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from engine.db.tables import HistoryEntry, HumanTask, Instance
from engine.services.actor import SYSTEM
from tests.bpmn_builder import HEADER
from tests.support import assert_state_round_trips

VILLAGE = "330702101201"
LANE = (
    '<bpmn:laneSet><bpmn:lane id="l" name="l"><bpmn:extensionElements>'
    "<spiffworkflow:properties>"
    '<spiffworkflow:property name="dept_type" value="zrzy"/>'
    '<spiffworkflow:property name="level" value="county"/>'
    "</spiffworkflow:properties></bpmn:extensionElements>{refs}</bpmn:lane></bpmn:laneSet>"
)
USER_TASKS = ("draft", "a", "b", "check")


def looping_process() -> bytes:
    """draft -> (a || b) -> check (may return to draft) -> count -> again? -> draft | end."""
    refs = "".join(f"<bpmn:flowNodeRef>{t}</bpmn:flowNodeRef>" for t in USER_TASKS)
    flows = [
        ("start", "draft"),
        ("draft", "split"),
        ("split", "a"),
        ("split", "b"),
        ("a", "join"),
        ("b", "join"),
        ("join", "check"),
        ("check", "count"),
        ("count", "more"),
    ]
    return (
        HEADER.format(pid="looping")
        + '<bpmn:process id="looping" isExecutable="true">'
        + LANE.format(refs=refs)
        + '<bpmn:startEvent id="start"/><bpmn:userTask id="draft" name="起草"/>'
        '<bpmn:parallelGateway id="split"/><bpmn:userTask id="a" name="甲"/>'
        '<bpmn:userTask id="b" name="乙"/><bpmn:parallelGateway id="join"/>'
        '<bpmn:userTask id="check" name="审核"><bpmn:extensionElements>'
        "<spiffworkflow:properties>"
        '<spiffworkflow:property name="return_to" value="draft"/>'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
        '<bpmn:scriptTask id="count"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>'
        '<bpmn:exclusiveGateway id="more" default="again"/><bpmn:endEvent id="end"/>'
        + "".join(
            f'<bpmn:sequenceFlow id="f{i}" sourceRef="{s}" targetRef="{t}"/>'
            for i, (s, t) in enumerate(flows)
        )
        + '<bpmn:sequenceFlow id="done" sourceRef="more" targetRef="end">'
        "<bpmn:conditionExpression>n &gt;= limit</bpmn:conditionExpression>"
        "</bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="again" sourceRef="more" targetRef="draft"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


@pytest.fixture
def alice(lf):
    lf.definitions.deploy({"looping.bpmn": looping_process()}, SYSTEM)
    return lf.auth.actor_for("alice")


def open_tasks(lf, case_id) -> dict[str, str]:
    with lf.uow.read() as session:
        rows = session.execute(
            select(HumanTask.task_spec, HumanTask.id).where(
                HumanTask.instance_id == case_id, HumanTask.state == "open"
            )
        ).all()
    return dict(rows)


def one_pass(lf, actor, case_id) -> None:
    for spec in USER_TASKS:
        task_id = open_tasks(lf, case_id)[spec]
        lf.tasks.complete(actor, task_id, {f"{spec}_note": "好"})


def stored_state(lf, case_id) -> str:
    with lf.uow.read() as session:
        return session.get(Instance, case_id).state_json


def test_a_completion_needs_few_statements_and_none_for_waits_the_diagram_cannot_have(
    lf, alice, clock
):
    case = lf.instances.start(alice, "looping", VILLAGE, data={"n": 0, "limit": 99})
    one_pass(lf, alice, case["id"])  # warm: the spec is restored once per process
    for spec in ("draft", "a", "b"):
        lf.tasks.complete(alice, open_tasks(lf, case["id"])[spec], {})
    clock.advance(timedelta(minutes=5))
    task_id = open_tasks(lf, case["id"])["check"]  # completing it opens the next draft
    statements: list[str] = []

    def seen(_conn, _cursor, statement, _params, _context, _many):
        statements.append(statement)

    event.listen(lf.uow.engine, "before_cursor_execute", seen)
    try:
        lf.tasks.complete(alice, task_id, {"check_note": "好"})
    finally:
        event.remove(lf.uow.engine, "before_cursor_execute", seen)
    text = "\n".join(statements)
    # 37 on SQLite: the step (restore, close, record, open the next task: 17), the case's
    # name and search text (6), the dispatch roll-ups of finished steps (3), the notification
    # outbox for two handlers (8) and the audit chain (3); docs/performance.md lists them.
    assert len(statements) <= 38, text
    assert not re.search(r"\b(jobs|message_waits)\b", text), "no timer or message syncing"
    assert "spec_json" not in text, "the restored spec comes from memory"
    assert text.count("FROM process_versions") <= 1
    assert text.count("SELECT instances.id, instances.process_version_id") == 1, "case read once"


def test_a_looping_case_stops_growing_and_still_returns_joins_and_finishes(lf, alice):
    case = lf.instances.start(alice, "looping", VILLAGE, data={"n": 0, "limit": 30})
    sizes = {}
    for n in range(1, 29):
        one_pass(lf, alice, case["id"])
        sizes[n] = len(stored_state(lf, case["id"]))
        assert_state_round_trips(lf, case["id"])
    tasks_in_state = len(json.loads(stored_state(lf, case["id"]))["tasks"])
    assert tasks_in_state < 40, "about two passes are kept, not 28"
    assert sizes[28] < sizes[5] * 1.3, sizes  # flat, not 5.6x

    # a return (退回) from the newest pass reopens the newest draft, with its data
    for spec in ("draft", "a", "b"):
        lf.tasks.complete(alice, open_tasks(lf, case["id"])[spec], {f"{spec}_note": "再审"})
    check = open_tasks(lf, case["id"])["check"]
    lf.tasks.return_task(alice, check, "材料不全", "draft")
    reopened = lf.instances.get(SYSTEM, case["id"])
    [draft] = [t for t in reopened["tasks"] if t["state"] == "open"]
    assert draft["name"] == "draft"
    one_pass(lf, alice, case["id"])  # pass 29
    one_pass(lf, alice, case["id"])  # pass 30: n reaches the limit
    done = lf.instances.get(SYSTEM, case["id"])
    assert done["status"] == "completed" and done["data"]["n"] == 30
    with lf.uow.read() as session:
        completions = session.scalar(
            select(func.count())
            .select_from(HistoryEntry)
            .where(HistoryEntry.instance_id == case["id"], HistoryEntry.action == "task_completed")
        )
    assert completions == 30 * 4 + 3, "history keeps every pass the state no longer holds"
