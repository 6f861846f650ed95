"""What a failed engine step becomes: the element that failed, a message a clerk can read, and
the technical detail an administrator needs to correct data and retry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine import expressions


class FailureKind:
    EXPRESSION = "expression"
    CALENDAR = "calendar"
    DATA = "data"
    MERGE = "merge"
    ENGINE = "engine"
    BUDGET = "budget"  # a model asked for more than a budget allows (budgets.py)


@dataclass(frozen=True)
class StepFailure:
    step_id: str | None  # the engine's task id of the failed step, when known
    element_id: str | None
    element_name: str | None
    kind: str
    message: str  # Chinese, for the clerk
    detail: str  # technical, for administrators


_UNDEFINED = re.compile(r"name '([^']+)' is not defined")
_MISSING_KEY = re.compile(r"KeyError: '([^']+)'|^'([^']+)'$")


def failure_of(exc: BaseException, step: Any | None) -> StepFailure:
    """Describe `exc`, raised while running `step` (a SpiffWorkflow task, if known)."""
    spec = getattr(step, "task_spec", None)
    element_id = (getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)) if spec else None
    element_name = getattr(spec, "bpmn_name", None) if spec else None
    where = f"环节“{element_name or element_id or '未知环节'}”"
    detail = describe(exc)
    kind, reason = _classify(exc, detail)
    return StepFailure(
        step_id=str(step.id) if step is not None else None,
        element_id=element_id,
        element_name=element_name,
        kind=kind,
        message=f"{where}{reason}，已转管理员处理。",
        detail=detail,
    )


def _classify(exc: BaseException, detail: str) -> tuple[str, str]:
    told = _told(exc)
    if told is not None:
        kind = getattr(told, "failure_kind", FailureKind.DATA)
        return kind, f"执行失败：{getattr(told, 'chinese_message', None)}"
    undefined = _UNDEFINED.search(detail)
    if undefined:
        return FailureKind.EXPRESSION, f"计算时缺少数据“{undefined.group(1)}”"
    if "CalendarMissing" in detail or "no official holiday data" in detail:
        return FailureKind.CALENDAR, "计算期限时缺少节假日安排"
    if _is_expression_error(exc):
        return FailureKind.EXPRESSION, "的条件或脚本计算出错"
    if isinstance(exc, (KeyError, TypeError, ValueError)):
        return FailureKind.DATA, "的数据不符合要求"
    return FailureKind.ENGINE, "执行失败"


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what caused it (SpiffWorkflow wraps the original in `exception`)."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not f for f in found) and len(found) < 20:
        found.append(current)
        inner = getattr(current, "exception", None)
        current = (
            inner
            if isinstance(inner, BaseException)
            else (current.__cause__ or current.__context__)
        )
    return found


def _told(exc: BaseException) -> BaseException | None:
    """The first exception of the chain that carries a message for people."""
    return next((e for e in _chain(exc) if getattr(e, "chinese_message", None)), None)


def _is_expression_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, expressions.ExpressionError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def describe(exc: BaseException) -> str:
    parts = [f"{exc.__class__.__name__}: {str(exc).strip()}"]
    task_spec = getattr(getattr(exc, "task", None), "task_spec", None)
    if task_spec is not None:
        parts.append(f"at '{task_spec.bpmn_id or task_spec.name}'")
    notes = getattr(exc, "notes", None) or getattr(exc, "__notes__", None) or []
    parts.extend(str(n) for n in notes)
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) not in parts[0]:
        parts.append(f"({cause.__class__.__name__}: {cause})")
    return " ".join(parts)
