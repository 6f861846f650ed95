"""Public entry points: validate, evaluate, execute."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from .errors import ExpressionError
from .interpreter import Interpreter, check_storable, describe_exception
from .library import default_functions, system_clock
from .limits import Limits
from .validator import parse

_DEFAULT_LIMITS = Limits()
_SYSTEM_FUNCTIONS = default_functions(system_clock)


def validate(source: str, mode: str = "eval") -> None:
    """Check ``source`` without running it.

    Raises SyntaxError (an :class:`ExpressionSyntaxError`, also an ExpressionError) for
    unparsable text and :class:`ExpressionError` for refused constructs. ``mode`` is
    ``"eval"`` (one expression) or ``"exec"`` (a script).
    """
    parse(source, mode, _DEFAULT_LIMITS)


def evaluate(
    source: str,
    context: Mapping[str, Any],
    functions: Mapping[str, Callable[..., Any]] | None = None,
    limits: Limits = _DEFAULT_LIMITS,
) -> Any:
    """Evaluate one expression against ``context`` (task data) and return its value.

    ``functions=None`` means the default library with the system clock; pass ``{}`` for none.
    """
    tree = parse(source, "eval", limits)
    assert isinstance(tree, ast.Expression)
    interpreter = Interpreter(context, _functions(functions), limits)
    try:
        result = interpreter.visit(tree.body)
        check_storable(result, None)
    except ExpressionError:
        raise
    except Exception as exc:
        raise ExpressionError(describe_exception(exc)) from exc
    return result


def execute(
    source: str,
    context: dict[str, Any],
    functions: Mapping[str, Callable[..., Any]] | None = None,
    limits: Limits = _DEFAULT_LIMITS,
) -> None:
    """Run a script; assignments to top-level names are written into ``context``."""
    tree = parse(source, "exec", limits)
    assert isinstance(tree, ast.Module)
    interpreter = Interpreter(context, _functions(functions), limits)
    try:
        interpreter.run(tree)
    except ExpressionError:
        raise
    except Exception as exc:
        raise ExpressionError(describe_exception(exc)) from exc


def _functions(
    functions: Mapping[str, Callable[..., Any]] | None,
) -> Mapping[str, Callable[..., Any]]:
    return _SYSTEM_FUNCTIONS if functions is None else functions
