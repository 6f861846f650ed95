"""The demo cases of `landflow demo` (engine/demo_cases.py, scripts in processes/demo/): every
product process gets cases at clearly different stages of its main path, each walked exactly as
far as its script says, answered with the script's realistic form data, and a second run adds
nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine.db.tables import Department, HumanTask, Instance
from engine.demo_cases import start_demo_cases
from engine.services.actor import SYSTEM

DEMO_DIR = Path(__file__).resolve().parents[2] / "processes" / "demo"
PROCESSES = {
    "joint_review_entry",
    "collective_decision",
    "pilot_plan_approval",
    "consolidation_project",
    "homestead_withdrawal",
}
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing: timers stay in 2026


def scripts() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(DEMO_DIR.glob("*.json"))}


def ticking(clock) -> None:
    """Let the frozen test clock move on by a millisecond at each reading, as the wall clock
    does under `landflow demo`. The walker finds "the last completed task" (whose message it
    sends) by task creation time with the random task id as tie-break, so with a clock that
    never moves it would pick an arbitrary finished task and skip the scripted message."""
    wall = clock.now

    def now() -> datetime:
        return clock.advance(timedelta(milliseconds=1)) if clock.frozen else wall()

    clock.now = now


def demo_cases(lf) -> dict[str, dict[str, Any]]:
    """Every demo case by business key, as the instance service shows it."""
    with lf.uow.read() as session:
        ids = session.scalars(select(Instance.id).where(Instance.business_key.like("DEMO-%")))
        ids = list(ids)
    return {case["business_key"]: case for case in (lf.instances.get(SYSTEM, i) for i in ids)}


def test_demo_cases_reach_their_scripted_stages_once(product_lf):
    product_lf.clock.set(START)
    ticking(product_lf.clock)
    demo = scripts()
    assert set(demo) == PROCESSES

    started = start_demo_cases(product_lf)

    assert set(started) == PROCESSES
    cases = demo_cases(product_lf)
    with product_lf.uow.read() as session:
        departments = set(session.scalars(select(Department.code)))
    for process_id, script in demo.items():
        stages = script["stages"]
        assert len(stages) >= 3, process_id
        assert len(set(stages)) == len(stages), f"{process_id}: stages must differ"
        # the walker reports how far it got: exactly the scripted stage, in order
        assert [c["steps"] for c in started[process_id]] == stages, process_id
        with_routed_work = 0
        for number, stage in enumerate(stages, start=1):
            key = f"DEMO-{process_id}-{number}"
            case = cases[key]
            assert case["process_id"] == process_id and case["region"] == script["region"]
            assert case["status"] in ("running", "waiting"), (key, case["status"], case["error"])
            done = [t for t in case["tasks"] if t["state"] == "done"]
            assert len(done) == stage, (key, [t["name"] for t in done])
            # every step was answered from the script, never with values generated from the form
            assert {t["name"] for t in done} <= set(script["answers"]), key
            open_tasks = [t for t in case["tasks"] if t["state"] == "open"]
            if case["status"] == "waiting":
                assert open_tasks == [], key  # stopped at a timer or a message, not at a task
            if any(t["department"] in departments for t in open_tasks):
                with_routed_work += 1
            assert all(t["department"] in departments for t in open_tasks), key
        assert with_routed_work >= 1, f"{process_id}: no case waits for a department"
        counts = [
            sum(t["state"] == "done" for t in cases[f"DEMO-{process_id}-{n}"]["tasks"])
            for n in range(1, len(stages) + 1)
        ]
        assert len(set(counts)) == len(counts), (process_id, counts)

    # idempotent: the business keys exist, so a second run starts and completes nothing
    before = _counts(product_lf)
    assert start_demo_cases(product_lf) == {}
    assert _counts(product_lf) == before


def test_demo_cases_show_the_main_path(product_lf):
    """The furthest case of each process went the approving way, not a refusal."""
    product_lf.clock.set(START)
    ticking(product_lf.clock)
    start_demo_cases(product_lf)
    cases = demo_cases(product_lf)
    furthest = {p: cases[f"DEMO-{p}-{len(s['stages'])}"] for p, s in scripts().items()}

    entry = furthest["joint_review_entry"]
    assert entry["data"]["precheck_passed"] is True
    assert entry["data"]["entry_outcome"] == "办理中" and entry["data"]["plan_round"] == 1
    assert entry["status"] == "waiting"  # the 入市方案 is posted before the vote (15 days)

    decision = furthest["collective_decision"]
    assert decision["status"] == "waiting"
    assert decision["data"]["notice_ends_at"] == "2026-03-17T23:59:59+08:00"

    pilot = furthest["pilot_plan_approval"]["data"]
    assert pilot["pilot_status"] == "monitoring" and pilot["provincial_decision"] == "批准"
    assert pilot["comment_count"] == 6 and pilot["comment_objection_count"] == 0

    project = furthest["consolidation_project"]["data"]
    assert project["stage"] == "aftercare"
    assert project["consent_passed"] is True and project["government_decision"] == "批准"
    assert project["tender_awarded"] is True and project["quality_grade_met"] is True
    assert project["acceptance_failed_count"] == 0

    homestead = furthest["homestead_withdrawal"]
    assert homestead["status"] == "waiting"  # the qualification publicity runs
    assert homestead["data"]["qualification_publicity_until"] == "2026-03-09T23:59:59+08:00"
    assert homestead["data"].get("withdrawal_status") not in ("refused", "withdrawn")
    assert homestead["data"]["qualification_objection_count"] == 0


def _counts(lf) -> tuple[int, int]:
    with lf.uow.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Instance)),
            session.scalar(
                select(func.count()).select_from(HumanTask).where(HumanTask.state == "done")
            ),
        )


LIGHTS = {"green": "normal", "yellow": "yellow", "red": "red"}


def test_demo_cases_show_green_yellow_and_red_lights_for_every_process(product_lf):
    """Yellow and red cases were walked earlier on the engine clock and their ladder rungs ran;
    every open task carries a committed time limit (承诺时限)."""
    product_lf.clock.set(START)
    ticking(product_lf.clock)
    start_demo_cases(product_lf)
    assert product_lf.clock.now() - START < timedelta(minutes=1)  # the clock was put back
    cases = demo_cases(product_lf)
    for process_id, script in scripts().items():
        lights = script["lights"]
        assert len(lights) == len(script["stages"]) and set(lights) == set(LIGHTS), process_id
        shown = set()
        for number, light in enumerate(lights, start=1):
            case = cases[f"DEMO-{process_id}-{number}"]
            open_tasks = [t for t in case["tasks"] if t["state"] == "open"]
            for task in open_tasks:
                kinds = {
                    c["kind"] for c in product_lf.sla.task_clocks(SYSTEM, task["id"])["clocks"]
                }
                assert "committed" in kinds, (process_id, task["name"])
            states = {t["sla_state"] for t in open_tasks}
            shown |= states
            if light != "green" or open_tasks:
                assert LIGHTS[light] in states, (process_id, number, light, states)
            if light != "red":
                assert "red" not in states, (process_id, number, states)
        assert {"normal", "yellow", "red"} <= shown, (process_id, shown)
