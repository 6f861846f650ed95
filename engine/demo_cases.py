"""Demo cases: `landflow demo` starts a few cases of each process and walks them to different
stages, as the departments the tasks are routed to. What each task is answered with comes from
`processes/demo/<process_id>.json` (content an administrator can edit):

    {"region": "330702101201", "start_data": {...}, "stages": [0, 3, 8],
     "lights": ["red", "yellow", "green"],
     "answers": {"<task id>": {...form data...}}, "messages": {"<after task id>":
     {"name": "...", "payload": {...}}}}

A task without an answer gets values generated from its form, so a diagram change never breaks
the demo; it only makes the walk stop earlier.

`lights` (default: all green) says which light the open task of each case shows: a yellow or red
case is started and walked earlier, on the engine clock set back just far enough for its open
task's time limit to be nearly used up (yellow) or passed (red); the clock is then put back and
the due ladder rungs (and timers) run as the scheduler would run them. The green cases are
walked first, at the current time; they tell which task is open at each stage and its limits."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select

from engine.db.tables import Instance
from engine.domain.sla import ClockState, YellowRule, deadline, most_urgent, parse_limit, state_at
from engine.errors import LandflowError
from engine.services.actor import SYSTEM
from engine.services.attachment_samples import attach_samples
from engine.services.container import Landflow

log = logging.getLogger(__name__)
MAX_STEPS = 60
MAX_AGE_DAYS = 400
RED_MARGIN_DAYS = 7  # a red case is a week overdue, so the ladder's later 督办 shows too
LIGHT_STATES = {"green": ClockState.NORMAL, "yellow": ClockState.YELLOW, "red": ClockState.RED}
Path = dict[int, list[dict[str, Any]]]  # steps done -> the clocks of the first open task


def start_demo_cases(lf: Landflow) -> dict[str, list[dict[str, Any]]]:
    scripts = sorted((lf.settings.processes_dir / "demo").glob("*.json"))
    started: dict[str, list[dict[str, Any]]] = {}
    aged = False
    for path in scripts:
        script = json.loads(path.read_text(encoding="utf-8"))
        process_id = path.stem
        stages = script.get("stages", [0, 2, 5])
        lights = script.get("lights") or ["green"] * len(stages)
        cases = list(enumerate(zip(stages, lights, strict=True), start=1))
        # green first: their walks record the open task at every stage for the aged ones
        cases.sort(key=lambda item: item[1][1] != "green")
        seen: Path = {}
        done_by_number: dict[int, dict[str, Any]] = {}
        for number, (stage, light) in cases:
            key = f"DEMO-{process_id}-{number}"
            if _exists(lf, process_id, key):
                continue
            moment = None if light == "green" else _walk_time(lf, seen.get(stage), light)
            with _clock_at(lf, moment):
                try:
                    case = lf.instances.start(
                        SYSTEM, process_id, script["region"], key, script.get("start_data", {})
                    )
                except LandflowError as exc:
                    log.warning("demo case %s not started: %s", key, exc.message)
                    continue
                done = _walk(lf, case["id"], script, stage, seen, step_clock=moment is not None)
            aged = aged or moment is not None
            done_by_number[number] = {"business_key": key, "steps": done}
        if done_by_number:
            started[process_id] = [done_by_number[n] for n in sorted(done_by_number)]
    if aged:
        _run_due_jobs(lf)
    return started


def _walk(
    lf: Landflow,
    case_id: str,
    script: dict[str, Any],
    stages: int,
    seen: Path | None = None,
    step_clock: bool = False,
) -> int:
    answers = script.get("answers", {})
    messages = dict(script.get("messages", {}))
    done, last = 0, None
    while True:
        case = lf.instances.get(SYSTEM, case_id)
        open_tasks = sorted(
            (t for t in case["tasks"] if t["state"] == "open" and t["department"]),
            key=lambda t: (t["created_at"], t["name"]),
        )
        if seen is not None and open_tasks and done not in seen:
            seen[done] = lf.sla.task_clocks(SYSTEM, open_tasks[0]["id"])["clocks"]
        if done >= min(stages, MAX_STEPS):
            return done
        if not open_tasks:
            message = messages.pop(last, None) if last else None
            if not message or not _deliver(lf, case_id, message):
                return done
            continue
        task = open_tasks[0]
        data = answers.get(task["name"]) or generated(lf, task["form_key"])
        try:
            actor = lf.auth.actor_for(task["department"])
            attach_samples(lf.attachments, actor, task["id"])  # demo copies of required materials
            lf.tasks.complete(actor, task["id"], data)
        except LandflowError as exc:
            log.info("demo walk of %s stops at %s: %s", case_id, task["name"], exc.message)
            return done
        if step_clock:  # a frozen clock: keep the order of the steps in their times
            lf.clock.advance(timedelta(seconds=1))
        done, last = done + 1, task["name"]


def _walk_time(lf: Landflow, clocks: list[dict[str, Any]] | None, light: str) -> datetime | None:
    """When to walk a case so that its open task shows `light` now: the latest day back from
    today on which a task with these clocks, started then, shows that light now (for red, a
    week before that)."""
    wanted = LIGHT_STATES.get(light)
    if not clocks or wanted is None:
        log.warning("demo: no open task known for a %s case; it is walked now", light)
        return None
    now = lf.clock.now()
    zone = lf.sla.zone
    with lf.uow.read() as session:
        calendar = lf.calendar.current_in(session)
    for age in range(MAX_AGE_DAYS):
        moment = now - timedelta(days=age)
        states = [
            state_at(
                now,
                deadline(
                    calendar,
                    moment.astimezone(zone).date(),
                    parse_limit(c["limit"]),
                    0,
                    0,
                    YellowRule.parse(c["yellow_rule"]),
                    zone,
                ),
            )
            for c in clocks
        ]
        if most_urgent(states) == wanted:
            return moment - timedelta(days=RED_MARGIN_DAYS if light == "red" else 0)
    log.warning("demo: no start day within %s days gives a %s light", MAX_AGE_DAYS, light)
    return None


class _clock_at:
    """Set the engine clock to `moment` for a walk, then put it back as it was."""

    def __init__(self, lf: Landflow, moment: datetime | None) -> None:
        self.clock, self.moment = lf.clock, moment

    def __enter__(self) -> None:
        if self.moment is not None:
            self.frozen = self.clock.frozen
            self.saved = self.clock.now()
            self.clock.set(self.moment)

    def __exit__(self, *exc: object) -> None:
        if self.moment is not None:
            if self.frozen:
                self.clock.set(self.saved)
            else:
                self.clock.release()


def _run_due_jobs(lf: Landflow) -> None:
    """The aged cases' ladder rungs (and timers) that fell due, as the scheduler runs them."""
    for _ in range(100):
        if not lf.jobs.run_due():
            return


def _deliver(lf: Landflow, case_id: str, message: dict[str, Any]) -> bool:
    try:
        lf.messages.correlate(
            SYSTEM, message["name"], instance_id=case_id, payload=message.get("payload")
        )
        return True
    except LandflowError:
        return False


def _exists(lf: Landflow, process_id: str, key: str) -> bool:
    with lf.uow.read() as session:
        return (
            session.scalar(
                select(Instance.id).where(
                    Instance.process_id == process_id, Instance.business_key == key
                )
            )
            is not None
        )


def generated(lf: Landflow, form_key: str | None) -> dict[str, Any]:
    """Values that satisfy a form: every declared field, then only the required ones."""
    if not form_key:
        return {}
    schema = lf.forms.schema(form_key)
    validator = Draft202012Validator(schema)
    full = {name: _value(name, prop) for name, prop in schema.get("properties", {}).items()}
    if not list(validator.iter_errors(full)):
        return full
    required = {k: v for k, v in full.items() if k in schema.get("required", [])}
    return required


def _value(name: str, prop: dict[str, Any]) -> Any:
    if "const" in prop:
        return prop["const"]
    if prop.get("enum"):
        return prop["enum"][0]
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "boolean":
        return True
    if kind in ("number", "integer"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0))
        value = max(
            low + (1 if "exclusiveMinimum" in prop else 0), 10 if name.endswith("_mu") else 1
        )
        if "maximum" in prop:
            value = min(value, prop["maximum"])
        return int(value) if kind == "integer" else float(value)
    if kind == "array":
        item = _value(name, prop.get("items", {"type": "string"}))
        count = max(prop.get("minItems", 1), 1)
        if isinstance(item, str):
            return [f"{item}{n + 1}" if n else item for n in range(count)]
        return [item] * count
    if kind == "object":
        return {k: _value(k, p) for k, p in prop.get("properties", {}).items()}
    if prop.get("format") == "date" or "date" in name or "\\d{4}-" in prop.get("pattern", ""):
        return "2026-03-16"
    text = f"示例{prop.get('title', name)}"
    return text[: prop.get("maxLength", len(text))].ljust(prop.get("minLength", 0), "。")
