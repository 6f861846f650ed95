"""Resource limits and the size checks that enforce them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ExpressionError

#: Deepest AST nesting accepted by the validator (keeps the interpreter's recursion shallow).
MAX_NESTING = 100
#: Largest exponent accepted by ``**``.
MAX_EXPONENT = 10_000
#: Largest ``ndigits`` accepted by ``round()``.
MAX_ROUND_DIGITS = 1_000
#: Total size of the large values one call may produce, as a multiple of ``max_sequence``.
#: Bounds memory use: each step may build a value of up to ``max_sequence`` items.
PRODUCTION_FACTOR = 100
#: Values shorter than this are not charged against the production budget.
PRODUCTION_THRESHOLD = 1_024


@dataclass(frozen=True)
class Limits:
    """Per-call resource budget for :func:`evaluate` and :func:`execute`."""

    max_steps: int = 100_000  # AST node evaluations per call (bounds loops/comprehensions)
    max_seconds: float = 1.0  # wall-clock budget per call
    max_sequence: int = 100_000  # max len of any str/list/tuple/dict/set produced
    max_int_bits: int = 4096  # max bit length of ints produced (stops 9**9**9)
    max_source: int = 20_000  # max characters of source text


_SIZED = (str, list, tuple, dict, set, frozenset)


def check_length(length: int, limits: Limits, what: str = "result") -> None:
    """Refuse a (prospective) sequence length above ``limits.max_sequence``."""
    if length > limits.max_sequence:
        raise ExpressionError(
            f"size limit exceeded: {what} would have {length} items "
            f"(limit is {limits.max_sequence})"
        )


def check_int_bits(bits: int, limits: Limits) -> None:
    """Refuse a (prospective) integer bit length above ``limits.max_int_bits``."""
    if bits > limits.max_int_bits:
        raise ExpressionError(
            f"integer size limit exceeded: result would need about {bits} bits "
            f"(limit is {limits.max_int_bits})"
        )


def check_value(value: Any, limits: Limits) -> Any:
    """Check a produced value against the size limits and return it unchanged."""
    if isinstance(value, int):
        if not isinstance(value, bool):
            check_int_bits(value.bit_length(), limits)
    elif isinstance(value, _SIZED):
        check_length(len(value), limits)
    return value


def check_text_size(value: Any, limits: Limits) -> None:
    """Refuse converting ``value`` to text when the text would exceed ``max_sequence``.

    Walks containers iteratively and adds up a lower bound of the printed size, stopping as
    soon as the limit is passed, so huge, shared or cyclic structures are refused cheaply
    instead of being rendered.
    """
    budget = limits.max_sequence
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, bool) or item is None:
            total += 4
        elif isinstance(item, int):
            total += max(1, item.bit_length() * 3 // 10)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= budget:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            if total <= budget:
                stack.extend(item)
        else:
            total += 1
        if total > budget:
            raise ExpressionError(
                f"size limit exceeded: text of the value would be longer than "
                f"{budget} characters (limit)"
            )
