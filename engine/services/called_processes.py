"""The processes an active case has called and that are still running, for the case view
(read-only: the case's state is restored, read and dropped, never saved)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import Execution, InstanceStatus
from engine.db.tables import Instance, ProcessVersion
from engine.errors import LandflowError

from .forms import FormRegistry


def called_processes(
    session: Session,
    instance: Instance,
    restore: Callable[[Session, Instance], Execution],
    forms: FormRegistry,
) -> list[dict[str, Any]]:
    """Each running call activity with the called process's data as it stands and, for the
    page, `labels`: the titles its forms give those fields."""
    if instance.status not in InstanceStatus.ACTIVE or not instance.state_json:
        return []
    version = session.get_one(ProcessVersion, instance.process_version_id)
    if not (version.metadata_json or {}).get("called_processes"):
        return []
    execution = restore(session, instance)
    calls = execution.called_data()
    for call in calls:
        call["labels"] = _field_titles(forms, execution.form_keys(call["process_id"]))
    return calls


def _field_titles(forms: FormRegistry, form_keys: list[str]) -> dict[str, str]:
    titles: dict[str, str] = {}
    for key in form_keys:
        try:
            properties = forms.schema(key).get("properties", {})
        except LandflowError:  # a form missing or broken: its fields show by name
            continue
        for name, field in properties.items():
            if isinstance(field, dict) and field.get("title"):
                titles.setdefault(name, field["title"])
    return titles
