"""Demo cases: `landflow demo` starts a few cases of each process and walks them to different
stages, as the departments the tasks are routed to. What each task is answered with comes from
`processes/demo/<process_id>.json` (content an administrator can edit):

    {"region": "330702101201", "start_data": {...}, "stages": [0, 3, 8],
     "answers": {"<task id>": {...form data...}}, "messages": {"<after task id>":
     {"name": "...", "payload": {...}}}}

A task without an answer gets values generated from its form, so a diagram change never breaks
the demo; it only makes the walk stop earlier."""

from __future__ import annotations

import json
import logging
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select

from engine.db.tables import Instance
from engine.errors import LandflowError
from engine.services.actor import SYSTEM
from engine.services.container import Landflow

log = logging.getLogger(__name__)
MAX_STEPS = 60


def start_demo_cases(lf: Landflow) -> dict[str, list[dict[str, Any]]]:
    scripts = sorted((lf.settings.processes_dir / "demo").glob("*.json"))
    started: dict[str, list[dict[str, Any]]] = {}
    for path in scripts:
        script = json.loads(path.read_text(encoding="utf-8"))
        process_id = path.stem
        for number, stage in enumerate(script.get("stages", [0, 2, 5]), start=1):
            key = f"DEMO-{process_id}-{number}"
            if _exists(lf, process_id, key):
                continue
            try:
                case = lf.instances.start(
                    SYSTEM, process_id, script["region"], key, script.get("start_data", {})
                )
            except LandflowError as exc:
                log.warning("demo case %s not started: %s", key, exc.message)
                continue
            done = _walk(lf, case["id"], script, stage)
            started.setdefault(process_id, []).append({"business_key": key, "steps": done})
    return started


def _walk(lf: Landflow, case_id: str, script: dict[str, Any], stages: int) -> int:
    answers = script.get("answers", {})
    messages = dict(script.get("messages", {}))
    done, last = 0, None
    while done < min(stages, MAX_STEPS):
        case = lf.instances.get(SYSTEM, case_id)
        open_tasks = [t for t in case["tasks"] if t["state"] == "open" and t["department"]]
        if not open_tasks:
            message = messages.pop(last, None) if last else None
            if not message or not _deliver(lf, case_id, message):
                return done
            continue
        task = open_tasks[0]
        data = answers.get(task["name"]) or generated(lf, task["form_key"])
        try:
            lf.tasks.complete(lf.auth.actor_for(task["department"]), task["id"], data)
        except LandflowError as exc:
            log.info("demo walk of %s stops at %s: %s", case_id, task["name"], exc.message)
            return done
        done, last = done + 1, task["name"]
    return done


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
