"""Plain objects the rest of Landflow sees instead of SpiffWorkflow's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ReadyTask:
    """A human task (user or manual task) waiting for someone."""

    id: str
    spec_id: str
    title: str
    process_id: str
    lane: str | None
    form_key: str | None
    properties: dict[str, str] = field(default_factory=dict)
    item: Any = None  # the current element of a multi-instance task, if any
    explicit_dept_type: str | None = None  # chosen by the diagram's data, not the lane
    explicit_department: str | None = None
    return_targets: tuple[dict[str, str], ...] = ()  # earlier steps it may return (退回) to


@dataclass(frozen=True)
class PendingTimer:
    task_id: str
    name: str
    due_at: datetime


@dataclass(frozen=True)
class LoadedSpec:
    """A deployed version's spec, restored once and shared by every instance of that version."""

    version_id: int
    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]


class InstanceStatus:
    RUNNING = "running"  # someone has work on it
    WAITING = "waiting"  # only timers or messages can move it on
    COMPLETED = "completed"
    ERROR = "error"
    TERMINATED = "terminated"

    ACTIVE = frozenset({RUNNING, WAITING, ERROR})
