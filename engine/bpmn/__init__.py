"""The only package that imports SpiffWorkflow. Everything else uses these names."""

from .budgets import Budgets
from .compiler import CompiledProcess, compile_definitions, kind_of
from .failures import StepFailure
from .migration import (
    MigrationBlocker,
    MigrationCheck,
    check_migration,
    migrate_execution,
    target_element_ids,
)
from .model import InstanceStatus, LoadedSpec, PendingTimer, ReadyTask
from .progress import CallRun, call_runs, case_outcome, element_states
from .runtime import Execution, ProcessRuntime, StepNotSkippable, TaskNotReady, load_spec

__all__ = [
    "Budgets",
    "CallRun",
    "CompiledProcess",
    "Execution",
    "InstanceStatus",
    "LoadedSpec",
    "MigrationBlocker",
    "MigrationCheck",
    "PendingTimer",
    "ProcessRuntime",
    "ReadyTask",
    "StepFailure",
    "StepNotSkippable",
    "TaskNotReady",
    "call_runs",
    "case_outcome",
    "check_migration",
    "compile_definitions",
    "element_states",
    "kind_of",
    "load_spec",
    "migrate_execution",
    "target_element_ids",
]
