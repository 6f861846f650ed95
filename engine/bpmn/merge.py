"""What a parallel or inclusive join passes on: the data at the split plus each branch's own
changes. Two branches changing one variable to different values is a conflict unless the join
declares a rule for it in its spiffworkflow:properties: `merge` (strict | last) for every
variable, `merge:<variable>` (strict | last | list | sum) for one."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

JOIN_PROPERTY = "merge"
VARIABLE_PROPERTY_PREFIX = "merge:"
STRICT, LAST, LIST, SUM = "strict", "last", "list", "sum"
JOIN_RULES = (STRICT, LAST)
VARIABLE_RULES = (STRICT, LAST, LIST, SUM)

_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REMOVED = object()  # what a branch "wrote" when it deleted a variable


class _Unmergeable(ValueError):
    pass


class MergeConflict(ValueError):
    """The branches' changes to `variables` cannot be combined (the message is for the people
    running cases); `merged` is the data with everything else merged."""

    def __init__(self, message: str, variables: list[str], merged: dict[str, Any]) -> None:
        super().__init__(message)
        self.variables = variables
        self.merged = merged


@dataclass(frozen=True)
class Branch:
    label: str  # how the people running cases know the branch: its first named element
    data: Mapping[str, Any]


@dataclass(frozen=True)
class MergeRules:
    default: str = STRICT
    variables: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> MergeRules:
        problems = rule_problems(properties)
        if problems:
            raise ValueError("; ".join(problems))
        return cls(
            default=properties.get(JOIN_PROPERTY, STRICT),
            variables={
                key[len(VARIABLE_PROPERTY_PREFIX) :]: value
                for key, value in properties.items()
                if key.startswith(VARIABLE_PROPERTY_PREFIX)
            },
        )

    def for_variable(self, name: str) -> str:
        return self.variables.get(name, self.default)


def merge_properties(properties: Mapping[str, str]) -> dict[str, str]:
    """The properties of an element that are merge rules."""
    return {
        key: value
        for key, value in properties.items()
        if key == JOIN_PROPERTY or key.startswith(VARIABLE_PROPERTY_PREFIX)
    }


def rule_problems(properties: Mapping[str, str]) -> list[str]:
    """Deploy-time check of a join's merge properties (other properties are ignored)."""
    problems = []
    for key, value in merge_properties(properties).items():
        if key == JOIN_PROPERTY:
            if value not in JOIN_RULES:
                problems.append(f"merge: unknown rule '{value}' (use {' or '.join(JOIN_RULES)})")
            continue
        variable = key[len(VARIABLE_PROPERTY_PREFIX) :]
        if not _VARIABLE.match(variable):
            problems.append(f"{key}: '{variable}' is not a variable name")
        if value not in VARIABLE_RULES:
            problems.append(
                f"{key}: unknown rule '{value}' (use {', '.join(VARIABLE_RULES[:-1])} "
                f"or {VARIABLE_RULES[-1]})"
            )
    return problems


def merge(
    base: Mapping[str, Any],
    branches: Sequence[Branch],
    rules: MergeRules,
    decided: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`base` is the data at the split, `branches` the arriving branches' data in the order they
    arrived; `decided` holds values a person chose for variables that conflicted before. Raises
    MergeConflict naming every variable that cannot be merged."""
    decided = decided or {}
    writes: dict[str, list[tuple[str, Any]]] = {}
    for branch in branches:
        for name in [*branch.data, *(k for k in base if k not in branch.data)]:
            value = branch.data.get(name, _REMOVED)
            if name in base and _same(value, base[name]):
                continue
            writes.setdefault(name, []).append((branch.label, value))

    merged = copy.deepcopy(dict(base))
    problems, conflicting = [], []
    for name, written in writes.items():
        if name in decided:
            value = decided[name]
        else:
            try:
                value = _combine(name, base.get(name, _REMOVED), written, rules.for_variable(name))
            except _Unmergeable as reason:
                problems.append(str(reason))
                conflicting.append(name)
                merged.pop(name, None)
                continue
        if value is _REMOVED:
            merged.pop(name, None)
        else:
            merged[name] = copy.deepcopy(value)
    if problems:
        raise MergeConflict("；".join(problems), conflicting, merged)
    return merged


def _combine(name: str, before: Any, written: list[tuple[str, Any]], rule: str) -> Any:
    if rule == LAST:
        return written[-1][1]
    if rule == LIST:
        return [value for _, value in written if value is not _REMOVED]
    if rule == SUM:
        return _sum(name, before, written)
    first = written[0][1]
    if all(_same(value, first) for _, value in written[1:]):
        return first
    branches = "、".join(f"分支 {label}" for label in dict.fromkeys(lb for lb, _ in written))
    raise _Unmergeable(
        f"并行分支对变量 {name} 写入了不同的值（{branches}），请在汇聚网关声明合并规则"
    )


def _sum(name: str, before: Any, written: list[tuple[str, Any]]) -> Any:
    """The value at the split plus every branch's change to it (counters add up)."""
    start = 0 if before is _REMOVED else before
    if not _is_number(start):
        raise _Unmergeable(f"变量 {name} 按求和合并，但分支开始前它的值不是数字")
    total = start
    for label, value in written:
        if not _is_number(value):
            raise _Unmergeable(f"变量 {name} 按求和合并，但分支 {label} 写入的值不是数字")
        total += value - start
    return total


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and a == b)
