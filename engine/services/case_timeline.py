"""A case's record as people read it: the timeline of every action (who, for which department,
when, what, and the opinion or reason given) and the finished steps with their opinions, as the
审批表 lists them. Pure functions over a case view (InstanceService.get) and the forms; codes
(usernames, departments, actions) stay codes here and pages show them by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .case_summary import schema_or_none
from .forms import FormRegistry
from .opinions import opinion_of

DONE_WITHOUT_OPINION = "已办理"


def opinion_text(opinion: Mapping[str, Any] | None) -> str:
    """An opinion (engine.services.opinions) in one line: "同意退出：符合条件", or "" for none."""
    if not opinion:
        return ""
    parts = (str(opinion.get("decision") or ""), str(opinion.get("reason") or ""))
    return "：".join(p for p in parts if p)


def submitted_opinion(forms: FormRegistry, task: Mapping[str, Any], details: Mapping) -> str:
    """The opinion a completion recorded, or the one its form's fields hold."""
    opinion = details.get("opinion")
    if not isinstance(opinion, Mapping):
        opinion = opinion_of(schema_or_none(forms, task.get("form_key")), details.get("data"))
    return opinion_text(opinion)


def finished_steps(forms: FormRegistry, case: dict[str, Any]) -> list[dict[str, Any]]:
    """Every step done or returned, in the order it was finished: {"task_id", "title",
    "department", "by", "on_behalf_of", "at", "action", "opinion"} — one row per department of
    a step several departments handle, and again each time a step was done after a return."""
    tasks = {t["id"]: t for t in case.get("tasks", [])}
    steps = []
    for entry in case.get("history", []):
        task = tasks.get(entry.get("task_id") or "")
        if task is None or entry["action"] not in ("task_completed", "task_returned"):
            continue
        details = entry.get("details") or {}
        if entry["action"] == "task_returned":
            said = f"退回至“{details.get('to_name') or ''}”：{details.get('reason') or ''}"
        else:
            said = submitted_opinion(forms, task, details) or DONE_WITHOUT_OPINION
        steps.append(
            {
                "task_id": task["id"],
                "process_id": task["process_id"],
                "title": task["title"],
                "department": task.get("department"),
                "by": entry["actor"],
                "on_behalf_of": entry.get("on_behalf_of"),
                "at": entry["at"],
                "action": entry["action"],
                "opinion": said,
            }
        )
    return steps


def timeline(forms: FormRegistry, case: dict[str, Any]) -> list[dict[str, Any]]:
    """Every history entry: {"at", "actor", "on_behalf_of", "action", "step", "department",
    "text", "to" (a colleague handed to), "to_step" (the step returned to), "missing" (materials
    to supply), "days"}; `text` is the opinion, reason or comment in the user's words."""
    tasks = {t["id"]: t for t in case.get("tasks", [])}
    entries = []
    for entry in case.get("history", []):
        details = entry.get("details") or {}
        task = tasks.get(entry.get("task_id") or "") or {}
        entries.append(
            {
                "at": entry["at"],
                "actor": entry["actor"],
                "on_behalf_of": entry.get("on_behalf_of"),
                "action": entry["action"],
                "step": task.get("title") or details.get("title") or "",
                "department": task.get("department") or details.get("department"),
                "text": _said(forms, entry["action"], details, task),
                "to": details.get("to") if isinstance(details.get("to"), str) else None,
                "to_step": details.get("to_name"),
                "missing": [str(i) for i in details.get("missing_items") or []],
                "days": details.get("days"),
            }
        )
    return entries


def _said(forms: FormRegistry, action: str, details: dict[str, Any], task: dict[str, Any]) -> str:
    if action == "task_completed":
        return submitted_opinion(forms, task, details)
    if action in ("comment", "supervision_order"):  # a 督办单's step says what happened
        return str(details.get("text") or "")
    if action == "task_resolved":
        return str(details.get("note") or "")
    if action in ("sla_extension_approved", "sla_extension_rejected"):
        return str(details.get("note") or "")
    if action in ("attachment_added", "attachment_deleted"):
        material, name = details.get("material") or "", details.get("file_name") or ""
        return f"{material}（{name}）" if material and name else str(material or name)
    if action == "incident_opened":
        return str(details.get("message") or "")
    return str(details.get("reason") or "")
