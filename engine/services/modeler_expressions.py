"""The restricted expression language as the modeler sees it: a syntax check with a Chinese
message (the check as you type and the validation use the same one), the variables an
expression reads or a script writes, and whether an exclusive gateway's conditions cover every
case."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass

from engine.expressions import ExpressionError, Limits
from engine.expressions.safe_builtins import BUILTIN_NAMES
from engine.expressions.validator import parse

LIMITS = Limits()
# what the engine's runtime offers besides the data: the date library and the calendar helpers
FUNCTION_NAMES = frozenset(
    {
        "now",
        "today",
        "date",
        "datetime",
        "timedelta",
        "parse_date",
        "parse_datetime",
        "add_days",
        "iso",
        "duration",
        "workdays",
        "days",
        "is_workday",
    }
)
CONSTANTS = frozenset({"True", "False", "None"})


@dataclass(frozen=True)
class ExpressionCheck:
    ok: bool
    message: str = ""
    line: int | None = None
    column: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "message": self.message, "line": self.line, "column": self.column}


_SYNTAX_DETAILS = (
    ("was never closed", "括号未闭合"),
    ("unmatched", "括号不匹配"),
    ("does not match opening parenthesis", "括号不匹配"),
    ("unterminated string", "字符串缺少结束引号"),
    ("unterminated triple-quoted string", "字符串缺少结束引号"),
    ("unexpected EOF", "表达式不完整"),
    ("expected ':'", "缺少冒号"),
    ("invalid character", "含有不允许的字符（如全角标点）"),
    ("invalid decimal literal", "数字写法有误"),
    ("cannot assign to", "不能给该项赋值"),
    ("forgot a comma", "可能缺少逗号"),
    ("indent", "缩进不正确"),
    ("Maybe you meant '==' or ':=' instead of '='", "条件中比较相等应写 =="),
    ("outside loop", "break/continue 只能写在循环内"),
    ("nested too deeply", "嵌套过深"),
)
_REFUSED = (
    ("import statements", "不允许导入模块"),
    ("function definitions", "不允许定义函数"),
    ("class definitions", "不允许定义类"),
    ("lambda", "不允许使用 lambda"),
    ("'with'", "不允许使用 with 语句"),
    ("'try'", "不允许使用 try 语句"),
    ("'raise'", "不允许使用 raise 语句"),
    ("'global'", "不允许使用 global"),
    ("'nonlocal'", "不允许使用 nonlocal"),
    ("'return'", "不允许使用 return"),
    ("'yield'", "不允许使用 yield"),
    ("async", "不允许使用异步写法"),
    ("'assert'", "不允许使用 assert"),
    ("annotated assignments", "不允许带类型注解的赋值"),
    ("assignment expressions", "不允许使用 := 赋值"),
    ("'@' operator", "不允许使用 @ 运算符"),
    ("'match'", "不允许使用 match 语句"),
    ("keyword argument unpacking", "调用时不允许使用 ** 展开"),
    ("starred assignment", "不允许使用 *x 形式赋值"),
    ("comprehension targets", "推导式的循环变量只能是名称"),
    ("only named functions", "只能调用具名的函数或方法"),
    ("nested too deeply", "嵌套过深"),
    ("literals are not allowed", "不允许此类常量"),
    ("integer literal exceeds", "整数过大"),
)


def check(text: str, mode: str = "eval") -> ExpressionCheck:
    """Parse `text` in the restricted language (never run it)."""
    if mode not in ("eval", "exec"):
        mode = "eval"
    if not text.strip():
        return ExpressionCheck(False, "表达式为空")
    try:
        parse(text, mode, LIMITS)
    except SyntaxError as exc:
        return ExpressionCheck(False, _syntax_message(exc), exc.lineno or None, exc.offset or None)
    except ExpressionError as exc:
        return ExpressionCheck(False, _refused_message(exc.message), exc.line)
    return ExpressionCheck(True)


def _syntax_message(exc: SyntaxError) -> str:
    detail = str(getattr(exc, "message", "") or exc.msg or "")
    where = ""
    if exc.lineno:
        where = (
            f"（第 {exc.lineno} 行第 {exc.offset} 列）" if exc.offset else f"（第 {exc.lineno} 行）"
        )
    for english, chinese in _SYNTAX_DETAILS:
        if english in detail:
            return f"语法错误{where}：{chinese}"
    return f"语法错误{where}：无法解析"


def _refused_message(message: str) -> str:
    if message.startswith("source text is too long"):
        return f"表达式过长（上限 {LIMITS.max_source} 个字符）"
    found = re.search(r"names starting with '_' are not allowed: (\S+)", message)
    if found:
        return f"名称不能以下划线开头：{found.group(1)}"
    found = re.search(r"function '([^']+)' is not available", message)
    if found:
        return f"不能调用函数 {found.group(1)}"
    found = re.search(r"method '([^']+)' is not allowed", message)
    if found:
        return f"不能调用方法 {found.group(1)}（文字拼接请用 f-string）"
    found = re.search(r"attribute '([^']+)' is not allowed", message)
    if found:
        return f"不能访问属性 {found.group(1)}"
    for english, chinese in _REFUSED:
        if english in message:
            return chinese
    return "使用了表达式语言不允许的写法"


def _tree(text: str, mode: str) -> ast.AST | None:
    try:
        return parse(text, mode, LIMITS)
    except (SyntaxError, ExpressionError):
        return None


def names_read(text: str, mode: str) -> set[str]:
    """Data names the expression reads: loaded names that are not builtins, functions, names
    bound inside comprehensions, or (for scripts) names the script assigned earlier."""
    tree = _tree(text, mode)
    if tree is None:
        return set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            bound |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    read: set[str] = set()
    assigned: set[str] = set()
    for node in _in_order(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                assigned.add(node.id)
            elif node.id not in assigned:
                read.add(node.id)
    return read - bound - BUILTIN_NAMES - FUNCTION_NAMES - CONSTANTS


def _in_order(tree: ast.AST) -> Iterable[ast.AST]:
    """Nodes roughly in execution order: an assignment's value before its targets."""
    if isinstance(tree, ast.Assign | ast.AugAssign | ast.AnnAssign):
        if tree.value is not None:
            yield from _in_order(tree.value)
        targets = tree.targets if isinstance(tree, ast.Assign) else [tree.target]
        for target in targets:
            if isinstance(tree, ast.AugAssign) and isinstance(target, ast.Name):
                yield ast.Name(id=target.id, ctx=ast.Load())
            yield from _in_order(target)
        return
    yield tree
    for child in ast.iter_child_nodes(tree):
        yield from _in_order(child)


def names_written(script: str) -> set[str]:
    """Top-level data names a script assigns (for-loop variables included)."""
    tree = _tree(script, "exec")
    if tree is None:
        return set()
    written = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            written.add(node.id)
    return written


def conditions_complete(conditions: list[str], options: dict[str, set[object]]) -> bool:
    """Whether the conditions of an exclusive gateway's flows certainly cover every case: one
    is the negation of another (`x` / `not x`, `a < n` / `a >= n`, `a == v` / `a != v`), or
    they compare one variable with every value it can take (`options`: a form field's enum,
    a decision table's outputs, True/False)."""
    trees = [t for t in (_expression(c) for c in conditions) if t is not None]
    dumped = [ast.dump(t) for t in trees]
    for tree in trees:
        if ast.dump(_negated(tree)) in dumped:
            return True
    compared: dict[str, set[object]] = {}
    for tree in trees:
        found = _equality(tree)
        if found is None:
            continue
        name, values = found
        compared.setdefault(name, set()).update(values)
    for name, values in compared.items():
        possible = options.get(name)
        if possible and possible <= values:
            return True
        if values >= {True, False}:
            return True
    return False


def _expression(text: str) -> ast.expr | None:
    tree = _tree(text, "eval")
    return tree.body if isinstance(tree, ast.Expression) else None


_OPPOSITE = {
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


def _negated(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return node.operand
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _OPPOSITE:
        return ast.Compare(node.left, [_OPPOSITE[type(node.ops[0])]()], node.comparators)
    return ast.UnaryOp(ast.Not(), node)


def _equality(node: ast.expr) -> tuple[str, set[object]] | None:
    """`x == v`, `v == x`, `x in (v, w)`, `x` (== True) and `not x` (== False)."""
    if isinstance(node, ast.Name):
        return node.id, {True}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        if isinstance(node.operand, ast.Name):
            return node.operand.id, {False}
        return None
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return None
    left, right, op = node.left, node.comparators[0], node.ops[0]
    if isinstance(op, ast.Eq | ast.Is):
        if isinstance(right, ast.Name) and isinstance(left, ast.Constant):
            left, right = right, left
        if isinstance(left, ast.Name) and isinstance(right, ast.Constant):
            return left.id, {right.value}
    listed = isinstance(right, ast.Tuple | ast.List | ast.Set) and all(
        isinstance(e, ast.Constant) for e in right.elts
    )
    if isinstance(op, ast.In) and isinstance(left, ast.Name) and listed:
        return left.id, {e.value for e in right.elts}  # type: ignore[attr-defined]
    return None
