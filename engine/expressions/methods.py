"""Whitelisted methods and attributes of data values.

Methods are only reachable in call position (``text.lower()``); a bare attribute read is
either a whitelisted data attribute (``when.year``) or, for dicts, a key lookup
(``order.total`` means ``order['total']`` when that key exists).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from .errors import ExpressionError
from .limits import Limits, check_length

STR_METHODS = frozenset(
    {
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "split",
        "rsplit",
        "splitlines",
        "join",
        "replace",
        "isdigit",
        "isalpha",
        "isalnum",
        "isspace",
        "isdecimal",
        "isnumeric",
        "islower",
        "isupper",
        "title",
        "capitalize",
        "casefold",
        "swapcase",
        "find",
        "rfind",
        "index",
        "rindex",
        "count",
        "partition",
        "rpartition",
        "removeprefix",
        "removesuffix",
        "zfill",
        "ljust",
        "rjust",
        "center",
    }
)
LIST_METHODS = frozenset(
    {
        "append",
        "extend",
        "index",
        "count",
        "pop",
        "insert",
        "remove",
        "clear",
        "copy",
        "sort",
        "reverse",
    }
)
TUPLE_METHODS = frozenset({"index", "count"})
DICT_METHODS = frozenset(
    {"get", "keys", "values", "items", "pop", "setdefault", "update", "copy", "clear"}
)
SET_METHODS = frozenset(
    {
        "add",
        "remove",
        "discard",
        "pop",
        "clear",
        "copy",
        "update",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "issubset",
        "issuperset",
        "isdisjoint",
    }
)
DATE_METHODS = frozenset(
    {"isoformat", "weekday", "isoweekday", "strftime", "replace", "toordinal", "isocalendar"}
)
DATETIME_METHODS = DATE_METHODS | {"date", "time", "utcoffset"}
TIME_METHODS = frozenset({"isoformat", "strftime", "replace"})
TIMEDELTA_METHODS = frozenset({"total_seconds"})

_METHOD_TABLE: tuple[tuple[type | tuple[type, ...], frozenset[str]], ...] = (
    (str, STR_METHODS),
    (list, LIST_METHODS),
    (tuple, TUPLE_METHODS),
    (dict, DICT_METHODS),
    ((set, frozenset), SET_METHODS),
    (datetime, DATETIME_METHODS),
    (date, DATE_METHODS),
    (time, TIME_METHODS),
    (timedelta, TIMEDELTA_METHODS),
)

_ATTRIBUTE_TABLE: tuple[tuple[type, frozenset[str]], ...] = (
    (datetime, frozenset({"year", "month", "day", "hour", "minute", "second", "microsecond"})),
    (date, frozenset({"year", "month", "day"})),
    (time, frozenset({"hour", "minute", "second", "microsecond"})),
    (timedelta, frozenset({"days", "seconds", "microseconds"})),
)


#: Container methods that return a new container (str methods always do).
_PRODUCING_METHODS = frozenset(
    {"copy", "union", "intersection", "difference", "symmetric_difference"}
)


def produces_new_value(obj: Any, name: str) -> bool:
    """Whether calling ``obj.name()`` builds a new (possibly large) value."""
    return isinstance(obj, str) or name in _PRODUCING_METHODS


def type_label(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def get_method(obj: Any, name: str, limits: Limits) -> Callable[..., Any]:
    """Return the bound, size-guarded method ``obj.name`` if it is whitelisted."""
    for types, names in _METHOD_TABLE:
        if isinstance(obj, types):
            if name not in names:
                break
            method = getattr(obj, name, None)
            if method is None:
                break
            if isinstance(obj, str) and name in _STR_GUARDS:
                return _STR_GUARDS[name](obj, limits)
            return method
    raise ExpressionError(f"method '{name}' is not available on {type_label(obj)}")


def get_attribute(obj: Any, name: str) -> Any:
    """Read ``obj.name``: a dict key or a whitelisted data attribute."""
    if isinstance(obj, dict):
        if name in obj:
            return obj[name]
        raise ExpressionError(f"dict has no key '{name}'")
    for attribute_type, attribute_names in _ATTRIBUTE_TABLE:
        if isinstance(obj, attribute_type):
            if name in attribute_names:
                return getattr(obj, name)
            break
    for types, names in _METHOD_TABLE:
        if isinstance(obj, types) and name in names:
            raise ExpressionError(f"method '{name}' of {type_label(obj)} must be called: {name}()")
    raise ExpressionError(f"attribute '{name}' is not available on {type_label(obj)}")


# --- str methods whose result can be much larger than their inputs -----------------------


def _guard_join(text: str, limits: Limits) -> Callable[..., Any]:
    def join(iterable: Any) -> str:
        items = list(iterable)
        check_length(len(items), limits, "joined sequence")
        if all(isinstance(item, str) for item in items):
            total = sum(len(item) for item in items) + len(text) * max(len(items) - 1, 0)
            check_length(total, limits, "joined string")
        return text.join(items)

    return join


def _guard_replace(text: str, limits: Limits) -> Callable[..., Any]:
    def replace(old: str, new: str, count: int = -1) -> str:
        hits = len(text) + 1 if old == "" else text.count(old)
        if count >= 0:
            hits = min(hits, count)
        check_length(len(text) + hits * (len(new) - len(old)), limits, "replaced string")
        return text.replace(old, new, count)

    return replace


def _guard_width(name: str) -> Callable[[str, Limits], Callable[..., Any]]:
    def factory(text: str, limits: Limits) -> Callable[..., Any]:
        method = getattr(text, name)

        def padded(width: int, *args: Any) -> str:
            if isinstance(width, int):
                check_length(width, limits, "padded string")
            return method(width, *args)

        return padded

    return factory


_STR_GUARDS: dict[str, Callable[[str, Limits], Callable[..., Any]]] = {
    "join": _guard_join,
    "replace": _guard_replace,
    "ljust": _guard_width("ljust"),
    "rjust": _guard_width("rjust"),
    "center": _guard_width("center"),
    "zfill": _guard_width("zfill"),
}
