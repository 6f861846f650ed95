"""The script engine handed to SpiffWorkflow: every expression and script goes through our
restricted interpreter, never through Python's eval/exec. What a script leaves in the task data
is JSON within the case budgets; what a timer or a loop cardinality evaluates to is held to the
budgets before SpiffWorkflow computes with it."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import expressions

from .budgets import BudgetExceeded, Budgets, guard_result


class ServiceUnavailable(expressions.ExpressionError):
    chinese_message = "服务任务（serviceTask）尚无可用的连接器"
    failure_kind = "engine"


class _RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]],
        limits: expressions.Limits,
        budgets: Budgets,
    ) -> None:
        super().__init__({})
        self.functions = dict(functions)
        self.limits = limits
        self.budgets = budgets

    def evaluate(self, expression, context, external_context=None):
        scope = ChainMap(external_context or {}, context)
        return expressions.evaluate(expression, scope, self.functions, self.limits)

    def execute(self, script, context, external_context=None):
        functions = {**self.functions, **(external_context or {})}
        before = dict(context)
        try:
            expressions.execute(script, context, functions, self.limits)
            expressions.settle(
                context,
                max_depth=self.budgets.case_data_max_depth,
                max_bytes=self.budgets.case_state_max_bytes,
            )
        except BaseException:
            context.clear()  # a failed script leaves no variables behind
            context.update(before)
            raise
        return True

    def call_service(self, context, **kwargs):
        raise ServiceUnavailable("service tasks are not available in this engine")


class RestrictedScriptEngine(PythonScriptEngine):
    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]],
        limits: expressions.Limits,
        budgets: Budgets | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.budgets = budgets or Budgets()
        self._now = now or (lambda: datetime.now(UTC))
        super().__init__(environment=_RestrictedEnvironment(functions, limits, self.budgets))

    def validate(self, expression):
        expressions.validate(expression, mode="eval")

    def evaluate(self, task, expression, external_context=None):
        result = super().evaluate(task, expression, external_context)
        try:
            return guard_result(self.budgets, task, expression, result, self._now())
        except BudgetExceeded as exc:
            raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc

    def call_service(self, task, **kwargs):
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as exc:
            raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc
