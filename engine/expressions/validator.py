"""Parsing and static validation of expression/script source text.

Source text is parsed with :func:`ast.parse` only; it is never compiled to Python code.
The resulting tree is then checked against a whitelist of node types and name rules, so
refused constructs are reported before anything runs (and by :func:`validate`, at design
time).
"""

from __future__ import annotations

import ast
import textwrap
from functools import lru_cache

from .errors import ExpressionError, ExpressionSyntaxError
from .limits import MAX_NESTING, Limits

MODES = ("eval", "exec")

_EXPRESSION_NODES: frozenset[type] = frozenset(
    {
        ast.Expression,
        ast.Constant,
        ast.Name,
        ast.Load,
        ast.Store,
        ast.Del,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.BinOp,
        ast.Add,
        ast.Sub,
        ast.Mult,
        ast.Div,
        ast.FloorDiv,
        ast.Mod,
        ast.Pow,
        ast.LShift,
        ast.RShift,
        ast.BitOr,
        ast.BitXor,
        ast.BitAnd,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.Invert,
        ast.Compare,
        ast.Eq,
        ast.NotEq,
        ast.Lt,
        ast.LtE,
        ast.Gt,
        ast.GtE,
        ast.Is,
        ast.IsNot,
        ast.In,
        ast.NotIn,
        ast.IfExp,
        ast.Dict,
        ast.List,
        ast.Tuple,
        ast.Set,
        ast.Subscript,
        ast.Slice,
        ast.ListComp,
        ast.SetComp,
        ast.DictComp,
        ast.GeneratorExp,
        ast.comprehension,
        ast.Call,
        ast.keyword,
        ast.Attribute,
        ast.JoinedStr,
        ast.FormattedValue,
        ast.Starred,
    }
)

_STATEMENT_NODES: frozenset[type] = frozenset(
    {
        ast.Module,
        ast.Assign,
        ast.AugAssign,
        ast.If,
        ast.For,
        ast.While,
        ast.Break,
        ast.Continue,
        ast.Pass,
        ast.Expr,
        ast.Delete,
    }
)

_ALLOWED = {"eval": _EXPRESSION_NODES, "exec": _EXPRESSION_NODES | _STATEMENT_NODES}

_REFUSED_DESCRIPTIONS: dict[str, str] = {
    "Import": "import statements are not allowed",
    "ImportFrom": "import statements are not allowed",
    "FunctionDef": "function definitions are not allowed",
    "AsyncFunctionDef": "function definitions are not allowed",
    "ClassDef": "class definitions are not allowed",
    "Lambda": "lambda expressions are not allowed",
    "With": "'with' statements are not allowed",
    "AsyncWith": "'with' statements are not allowed",
    "Try": "'try' statements are not allowed",
    "TryStar": "'try' statements are not allowed",
    "Raise": "'raise' statements are not allowed",
    "Global": "'global' declarations are not allowed",
    "Nonlocal": "'nonlocal' declarations are not allowed",
    "Return": "'return' statements are not allowed",
    "Yield": "'yield' is not allowed",
    "YieldFrom": "'yield' is not allowed",
    "Await": "async code is not allowed",
    "AsyncFor": "async code is not allowed",
    "Assert": "'assert' statements are not allowed",
    "AnnAssign": "annotated assignments are not allowed",
    "NamedExpr": "assignment expressions (:=) are not allowed",
    "MatMult": "the '@' operator is not allowed",
    "Match": "'match' statements are not allowed",
}

#: Attribute names refused everywhere (interpreter internals reachable in real Python).
DENIED_ATTRIBUTES = frozenset(
    {
        "mro",
        "format_map",
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "tb_frame",
        "tb_next",
        "func_globals",
        "func_code",
        "im_func",
        "im_self",
        "im_class",
    }
)

#: Methods refused when called (``str.format`` can reach attributes through field names).
DENIED_METHODS = frozenset({"format", "format_map"})

#: Function names that are never callable, whatever ``functions`` contains.
DENIED_FUNCTIONS = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "vars",
        "dir",
        "globals",
        "locals",
        "open",
        "type",
        "object",
        "super",
        "input",
        "print",
        "memoryview",
        "bytearray",
        "bytes",
        "breakpoint",
        "help",
        "exit",
        "quit",
        "format",
    }
)

_CONSTANT_TYPES = (str, int, float, bool, type(None))


def parse(source: str, mode: str, limits: Limits) -> ast.AST:
    """Parse and validate ``source``; return the (cached, read-only) syntax tree."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    if not isinstance(source, str):
        raise ExpressionError(f"source must be a string, not {type(source).__name__}")
    if len(source) > limits.max_source:
        raise ExpressionError(
            f"source text is too long: {len(source)} characters exceeds the limit of "
            f"{limits.max_source}"
        )
    return _parse_cached(source, mode, limits.max_int_bits)


@lru_cache(maxsize=1024)
def _parse_cached(source: str, mode: str, max_int_bits: int) -> ast.AST:
    text = source.strip() if mode == "eval" else textwrap.dedent(source)
    try:
        tree = ast.parse(text, mode=mode)
    except SyntaxError as exc:
        message = exc.msg or "invalid syntax"
        if "too many nested" in message:
            message = f"expression is nested too deeply ({message}; parser limit)"
        else:
            message = f"syntax error: {message}"
        raise ExpressionSyntaxError(message, exc.lineno, exc.offset, exc.text) from None
    except (RecursionError, MemoryError):
        raise ExpressionSyntaxError(
            "expression is nested too deeply or is too complex to parse (parser limit)"
        ) from None
    except ValueError as exc:  # e.g. NUL characters in the source
        raise ExpressionSyntaxError(f"syntax error: {exc}") from None
    _check_tree(tree, mode, max_int_bits)
    return tree


def _check_tree(tree: ast.AST, mode: str, max_int_bits: int) -> None:
    allowed = _ALLOWED[mode]
    # Iterative walk: (node, nesting depth, inside a loop body)
    stack: list[tuple[ast.AST, int, bool]] = [(tree, 0, False)]
    while stack:
        node, depth, in_loop = stack.pop()
        line = getattr(node, "lineno", None) if mode == "exec" else None
        if depth > MAX_NESTING:
            raise ExpressionError(
                f"expression is nested too deeply (limit is {MAX_NESTING} levels)", line
            )
        kind = type(node)
        if kind not in allowed:
            name = kind.__name__
            message = _REFUSED_DESCRIPTIONS.get(name, f"{name} is not allowed")
            raise ExpressionError(message, line)
        problem = _check_node(node, max_int_bits)
        if problem is not None:
            raise ExpressionError(problem, line)
        if kind in (ast.Break, ast.Continue) and not in_loop:
            keyword = "break" if kind is ast.Break else "continue"
            raise ExpressionSyntaxError(f"'{keyword}' outside loop", line)
        if kind in (ast.For, ast.While):
            body_ids = {id(child) for child in node.body}  # type: ignore[attr-defined]
            for child in ast.iter_child_nodes(node):
                stack.append((child, depth + 1, in_loop or id(child) in body_ids))
        else:
            for child in ast.iter_child_nodes(node):
                stack.append((child, depth + 1, in_loop))


def _check_node(node: ast.AST, max_int_bits: int) -> str | None:
    """Return a refusal message for ``node``, or None when it is acceptable."""
    if isinstance(node, ast.Constant):
        value = node.value
        if not isinstance(value, _CONSTANT_TYPES):
            return f"{type(value).__name__} literals are not allowed"
        if isinstance(value, int) and value.bit_length() > max_int_bits:
            return f"integer literal exceeds the size limit of {max_int_bits} bits"
    elif isinstance(node, ast.Name):
        return _check_identifier(node.id)
    elif isinstance(node, ast.Attribute):
        problem = _check_identifier(node.attr)
        if problem is None and node.attr in DENIED_ATTRIBUTES:
            problem = f"attribute '{node.attr}' is not allowed"
        return problem
    elif isinstance(node, ast.Call):
        return _check_call(node)
    elif isinstance(node, ast.keyword):
        if node.arg is None:
            return "keyword argument unpacking (**) in calls is not allowed"
        return _check_identifier(node.arg)
    elif isinstance(node, ast.Starred):
        if not isinstance(node.ctx, ast.Load):
            return "starred assignment targets (*x) are not allowed"
    elif isinstance(node, ast.comprehension):
        if node.is_async:
            return "async code is not allowed"
        if not _is_name_target(node.target):
            return "comprehension targets must be plain names"
    return None


def _check_call(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        if func.id in DENIED_FUNCTIONS:
            return f"function '{func.id}' is not available"
    elif isinstance(func, ast.Attribute):
        if func.attr in DENIED_METHODS:
            return f"method '{func.attr}' is not allowed (use an f-string instead)"
    else:
        return (
            "calling this kind of expression is not allowed: "
            "only named functions and methods can be called"
        )
    return None


def _check_identifier(name: str) -> str | None:
    if name.startswith("_") and name != "_":
        return f"names starting with '_' are not allowed: {name}"
    return None


def _is_name_target(target: ast.AST) -> bool:
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_is_name_target(element) for element in target.elts)
    return False
