"""The script engine handed to SpiffWorkflow: every expression and script goes through our
restricted interpreter, never through Python's eval/exec."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import expressions


class _RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(
        self, functions: Mapping[str, Callable[..., Any]], limits: expressions.Limits
    ) -> None:
        super().__init__({})
        self.functions = dict(functions)
        self.limits = limits

    def evaluate(self, expression, context, external_context=None):
        scope = ChainMap(external_context or {}, context)
        return expressions.evaluate(expression, scope, self.functions, self.limits)

    def execute(self, script, context, external_context=None):
        functions = {**self.functions, **(external_context or {})}
        expressions.execute(script, context, functions, self.limits)
        return True

    def call_service(self, context, **kwargs):
        raise expressions.ExpressionError("service tasks are not available in this engine")


class RestrictedScriptEngine(PythonScriptEngine):
    def __init__(
        self, functions: Mapping[str, Callable[..., Any]], limits: expressions.Limits
    ) -> None:
        super().__init__(environment=_RestrictedEnvironment(functions, limits))

    def validate(self, expression):
        expressions.validate(expression, mode="eval")
