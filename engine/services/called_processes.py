"""The processes an active case has called and that are still running, for the case view
(read-only: the case's state is restored, read and dropped, never saved; what it held is kept
for the next view of the same state)."""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import Execution, InstanceStatus
from engine.db.tables import Instance, ProcessVersion
from engine.errors import LandflowError

from .forms import FormRegistry

# what a case state's call activities hold, by case and the state's digest: a case page is
# read far more often than the case moves, and reading it needs the whole state restored
CACHED_STATES = 256
_READ: dict[tuple[str, int, str], list[tuple[dict[str, Any], list[str]]]] = {}
_LOCK = threading.Lock()


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
    digest = hashlib.sha1(instance.state_json.encode()).hexdigest()
    key = (instance.id, instance.process_version_id, digest)
    found = _READ.get(key)
    if found is None:
        execution = restore(session, instance)
        calls = execution.called_data()
        found = [(call, execution.form_keys(call["process_id"])) for call in calls]
        with _LOCK:
            _READ[key] = found
            while len(_READ) > CACHED_STATES:
                _READ.pop(next(iter(_READ)))
    return [
        {**copy.deepcopy(call), "labels": _field_titles(forms, form_keys)}
        for call, form_keys in found
    ]


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
