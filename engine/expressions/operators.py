"""Operators with size checks (no operator may build an oversized int, str or list)."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from .errors import ExpressionError
from .limits import MAX_EXPONENT, Limits, check_int_bits, check_length, check_value

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.BitAnd: operator.and_,
}

_INPLACE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.iadd,
    ast.Sub: operator.isub,
    ast.Mult: operator.imul,
    ast.Div: operator.itruediv,
    ast.FloorDiv: operator.ifloordiv,
    ast.Mod: operator.imod,
    ast.Pow: operator.ipow,
    ast.LShift: operator.ilshift,
    ast.RShift: operator.irshift,
    ast.BitOr: operator.ior,
    ast.BitXor: operator.ixor,
    ast.BitAnd: operator.iand,
}

_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
}


def _contains(container: Any, item: Any) -> bool:
    return item in container


def _not_contains(container: Any, item: Any) -> bool:
    return item not in container


_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda left, right: _contains(right, left),
    ast.NotIn: lambda left, right: _not_contains(right, left),
}

_SEQUENCES = (str, list, tuple)


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float))


def _check_mult(left: Any, right: Any, limits: Limits) -> None:
    if isinstance(left, _SEQUENCES) and _is_int(right):
        check_length(len(left) * max(right, 0), limits, "repeated sequence")
    elif _is_int(left) and isinstance(right, _SEQUENCES):
        check_length(len(right) * max(left, 0), limits, "repeated sequence")
    elif _is_int(left) and _is_int(right) and left and right:
        check_int_bits(left.bit_length() + right.bit_length() - 1, limits)


def _check_pow(base: Any, exponent: Any, limits: Limits) -> None:
    if _is_real(exponent) and abs(exponent) > MAX_EXPONENT:
        raise ExpressionError(f"exponent exceeds the limit of {MAX_EXPONENT}")
    if _is_int(base) and _is_int(exponent) and exponent > 0:
        bits = abs(base).bit_length()
        if bits > 1:
            check_int_bits((bits - 1) * exponent + 1, limits)


def _check_lshift(value: Any, shift: Any, limits: Limits) -> None:
    if _is_int(value) and _is_int(shift) and value and shift > 0:
        check_int_bits(value.bit_length() + shift, limits)


def binary(op: type, left: Any, right: Any, limits: Limits, inplace: bool = False) -> Any:
    """Apply the binary operator ``op`` (an ``ast`` operator class) with size checks."""
    if op is ast.Mult:
        _check_mult(left, right, limits)
    elif op is ast.Pow:
        _check_pow(left, right, limits)
    elif op is ast.LShift:
        _check_lshift(left, right, limits)
    elif op is ast.Mod and isinstance(left, str):
        raise ExpressionError("string formatting with '%' is not allowed; use an f-string")
    table = _INPLACE if inplace else _BINARY
    return check_value(table[op](left, right), limits)


def unary(op: type, operand: Any, limits: Limits) -> Any:
    return check_value(_UNARY[op](operand), limits)


def compare(op: type, left: Any, right: Any) -> Any:
    return _COMPARE[op](left, right)
