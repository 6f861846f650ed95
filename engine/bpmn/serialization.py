"""Serialization of specs (once per version) and of instance state (without the spec)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .collect import SERIALIZER_CONVERTERS as COLLECTING_CONVERTERS
from .joins import SERIALIZER_CONVERTERS


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Instance state refers to its version's spec instead of embedding a copy of it."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        if spec is None:
            raise ValueError("instance state cannot be restored without its spec")
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpeclessWorkflowConverter
    config.update(SERIALIZER_CONVERTERS)
    config.update(COLLECTING_CONVERTERS)
    return BpmnWorkflowSerializer.configure(config)


_REGISTRY = _build_registry()
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)
STATE_FORMAT = "landflow-1"


def dump_spec(spec: BpmnProcessSpec) -> str:
    return json.dumps(_REGISTRY.convert(spec), ensure_ascii=False, sort_keys=True)


def dump_subprocess_specs(specs: dict[str, BpmnProcessSpec]) -> str:
    return json.dumps(
        {name: _REGISTRY.convert(s) for name, s in sorted(specs.items())},
        ensure_ascii=False,
        sort_keys=True,
    )


def load_spec(spec_json: str) -> BpmnProcessSpec:
    return _REGISTRY.restore(json.loads(spec_json))


def load_subprocess_specs(specs_json: str) -> dict[str, BpmnProcessSpec]:
    return {name: _REGISTRY.restore(d) for name, d in json.loads(specs_json).items()}


def dump_state(workflow: BpmnWorkflow) -> str:
    dct = _SERIALIZER.to_dict(workflow)
    dct["format"] = STATE_FORMAT
    return json.dumps(dct, ensure_ascii=False, separators=(",", ":"))


def load_state(
    state_json: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
) -> BpmnWorkflow:
    dct = json.loads(state_json)
    if dct.pop("format", None) != STATE_FORMAT:
        raise ValueError("unknown instance state format")
    return _REGISTRY.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
