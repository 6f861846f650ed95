"""What a deployed version can wait for, read once from its specs: a version without timer or
message events needs no timer-job or message-wait bookkeeping after a step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .model import LoadedSpec


@dataclass(frozen=True)
class SpecWaits:
    timers: bool
    messages: bool


def waits_of(loaded: LoadedSpec) -> SpecWaits:
    definitions = [
        d
        for spec in (loaded.spec, *loaded.subprocess_specs.values())
        for task_spec in spec.task_specs.values()
        for d in _definitions(getattr(task_spec, "event_definition", None))
    ]
    return SpecWaits(
        timers=any(isinstance(d, TimerEventDefinition) for d in definitions),
        messages=any(isinstance(d, MessageEventDefinition) for d in definitions),
    )


def _definitions(definition: Any) -> list[Any]:
    if isinstance(definition, MultipleEventDefinition):
        return [i for d in definition.event_definitions for i in _definitions(d)]
    return [] if definition is None else [definition]
