"""Case data is JSON: what a script leaves in the task data is converted to JSON values (dates
become ISO text, tuples lists) or refused, with its size measured as JSON would write it, so
values that share one list many times are counted as often as they would be stored."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from .errors import ExpressionError
from .library import iso


class DataRefused(ExpressionError):
    """A value that cannot be case data. ``chinese_message`` is for the clerk's incident."""

    failure_kind = "data"

    def __init__(self, message: str, chinese_message: str) -> None:
        super().__init__(message)
        self.chinese_message = chinese_message


def to_json_data(
    value: Any, *, max_depth: int, max_bytes: int, where: str = "value"
) -> tuple[Any, int]:
    """A JSON copy of ``value`` and about how many bytes it takes as JSON. Refuses cycles,
    nesting deeper than ``max_depth``, more than ``max_bytes``, sets, non-finite numbers,
    non-text keys and anything that is not data. Stops as soon as a limit is passed."""
    walker = _Walker(max_depth, max_bytes, where)
    result = walker.convert(value, 0)
    return result, walker.size


class _Walker:
    def __init__(self, max_depth: int, max_bytes: int, where: str) -> None:
        self.max_depth = max_depth
        self.max_bytes = max_bytes
        self.where = where
        self.cap = max_bytes  # the limit as people know it (a share of it may be left)
        self.size = 0
        self.path: set[int] = set()  # containers on the way down: a repeat is a cycle
        # containers already measured: a shared one is charged again without a second walk
        self.seen: dict[int, tuple[Any, int]] = {}

    def charge(self, amount: int) -> None:
        self.size += amount
        if self.size > self.max_bytes:
            raise DataRefused(
                f"{self.where}: case data would exceed {self.cap} bytes",
                f"数据“{self.where}”使办件数据超过上限（{self.cap} 字节）",
            )

    def convert(self, value: Any, depth: int) -> Any:
        if value is None or isinstance(value, bool):
            self.charge(5)
            return value
        if isinstance(value, int):
            self.charge(len(str(value)) if abs(value) < 10**30 else 40)
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise DataRefused(
                    f"{self.where}: {value} is not a JSON number",
                    f"数据“{self.where}”不是有效数字（{value}）",
                )
            self.charge(24)
            return value
        if isinstance(value, str):
            self.charge(len(value.encode("utf-8", "surrogatepass")) + 2)
            return value
        if isinstance(value, (datetime, date, time, timedelta)):
            text = iso(value)
            self.charge(len(text) + 2)
            return text
        if isinstance(value, (Mapping, list, tuple)):
            return self.container(value, depth)
        kind = "集合（set）" if isinstance(value, (set, frozenset)) else type(value).__name__
        raise DataRefused(
            f"{self.where}: a {type(value).__name__} is not JSON data",
            f"数据“{self.where}”含有不能保存的值（{kind}），办件数据只能是 JSON",
        )

    def container(self, value: Any, depth: int) -> Any:
        if depth >= self.max_depth:
            raise DataRefused(
                f"{self.where}: nested deeper than {self.max_depth} levels",
                f"数据“{self.where}”嵌套超过 {self.max_depth} 层",
            )
        if id(value) in self.path:
            raise DataRefused(
                f"{self.where}: the value contains itself",
                f"数据“{self.where}”引用了自身（循环引用），不能保存",
            )
        if id(value) in self.seen:
            converted, size = self.seen[id(value)]
            self.charge(size)
            return converted
        self.path.add(id(value))
        start = self.size
        try:
            self.charge(2)
            if isinstance(value, Mapping):
                result: Any = {}
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise DataRefused(
                            f"{self.where}: key {key!r} is not text",
                            f"数据“{self.where}”的键必须是文字",
                        )
                    self.charge(len(key.encode("utf-8", "surrogatepass")) + 4)
                    result[key] = self.convert(item, depth + 1)
            else:
                result = []
                for item in value:
                    self.charge(1)
                    result.append(self.convert(item, depth + 1))
            self.seen[id(value)] = (result, self.size - start)
            return result
        finally:
            self.path.discard(id(value))


def settle(data: dict[str, Any], *, max_depth: int, max_bytes: int) -> int:
    """Convert every value of ``data`` (a task's data) to JSON in place; its total JSON size.
    Raises DataRefused naming the first variable that breaks a limit."""
    total = 0
    for key in list(data):
        walker = _Walker(max_depth, max_bytes - total, str(key))
        walker.cap = max_bytes
        data[key] = walker.convert(data[key], 0)
        total += walker.size + len(str(key)) + 4
    return total
