"""Tree-walking interpreter over the validated subset of the Python AST.

Nothing here compiles or executes Python code: every node is interpreted explicitly, every
node evaluation and loop iteration is charged against :class:`Limits`, and names resolve
only to task data, the supplied functions and the safe builtins.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from datetime import date
from datetime import time as time_of_day
from itertools import islice
from typing import Any

from . import methods
from .errors import ExpressionError
from .limits import (
    PRODUCTION_FACTOR,
    PRODUCTION_THRESHOLD,
    Limits,
    check_length,
    check_text_size,
    check_value,
)
from .operators import binary, compare, unary
from .safe_builtins import BUILTIN_NAMES, make_builtins

_MISSING = object()
_SIZED = (str, list, tuple, dict, set, frozenset)
_SELECTING_BUILTINS = frozenset({"min", "max"})  # return existing values
_TIME_CHECK_MASK = 0x3F  # check the wall clock every 64 steps
_MAX_DATE_FORMAT = 200
_FORMAT_SPEC = re.compile(
    r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d+)?[,_]?(?:\.(?P<precision>\d+))?"
    r"[bcdeEfFgGnosxX%]?",
    re.DOTALL,
)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def describe_exception(exc: BaseException) -> str:
    """Message for an error raised while evaluating (keeps the original message)."""
    if isinstance(exc, RecursionError):
        return "data or expression is nested too deeply (recursion limit exceeded)"
    if isinstance(exc, MemoryError):
        return "out of memory (memory limit exceeded)"
    text = str(exc)
    if len(text) > 500:
        text = text[:500] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_storable(value: Any, target: str | None) -> None:
    """Refuse non-data values (functions, iterators...) stored in ``target`` or returned.

    ``target`` names the assignment target; ``None`` means the value is a result.
    """
    if callable(value):
        kind = "a function"
    elif isinstance(value, (Iterator, range, KeysView, ValuesView, ItemsView)):
        kind = f"a {type(value).__name__}"
    else:
        return
    if target is None:
        problem = f"the expression result must be data, not {kind}"
    else:
        problem = f"cannot store {kind} in {target}: only data can be stored"
    if kind != "a function":
        problem += "; convert it with list() first"
    raise ExpressionError(problem)


def _short_repr(value: Any) -> str:
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."
    return f"<{type(value).__name__}>"


class Interpreter:
    """Evaluates one expression or script against ``context`` within ``limits``."""

    def __init__(
        self,
        context: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]],
        limits: Limits,
    ) -> None:
        self.context = context
        self.functions = functions
        self.limits = limits
        self.steps = 0
        self.produced = 0  # total size of large values built so far
        self.deadline = time.monotonic() + limits.max_seconds
        self.scopes: list[dict[str, Any]] = []  # comprehension-local variables
        self._builtins: dict[str, Callable[..., Any]] | None = None

    # --- bookkeeping ---------------------------------------------------------------------

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise ExpressionError(
                f"step limit exceeded: more than {self.limits.max_steps} evaluation steps"
            )
        if not self.steps & _TIME_CHECK_MASK and time.monotonic() > self.deadline:
            raise ExpressionError(
                f"time limit exceeded: evaluation took longer than {self.limits.max_seconds} s"
            )

    def charge(self, value: Any) -> Any:
        """Count a newly built value against the production (memory) budget."""
        if isinstance(value, _SIZED):
            size = len(value)
            if size >= PRODUCTION_THRESHOLD:
                self.produced += size
                budget = self.limits.max_sequence * PRODUCTION_FACTOR
                if self.produced > budget:
                    raise ExpressionError(
                        f"memory limit exceeded: values built by this call exceed {budget} "
                        "items in total"
                    )
        return value

    @property
    def builtins(self) -> dict[str, Callable[..., Any]]:
        if self._builtins is None:
            self._builtins = make_builtins(self.limits, self.tick)
        return self._builtins

    # --- names ---------------------------------------------------------------------------

    def lookup_data(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in self.context:
            return self.context[name]
        return _MISSING

    def resolve_function(self, name: str) -> Callable[..., Any]:
        if name in self.functions:
            return self.functions[name]
        if name in BUILTIN_NAMES:
            return self.builtins[name]
        value = self.lookup_data(name)
        if value is not _MISSING:
            raise ExpressionError(
                f"'{name}' is not a function (it is a {methods.type_label(value)} value)"
            )
        raise ExpressionError(f"function '{name}' is not available")

    def _is_function_name(self, name: str) -> bool:
        return name in self.functions or name in BUILTIN_NAMES

    # --- expressions ---------------------------------------------------------------------

    def visit(self, node: ast.AST) -> Any:
        self.tick()
        return _EVALUATORS[type(node)](self, node)

    def _eval_Expression(self, node: ast.Expression) -> Any:
        return self.visit(node.body)

    def _eval_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _eval_Name(self, node: ast.Name) -> Any:
        value = self.lookup_data(node.id)
        if value is not _MISSING:
            return value
        if self._is_function_name(node.id):
            raise ExpressionError(
                f"function '{node.id}' cannot be used as a value; call it instead"
            )
        raise ExpressionError(f"name '{node.id}' is not defined")

    def _eval_BoolOp(self, node: ast.BoolOp) -> Any:
        is_and = isinstance(node.op, ast.And)
        value: Any = None
        for operand in node.values:
            value = self.visit(operand)
            if bool(value) != is_and:
                return value
        return value

    def _eval_BinOp(self, node: ast.BinOp) -> Any:
        left = self.visit(node.left)
        right = self.visit(node.right)
        return self.charge(binary(type(node.op), left, right, self.limits))

    def _eval_UnaryOp(self, node: ast.UnaryOp) -> Any:
        return unary(type(node.op), self.visit(node.operand), self.limits)

    def _eval_Compare(self, node: ast.Compare) -> Any:
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.visit(comparator)
            result = compare(type(op), left, right)
            if not result:
                return result
            left = right
        return result

    def _eval_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def _elements(self, elements: list[ast.expr]) -> list[Any]:
        values: list[Any] = []
        for element in elements:
            if isinstance(element, ast.Starred):
                values.extend(self._materialize(self.visit(element.value)))
            else:
                values.append(self.visit(element))
            check_length(len(values), self.limits)
        return values

    def _eval_List(self, node: ast.List) -> list[Any]:
        return self.charge(self._elements(node.elts))

    def _eval_Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return self.charge(tuple(self._elements(node.elts)))

    def _eval_Set(self, node: ast.Set) -> set[Any]:
        return self.charge(set(self._elements(node.elts)))

    def _eval_Dict(self, node: ast.Dict) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:  # {**other}
                result.update(self.visit(value))
            else:
                key_value = self.visit(key)
                result[key_value] = self.visit(value)
            check_length(len(result), self.limits)
        return self.charge(result)

    def _eval_Subscript(self, node: ast.Subscript) -> Any:
        container = self.visit(node.value)
        index = self.visit(node.slice)
        try:
            value = container[index]
        except KeyError:
            raise ExpressionError(f"key {_short_repr(index)} not found") from None
        except IndexError:
            raise ExpressionError(f"index {_short_repr(index)} is out of range") from None
        return self.charge(value) if isinstance(index, slice) else value

    def _eval_Slice(self, node: ast.Slice) -> slice:
        lower = None if node.lower is None else self.visit(node.lower)
        upper = None if node.upper is None else self.visit(node.upper)
        step = None if node.step is None else self.visit(node.step)
        return slice(lower, upper, step)

    def _eval_Attribute(self, node: ast.Attribute) -> Any:
        return methods.get_attribute(self.visit(node.value), node.attr)

    def _eval_Call(self, node: ast.Call) -> Any:
        func = node.func
        receiver: Any = _MISSING
        if isinstance(func, ast.Name):
            target = self.resolve_function(func.id)
            produces = func.id not in self.functions and func.id not in _SELECTING_BUILTINS
        elif isinstance(func, ast.Attribute):
            receiver = self.visit(func.value)
            target = methods.get_method(receiver, func.attr, self.limits)
            produces = methods.produces_new_value(receiver, func.attr)
        else:  # refused by the validator; kept as a safety net
            raise ExpressionError(
                "calling this kind of expression is not allowed: "
                "only named functions and methods can be called"
            )
        args = self._elements(node.args)
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise ExpressionError("keyword argument unpacking (**) in calls is not allowed")
            kwargs[keyword.arg] = self._keyword_value(keyword)
        result = target(*args, **kwargs)
        if receiver is not _MISSING:
            check_value(receiver, self.limits)  # in-place methods may have grown it
        check_value(result, self.limits)
        return self.charge(result) if produces else result

    def _keyword_value(self, keyword: ast.keyword) -> Any:
        """Keyword argument value; ``key=<function name>`` may pass a function."""
        value_node = keyword.value
        if keyword.arg == "key" and isinstance(value_node, ast.Name):
            self.tick()
            value = self.lookup_data(value_node.id)
            if value is _MISSING and self._is_function_name(value_node.id):
                return self.resolve_function(value_node.id)
        return self.visit(value_node)

    def _eval_JoinedStr(self, node: ast.JoinedStr) -> str:
        parts = [self.visit(value) for value in node.values]
        text = "".join(parts)
        check_length(len(text), self.limits, "formatted string")
        return self.charge(text)

    def _eval_FormattedValue(self, node: ast.FormattedValue) -> str:
        value = self.visit(node.value)
        if node.conversion != -1:
            check_text_size(value, self.limits)
            converters: dict[int, Callable[[object], str]] = {115: str, 114: repr, 97: ascii}
            converter = converters[node.conversion]
            value = converter(value)
        spec = "" if node.format_spec is None else self.visit(node.format_spec)
        return self._format(value, spec)

    def _format(self, value: Any, spec: str) -> str:
        if not spec:
            check_text_size(value, self.limits)
            return format(value, "")
        if isinstance(value, (date, time_of_day)):  # strftime-style specs
            if len(spec) > _MAX_DATE_FORMAT:
                raise ExpressionError(
                    f"date format is too long (limit is {_MAX_DATE_FORMAT} characters)"
                )
            return format(value, spec)
        match = _FORMAT_SPEC.fullmatch(spec)
        if match is None:
            raise ExpressionError(f"format specification {_short_repr(spec)} is not allowed")
        for part in ("width", "precision"):
            if match.group(part) is not None:
                check_length(int(match.group(part)), self.limits, f"format {part}")
        check_text_size(value, self.limits)
        return format(value, spec)

    # --- comprehensions ------------------------------------------------------------------

    def _comprehension(self, generators: list[ast.comprehension], emit: Callable[[], None]) -> None:
        scope: dict[str, Any] = {}
        self.scopes.append(scope)
        try:
            self._run_generator(generators, 0, scope, emit)
        finally:
            self.scopes.pop()

    def _run_generator(
        self,
        generators: list[ast.comprehension],
        index: int,
        scope: dict[str, Any],
        emit: Callable[[], None],
    ) -> None:
        generator = generators[index]
        for item in self.visit(generator.iter):
            self.tick()
            self._bind_local(generator.target, item, scope)
            if all(self.visit(condition) for condition in generator.ifs):
                if index + 1 == len(generators):
                    emit()
                else:
                    self._run_generator(generators, index + 1, scope, emit)

    def _bind_local(self, target: ast.AST, value: Any, scope: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            scope[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element, item in zip(
                target.elts, self._unpack(value, len(target.elts)), strict=True
            ):
                self._bind_local(element, item, scope)
        else:  # refused by the validator
            raise ExpressionError("comprehension targets must be plain names")

    def _eval_ListComp(self, node: ast.ListComp) -> list[Any]:
        result: list[Any] = []

        def emit() -> None:
            result.append(self.visit(node.elt))
            check_length(len(result), self.limits)

        self._comprehension(node.generators, emit)
        return self.charge(result)

    def _eval_GeneratorExp(self, node: ast.GeneratorExp) -> Iterator[Any]:
        # Evaluated eagerly (bounded by the step limit); behaves as a one-shot iterator.
        result: list[Any] = []

        def emit() -> None:
            result.append(self.visit(node.elt))
            check_length(len(result), self.limits)

        self._comprehension(node.generators, emit)
        return iter(self.charge(result))

    def _eval_SetComp(self, node: ast.SetComp) -> set[Any]:
        result: set[Any] = set()

        def emit() -> None:
            result.add(self.visit(node.elt))
            check_length(len(result), self.limits)

        self._comprehension(node.generators, emit)
        return self.charge(result)

    def _eval_DictComp(self, node: ast.DictComp) -> dict[Any, Any]:
        result: dict[Any, Any] = {}

        def emit() -> None:
            key = self.visit(node.key)
            result[key] = self.visit(node.value)
            check_length(len(result), self.limits)

        self._comprehension(node.generators, emit)
        return self.charge(result)

    # --- helpers -------------------------------------------------------------------------

    def _materialize(self, iterable: Any) -> list[Any]:
        items = list(islice(iter(iterable), self.limits.max_sequence + 1))
        check_length(len(items), self.limits)
        return items

    @staticmethod
    def _unpack(value: Any, count: int) -> list[Any]:
        items = list(islice(iter(value), count + 1))
        if len(items) > count:
            raise ExpressionError(f"too many values to unpack (expected {count})")
        if len(items) < count:
            raise ExpressionError(
                f"not enough values to unpack (expected {count}, got {len(items)})"
            )
        return items

    # --- statements ----------------------------------------------------------------------

    def run(self, module: ast.Module) -> None:
        self.exec_block(module.body)

    def exec_block(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.run_statement(statement)

    def run_statement(self, statement: ast.stmt) -> None:
        self.tick()
        try:
            _EXECUTORS[type(statement)](self, statement)
        except (_Break, _Continue):
            raise
        except ExpressionError as exc:
            if exc.line is None:
                exc.line = statement.lineno
            raise
        except Exception as exc:
            raise ExpressionError(describe_exception(exc), statement.lineno) from exc

    def _exec_Expr(self, node: ast.Expr) -> None:
        self.visit(node.value)

    def _exec_Pass(self, node: ast.Pass) -> None:
        return None

    def _exec_Break(self, node: ast.Break) -> None:
        raise _Break

    def _exec_Continue(self, node: ast.Continue) -> None:
        raise _Continue

    def _exec_Assign(self, node: ast.Assign) -> None:
        value = self.visit(node.value)
        for target in node.targets:
            self.assign(target, value)

    def _exec_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(target, ast.Name):
            current = self.lookup_data(target.id)
            if current is _MISSING:
                raise ExpressionError(f"name '{target.id}' is not defined")
            self._store_name(target.id, self._augmented(node, current))
            return
        if isinstance(target, ast.Subscript):
            container = self.visit(target.value)
            key = self.visit(target.slice)
        elif isinstance(target, ast.Attribute):
            container = self._attribute_owner(target)
            key = target.attr
        else:
            raise ExpressionError(f"cannot assign to {type(target).__name__}")
        value = self._augmented(node, container[key])
        check_storable(value, "a container")
        container[key] = value

    def _augmented(self, node: ast.AugAssign, current: Any) -> Any:
        value = binary(type(node.op), current, self.visit(node.value), self.limits, inplace=True)
        return value if value is current else self.charge(value)

    def _exec_If(self, node: ast.If) -> None:
        if self.visit(node.test):
            self.exec_block(node.body)
        else:
            self.exec_block(node.orelse)

    def _exec_For(self, node: ast.For) -> None:
        for item in self.visit(node.iter):
            self.tick()
            self.assign(node.target, item)
            try:
                self.exec_block(node.body)
            except _Break:
                return
            except _Continue:
                continue
        self.exec_block(node.orelse)

    def _exec_While(self, node: ast.While) -> None:
        while self.visit(node.test):
            try:
                self.exec_block(node.body)
            except _Break:
                return
            except _Continue:
                continue
        self.exec_block(node.orelse)

    def _exec_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._delete(target)

    def _delete(self, target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            if not isinstance(self.context, dict) or target.id not in self.context:
                raise ExpressionError(f"name '{target.id}' is not defined")
            del self.context[target.id]
        elif isinstance(target, ast.Subscript):
            container = self.visit(target.value)
            index = self.visit(target.slice)
            try:
                del container[index]
            except KeyError:
                raise ExpressionError(f"key {_short_repr(index)} not found") from None
        elif isinstance(target, ast.Attribute):
            container = self._attribute_owner(target)
            del container[target.attr]
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._delete(element)
        else:
            raise ExpressionError(f"cannot delete {type(target).__name__}")

    # --- assignment ----------------------------------------------------------------------

    def assign(self, target: ast.AST, value: Any) -> None:
        if isinstance(target, ast.Name):
            self._store_name(target.id, value)
        elif isinstance(target, ast.Subscript):
            check_storable(value, "a container")
            container = self.visit(target.value)
            container[self.visit(target.slice)] = value
            check_value(container, self.limits)
        elif isinstance(target, ast.Attribute):
            check_storable(value, f"'{target.attr}'")
            container = self._attribute_owner(target)
            container[target.attr] = value
            check_value(container, self.limits)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element, item in zip(
                target.elts, self._unpack(value, len(target.elts)), strict=True
            ):
                self.assign(element, item)
        else:
            raise ExpressionError(f"cannot assign to {type(target).__name__}")

    def _store_name(self, name: str, value: Any) -> None:
        check_storable(value, f"'{name}'")
        if not isinstance(self.context, dict):
            raise ExpressionError("the context is read-only")
        self.context[name] = value

    def _attribute_owner(self, target: ast.Attribute) -> dict[Any, Any]:
        owner = self.visit(target.value)
        if not isinstance(owner, dict):
            raise ExpressionError(
                f"cannot set attribute '{target.attr}' on {methods.type_label(owner)}"
            )
        return owner


def _dispatch(prefix: str) -> dict[type, Callable[..., Any]]:
    table: dict[type, Callable[..., Any]] = {}
    for attribute, function in vars(Interpreter).items():
        if attribute.startswith(prefix):
            table[getattr(ast, attribute[len(prefix) :])] = function
    return table


_EVALUATORS = _dispatch("_eval_")
_EXECUTORS = _dispatch("_exec_")
