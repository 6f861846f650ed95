"""The small set of Python builtins available to expressions, wrapped with size checks.

Type objects (``str``, ``list``...) are never exposed: every entry is a plain function.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from itertools import islice
from typing import Any

from .errors import ExpressionError
from .limits import MAX_ROUND_DIGITS, Limits, check_length, check_text_size, check_value
from .operators import binary

_NUMBERS = frozenset({int, float, bool})


def make_builtins(limits: Limits, tick: Callable[[], None]) -> dict[str, Callable[..., Any]]:
    """Build the safe builtins for one evaluation (``tick`` charges one step)."""

    def materialize(iterable: Any) -> list[Any]:
        items = list(islice(iter(iterable), limits.max_sequence + 1))
        check_length(len(items), limits)
        return items

    def safe_str(value: Any = "") -> str:
        check_text_size(value, limits)
        return str(value)

    def safe_int(value: Any = 0, base: int | None = None) -> int:
        result = int(value) if base is None else int(value, base)
        return check_value(result, limits)

    def safe_float(value: Any = 0.0) -> float:
        return float(value)

    def safe_bool(value: Any = False) -> bool:
        return bool(value)

    def safe_list(iterable: Any = ()) -> list[Any]:
        return materialize(iterable)

    def safe_tuple(iterable: Any = ()) -> tuple[Any, ...]:
        return tuple(materialize(iterable))

    def safe_set(iterable: Any = ()) -> set[Any]:
        return set(materialize(iterable))

    def safe_dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
        if len(args) > 1:
            raise TypeError(f"dict expected at most 1 argument, got {len(args)}")
        if args and not isinstance(args[0], dict):
            args = (materialize(args[0]),)
        return check_value(dict(*args, **kwargs), limits)

    def safe_sorted(iterable: Any, key: Any = None, reverse: bool = False) -> list[Any]:
        items = materialize(iterable)
        items.sort(key=key, reverse=reverse)
        return items

    def safe_range(*args: Any) -> range:
        result = range(*args)
        try:
            length = len(result)
        except OverflowError:
            length = limits.max_sequence + 1
        check_length(length, limits, "range")
        return result

    def safe_round(number: Any, ndigits: int | None = None) -> Any:
        if ndigits is None:
            return check_value(round(number), limits)
        if isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
            raise ExpressionError(f"round() digits exceed the limit of {MAX_ROUND_DIGITS}")
        return round(number, ndigits)

    def safe_sum(iterable: Any, start: Any = 0) -> Any:
        items = materialize(iterable)
        if all(type(item) in _NUMBERS for item in items) and type(start) in _NUMBERS:
            return check_value(sum(items, start), limits)  # bounded: ints are size-checked
        total = start
        for item in items:  # e.g. lists: every addition is size-checked and charged a step
            tick()
            total = binary(ast.Add, total, item, limits)
        return total

    def safe_enumerate(iterable: Any, start: int = 0) -> enumerate[Any]:
        return enumerate(iterable, start)

    def safe_zip(*iterables: Any, strict: bool = False) -> zip[Any]:
        return zip(*iterables, strict=strict)

    def safe_reversed(sequence: Any) -> Any:
        return reversed(sequence)

    return {
        "len": len,
        "abs": abs,
        "min": min,
        "max": max,
        "any": any,
        "all": all,
        "sum": safe_sum,
        "round": safe_round,
        "int": safe_int,
        "float": safe_float,
        "str": safe_str,
        "bool": safe_bool,
        "list": safe_list,
        "dict": safe_dict,
        "tuple": safe_tuple,
        "set": safe_set,
        "sorted": safe_sorted,
        "reversed": safe_reversed,
        "enumerate": safe_enumerate,
        "zip": safe_zip,
        "range": safe_range,
    }


#: Names of the safe builtins (for messages and lookups that need no evaluation state).
BUILTIN_NAMES = frozenset(make_builtins(Limits(), lambda: None))
