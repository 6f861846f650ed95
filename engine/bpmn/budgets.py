"""Budgets for what a model may ask of the engine: how far away a timer may be, how often a
cycle may fire, how many instances a multi-instance task may have, how large a case's data may
grow and how many engine steps one command may run. The same checks serve the deploy (a static
value, a located 422) and the run (an incident)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask


@dataclass(frozen=True)
class Budgets:
    timer_max_years: int = 100
    timer_min_cycle_seconds: int = 60
    timer_max_cycles: int = 1_000
    multi_instance_max: int = 500
    case_state_max_bytes: int = 5_000_000
    case_data_max_depth: int = 32
    engine_max_steps: int = 500

    @classmethod
    def from_settings(cls, settings: Any) -> Budgets:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})


class BudgetExceeded(Exception):
    """A model asked for more than a budget allows. ``chinese_message`` is for people."""

    failure_kind = "budget"

    def __init__(self, chinese_message: str, detail: str | None = None) -> None:
        super().__init__(detail or chinese_message)
        self.chinese_message = chinese_message
        self.near: Any | None = None  # a task to name, when no step itself failed


class TimerRefused(ValueError):
    """A timer value outside the budgets or not understood; the text is Chinese."""


_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"^P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$",
    re.IGNORECASE,
)
_DAYS = (365.25, 30.44, 7, 1, 1 / 24, 1 / 1440, 1 / 86400)


def duration_of(text: str) -> timedelta:
    """An ISO 8601 duration, approximately (months of 30.44 days); TimerRefused if malformed
    or negative."""
    match = _DURATION.match(text.strip())
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise TimerRefused(f"时长“{_short(text)}”不是有效的 ISO 8601 时长（如 P5D、PT2H）")
    values = zip(match.groups(), _DAYS, strict=True)
    days = sum(float(v.replace(",", ".")) * factor for v, factor in values if v)
    if days > 366 * 10_000:
        raise TimerRefused(f"时长“{_short(text)}”过长")
    return timedelta(days=days)


def moment_of(text: str) -> datetime:
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import LOCALTZ

    value = text.strip()
    try:
        if "W" in value.upper() and not value.upper().startswith("P"):
            return TimerEventDefinition.parse_iso_week(value)
        moment = datetime.fromisoformat(value)
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise TimerRefused(
            f"时间“{_short(text)}”不是有效的 ISO 8601 时间（如 2026-12-31T17:00:00+08:00）"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCALTZ)


class TimerBudget:
    def __init__(self, budgets: Budgets) -> None:
        self.budgets = budgets
        self.horizon = timedelta(days=365.25 * budgets.timer_max_years)

    def check(self, kind: str, value: Any, now: datetime) -> str:
        """The timer value to use (`kind`: timeDate, timeDuration, timeCycle), or TimerRefused.
        An unbounded cycle (R/...) is bounded to the budget's count."""
        if not isinstance(value, str):
            raise TimerRefused(f"定时器的值应为 ISO 8601 文字，实为 {type(value).__name__}")
        if kind == "timeDuration":
            self._within(duration_of(value), value)
            return value
        if kind == "timeDate":
            self._near(moment_of(value), value, now)
            return value
        return self._cycle(value, now)

    def _within(self, span: timedelta, text: str) -> None:
        if span > self.horizon:
            raise TimerRefused(
                f"定时器时长“{_short(text)}”超过 {self.budgets.timer_max_years} 年的上限"
            )

    def _near(self, moment: datetime, text: str, now: datetime) -> None:
        if abs(moment - now) > self.horizon:
            raise TimerRefused(
                f"定时器时间“{_short(text)}”距今超过 {self.budgets.timer_max_years} 年"
            )

    def _cycle(self, text: str, now: datetime) -> str:
        value = text.strip()
        parts = value.upper().replace("--", "/").split("/")
        if not parts[0].startswith("R") or len(parts) not in (2, 3):
            raise TimerRefused(
                f"循环定时器“{_short(text)}”应为 R[次数]/时长 或 R[次数]/开始时间/时长"
            )
        count_text = parts[0][1:]
        if count_text and not count_text.isdigit():
            raise TimerRefused(f"循环定时器“{_short(text)}”的次数应为正整数")
        count = int(count_text) if count_text else None
        if count is not None and not 1 <= count <= self.budgets.timer_max_cycles:
            raise TimerRefused(
                f"循环定时器“{_short(text)}”的次数应在 1 到 {self.budgets.timer_max_cycles} 之间"
            )
        spans = []
        for part in parts[1:]:
            if part.startswith("P"):
                spans.append(duration_of(part))
            else:
                self._near(moment_of(part), part, now)
        if len(spans) != 1:
            raise TimerRefused(f"循环定时器“{_short(text)}”应有且只有一个时长")
        self._within(spans[0], text)
        if spans[0].total_seconds() < self.budgets.timer_min_cycle_seconds:
            raise TimerRefused(
                f"循环定时器“{_short(text)}”的间隔短于 {self.budgets.timer_min_cycle_seconds} 秒"
            )
        if count is None:  # "R/…": repeat, within the budget
            return f"R{self.budgets.timer_max_cycles}{value[1:]}"
        return value


def literal_text(expression: str) -> str | None:
    """The string an expression is when it is a plain string literal, else None."""
    try:
        value = ast.literal_eval(expression.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def literal_int(expression: str) -> int | None:
    try:
        value = ast.literal_eval(expression.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_TIMER_KINDS = (
    (CycleTimerEventDefinition, "timeCycle"),
    (DurationTimerEventDefinition, "timeDuration"),
    (TimeDateEventDefinition, "timeDate"),
)


def timer_kind(task: Any, expression: str) -> str | None:
    """Which timer of `task`'s spec is evaluating `expression`, if one is."""
    definition = getattr(task.task_spec, "event_definition", None)
    definitions = getattr(definition, "event_definitions", None) or [definition]
    for item in definitions:
        for cls, kind in _TIMER_KINDS:
            if isinstance(item, cls) and item.expression == expression:
                return kind
    return None


def guard_result(budgets: Budgets, task: Any, expression: str, result: Any, now: datetime) -> Any:
    """Check what an expression of `task` evaluated to against the budgets, before
    SpiffWorkflow computes with it (a timer, a loop cardinality)."""
    kind = timer_kind(task, expression)
    if kind is not None:
        if isinstance(result, datetime):
            result = result.isoformat()
        try:
            return TimerBudget(budgets).check(kind, result, now)
        except TimerRefused as refused:
            raise BudgetExceeded(str(refused)) from None
    spec = task.task_spec
    if isinstance(spec, MultiInstanceTask) and getattr(spec, "cardinality", None) == expression:
        check_instances(budgets, result, "执行次数（loopCardinality）")
    return result


def check_instances(budgets: Budgets, count: Any, what: str) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise BudgetExceeded(f"多实例环节的{what}应为非负整数，实为“{_short(repr(count))}”")
    if count > budgets.multi_instance_max:
        raise BudgetExceeded(f"多实例环节的{what}为 {count}，超过上限 {budgets.multi_instance_max}")


_original_update_hook = MultiInstanceTask._update_hook


def _guarded_update_hook(self: Any, my_task: Any) -> Any:
    """A multi-instance task over a collection: the collection must be there, be a list or an
    object, and not have more items than the budget."""
    inherited = _original_update_hook(self, my_task)  # the task's data arrives here
    budgets = getattr(my_task.workflow.script_engine, "budgets", None)
    if budgets is not None and self.data_input is not None:
        name = self.data_input.bpmn_id
        problem = None
        if not self.data_input.exists(my_task):
            problem = f"多实例环节的输入集合“{name}”不存在"
        else:
            collection = self.data_input.get(my_task)
            if not isinstance(collection, (list, tuple, dict)):
                problem = f"多实例环节的输入“{name}”应为列表或对象"
            elif len(collection) > budgets.multi_instance_max:
                problem = (
                    f"多实例环节的输入“{name}”有 {len(collection)} 项，"
                    f"超过上限 {budgets.multi_instance_max}"
                )
        if problem is not None:
            refused = WorkflowDataException(problem, my_task, data_input=self.data_input)
            refused.chinese_message = problem
            refused.failure_kind = "data"
            raise refused
    return inherited


def install() -> None:
    MultiInstanceTask._update_hook = _guarded_update_hook


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "…"


def now_utc() -> datetime:
    return datetime.now(UTC)
