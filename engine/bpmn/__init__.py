"""The only package that imports SpiffWorkflow. Everything else uses these names."""

from .compiler import CompiledProcess, compile_definitions, kind_of
from .failures import StepFailure
from .model import InstanceStatus, LoadedSpec, PendingTimer, ReadyTask
from .runtime import Execution, ProcessRuntime, StepNotSkippable, TaskNotReady, load_spec

__all__ = [
    "CompiledProcess",
    "Execution",
    "InstanceStatus",
    "LoadedSpec",
    "PendingTimer",
    "ProcessRuntime",
    "ReadyTask",
    "StepFailure",
    "StepNotSkippable",
    "TaskNotReady",
    "compile_definitions",
    "kind_of",
    "load_spec",
]
