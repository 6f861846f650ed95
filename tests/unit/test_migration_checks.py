"""What engine/bpmn/migration.py lets move and what it refuses, on the sample process with a
running call activity, a multi-instance half done, a boundary timer and a message wait."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.bpmn import (
    ProcessRuntime,
    check_migration,
    compile_definitions,
    load_spec,
    migrate_execution,
)
from engine.clock import SettableClock

PROCESSES = Path(__file__).resolve().parents[1] / "fixtures" / "processes"
FILES = {p.name: p.read_bytes() for p in PROCESSES.iterdir() if p.suffix in (".bpmn", ".dmn")}
REVIEW = FILES["sample_review.bpmn"].decode()


def loaded(version: int, review: str = REVIEW, payment: bytes | None = None):
    files = dict(FILES, **{"sample_review.bpmn": review.encode()})
    if payment is not None:
        files["sample_payment.bpmn"] = payment
    compiled = {c.process_id: c for c in compile_definitions(files)}["sample_review"]
    return load_spec(
        1000 + version, "sample_review", compiled.spec_json, compiled.subprocess_specs_json
    )


@pytest.fixture
def runtime():
    return ProcessRuntime(SettableClock(datetime(2026, 11, 2, 1, tzinfo=UTC)), "Asia/Shanghai")


def at_review(runtime, spec):
    """Past 预审, one of two reviews given, the payment (call activity) waiting."""
    execution = runtime.start(spec, {"region": "330702101201"})
    execution.complete(
        execution.ready_tasks()[0].id, {"parcel_area": 500, "use": "商业", "reviewers": ["a", "b"]}
    )
    execution.complete(execution.ready_tasks()[0].id, {"ok": True})
    review = next(t for t in execution.ready_tasks() if t.spec_id == "joint_review")
    execution.complete(review.id, {"opinion": "同意"})
    return execution


def round_trips(runtime, spec, execution) -> None:
    assert runtime.restore(spec, execution.dump()).dump() == execution.dump()


def test_a_renamed_waiting_step_moves_only_with_its_map(runtime):
    old = loaded(1)
    renamed = REVIEW.replace('"decide"', '"decision"').replace(">decide<", ">decision<")
    renamed = renamed.replace('"decide.', '"decision.')
    new = loaded(2, renamed)
    execution = at_review(runtime, old)
    assert check_migration(execution, new, {}, "第 2 版").movable  # not reached yet
    for task in [t for t in execution.ready_tasks() if t.spec_id != "pay"]:
        execution.complete(task.id, {"opinion": "同意"})
    execution.complete(next(t.id for t in execution.ready_tasks()), {"paid": True})
    assert [t.spec_id for t in execution.ready_tasks()] == ["decide"]
    blocked = check_migration(execution, new, {}, "第 2 版")
    assert [b.element_id for b in blocked.blockers] == ["decide"]
    assert "在第 2 版中不存在" in blocked.blockers[0].reason
    checked = check_migration(execution, new, {"decide": "decision"}, "第 2 版")
    assert {w["element_id"] for w in checked.waiting_at} == {"decision", "timer_decide"}
    moved = migrate_execution(execution, new, {"decide": "decision"}, runtime.restore)
    assert [t.spec_id for t in moved.ready_tasks()] == ["decision"]
    assert [t.name for t in moved.pending_timers()] == ["5天未决"]
    round_trips(runtime, new, moved)
    moved.complete(moved.ready_tasks()[0].id, {"approved": True})
    assert moved.waiting_messages() == ["contract_signed"]
    assert moved.deliver_message("contract_signed", {"no": "C-1"})
    assert moved.status == "completed"


def test_a_half_done_review_and_a_running_call_keep_their_state(runtime):
    new = loaded(2, REVIEW.replace('name="审批决定"', 'name="审批决定（新）"'))
    execution = at_review(runtime, loaded(1))
    before = sorted((t.id, t.spec_id, t.item) for t in execution.ready_tasks())
    moved = migrate_execution(execution, new, {}, runtime.restore)
    assert sorted((t.id, t.spec_id, t.item) for t in moved.ready_tasks()) == before
    round_trips(runtime, new, moved)
    for task in moved.ready_tasks():
        moved.complete(task.id, {"opinion": "同意", "paid": True})
    decide = moved.ready_tasks()[0]
    assert (decide.spec_id, decide.title) == ("decide", "审批决定（新）")
    assert len(moved.data()["opinions"]) == 2


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('"P5D"', '"P10D"'), None),  # the timer has not started: nothing to keep
        (
            (
                "<bpmn:loopDataInputRef>reviewers</bpmn:loopDataInputRef>",
                "<bpmn:loopDataInputRef>reviewer_list</bpmn:loopDataInputRef>",
            ),
            "循环设置已改变",
        ),
        (('calledElement="sample_payment"', 'calledElement="sample_review_payment"'), None),
    ],
)
def test_what_a_running_case_cannot_keep_blocks_it(runtime, change, words):
    review = REVIEW.replace(*change)
    payment = None
    if "sample_review_payment" in change[1]:
        payment = (
            FILES["sample_payment.bpmn"]
            .decode()
            .replace('id="sample_payment"', 'id="sample_review_payment"')
            .replace('processRef="sample_payment"', 'processRef="sample_review_payment"')
            .encode()
        )
        words = "调用的流程不同"
    checked = check_migration(
        at_review(runtime, loaded(1)), loaded(2, review, payment), {}, "第 2 版"
    )
    if words is None:
        assert checked.movable
    else:
        assert [b.element_id for b in checked.blockers] == [
            "joint_review" if "循环" in words else "collect_fees"
        ]
        assert words in checked.blockers[0].reason


def test_a_started_timer_that_changed_blocks_the_case(runtime):
    execution = at_review(runtime, loaded(1))
    for task in execution.ready_tasks():
        execution.complete(task.id, {"opinion": "同意", "paid": True})
    checked = check_migration(
        execution, loaded(2, REVIEW.replace('"P5D"', '"P10D"')), {}, "第 2 版"
    )
    assert [b.element_id for b in checked.blockers] == ["timer_decide"]
    assert "定时或消息设置" in checked.blockers[0].reason
