"""Consolidation projects that really passed their joint acceptance, for the spot-check tests:
each is a `consolidation_project` case walked through the engine, as the departments its
tasks are routed to, with the demo script's answers (processes/demo/consolidation_project.json),
until 新增耕地认定 opens — the step the diagram reaches only when no department answered 不合格."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.db.tables import HumanTask
from engine.services.actor import SYSTEM
from engine.services.attachment_samples import attach_samples
from engine.services.container import Landflow
from engine.services.views import task_view

DEMO = Path(__file__).resolve().parents[1] / "processes" / "demo" / "consolidation_project.json"
PROJECT = "consolidation_project"
ACCEPTED_AT = "certify_new_farmland"
MAX_STEPS = 40


def accepted_project(
    lf: Landflow,
    township: str,
    key: str,
    name: str,
    stop_before_acceptance: bool = False,
    failing: str | None = None,
) -> dict[str, Any]:
    """Start a project in `township` and walk it until its joint acceptance passed (or, with
    `stop_before_acceptance`, until the joint acceptance is open; `failing`: that department
    answers 不合格, so the case goes to 整改返工 instead). Returns the case."""
    script = json.loads(DEMO.read_text(encoding="utf-8"))
    answers = dict(script["answers"])
    answers["propose_project"] = {**answers["propose_project"], "project_name": name}
    messages = list(script.get("messages", {}).values())
    case = lf.instances.start(SYSTEM, PROJECT, township, key, script.get("start_data", {}))
    for _ in range(MAX_STEPS):
        tasks = open_tasks(lf, case["id"])
        names = {t["name"] for t in tasks}
        if ACCEPTED_AT in names or "rework" in names:
            return lf.instances.get(SYSTEM, case["id"])
        if stop_before_acceptance and "joint_acceptance" in names:
            return lf.instances.get(SYSTEM, case["id"])
        if not tasks:
            message = messages.pop(0)
            lf.messages.correlate(
                SYSTEM, message["name"], instance_id=case["id"], payload=message["payload"]
            )
            continue
        for task in tasks:
            answer = dict(answers[task["name"]])
            if task["name"] == "joint_acceptance" and task["properties"].get("item") == failing:
                answer = {"acceptance_result": "不合格", "acceptance_remark": "排灌沟渠未达标"}
            actor = lf.auth.actor_for(task["department"])
            attach_samples(lf.attachments, actor, task["id"])
            lf.tasks.complete(actor, task["id"], answer)
    raise AssertionError(f"{key} did not reach the joint acceptance in {MAX_STEPS} steps")


def open_tasks(lf: Landflow, case_id: str) -> list[dict[str, Any]]:
    with lf.uow.read() as session:
        rows = session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == case_id, HumanTask.state == "open")
            .order_by(HumanTask.created_at, HumanTask.id)
        )
        return [task_view(row) for row in rows]
