"""Sandbox escape and resource exhaustion attempts against engine.expressions.

Every payload must be refused with an ExpressionError whose message says clearly what was
refused, and must be refused quickly.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from engine.expressions import ExpressionError, Limits, default_functions, evaluate, execute
from engine.expressions.limits import MAX_NESTING

DATA = {"x": {"name": "data"}, "items": [1, 2, 3], "text": "abc", "n": 5}
FUNCTIONS = default_functions(lambda: datetime(2024, 1, 1, tzinfo=UTC))

# (payload, mode, expected fragment of the message)
PAYLOADS = [
    # introspection through dunder attributes
    ("().__class__.__base__.__subclasses__()", "eval", "names starting with '_' are not allowed"),
    ("[].__class__.__mro__", "eval", "names starting with '_' are not allowed: __mro__"),
    ("{}.__class__", "eval", "names starting with '_' are not allowed: __class__"),
    ("x.__dict__", "eval", "names starting with '_' are not allowed: __dict__"),
    ("str.__dict__", "eval", "names starting with '_' are not allowed: __dict__"),
    ("''.join.__self__", "eval", "names starting with '_' are not allowed: __self__"),
    ("(1).__class__", "eval", "not allowed"),
    ("[c for c in ().__class__.__bases__]", "eval", "not allowed"),
    ("__builtins__", "eval", "names starting with '_' are not allowed: __builtins__"),
    ("__import__('os').system('id')", "eval", "names starting with '_' are not allowed"),
    ("x.mro", "eval", "attribute 'mro' is not allowed"),
    ("x.gi_frame", "eval", "attribute 'gi_frame' is not allowed"),
    ("x.f_globals", "eval", "attribute 'f_globals' is not allowed"),
    ("x.gi_frame.f_back.f_globals", "eval", "not allowed"),
    ("text.upper", "eval", "must be called"),
    ("text.encode()", "eval", "method 'encode' is not available on str"),
    ("n.bit_length()", "eval", "method 'bit_length' is not available on int"),
    ("items.__len__()", "eval", "not allowed"),
    ("f(**{'__x': 1})", "eval", "not allowed"),
    ("dict(__class__=1)", "eval", "names starting with '_' are not allowed"),
    # format-string escapes
    ('"{0.__class__}".format(1)', "eval", "method 'format' is not allowed"),
    ("\"{x.__init__}\".format_map({'x': 1})", "eval", "not allowed"),
    ('f"{().__class__}"', "eval", "names starting with '_' are not allowed: __class__"),
    ('f"{text:{text}}"', "eval", "format specification 'abc' is not allowed"),
    ('"%s" % text', "eval", "string formatting with '%' is not allowed"),
    # dangerous functions
    ("open('/etc/passwd').read()", "eval", "function 'open' is not available"),
    ("getattr(1, '__class__')", "eval", "function 'getattr' is not available"),
    ("eval('1')", "eval", "function 'eval' is not available"),
    ("exec('x=1')", "eval", "function 'exec' is not available"),
    ("compile('1', '', 'eval')", "eval", "function 'compile' is not available"),
    ("globals()", "eval", "function 'globals' is not available"),
    ("vars()", "eval", "function 'vars' is not available"),
    ("locals()", "eval", "function 'locals' is not available"),
    ("dir()", "eval", "function 'dir' is not available"),
    ("type(1)", "eval", "function 'type' is not available"),
    ("print(1)", "eval", "function 'print' is not available"),
    ("breakpoint()", "eval", "function 'breakpoint' is not available"),
    ("help()", "eval", "function 'help' is not available"),
    ("input()", "eval", "function 'input' is not available"),
    ("memoryview(b'')", "eval", "not available"),
    ("setattr(x, 'a', 1)", "eval", "function 'setattr' is not available"),
    ("iter(items)", "eval", "function 'iter' is not available"),
    ("date.today()", "eval", "function 'date' cannot be used as a value"),
    ("now().astimezone()", "eval", "method 'astimezone' is not available on datetime"),
    ("now().tzinfo", "eval", "attribute 'tzinfo' is not available on datetime"),
    ("items[0](1)", "eval", "only named functions and methods can be called"),
    ("len.x", "eval", "function 'len' cannot be used as a value"),
    ("[len]", "eval", "function 'len' cannot be used as a value"),
    ("b'data'", "eval", "bytes literals are not allowed"),
    ("1j", "eval", "complex literals are not allowed"),
    # refused syntax
    ("lambda: 1", "eval", "lambda expressions are not allowed"),
    ("(lambda: 1).__code__", "eval", "not allowed"),
    ("(y := 1)", "eval", "assignment expressions (:=) are not allowed"),
    ("import os", "exec", "import statements are not allowed"),
    ("from os import path", "exec", "import statements are not allowed"),
    ("def f(): pass", "exec", "function definitions are not allowed"),
    ("class A: pass", "exec", "class definitions are not allowed"),
    ("with open('f') as fh: pass", "exec", "'with' statements are not allowed"),
    ("try:\n    pass\nexcept Exception:\n    pass", "exec", "'try' statements are not allowed"),
    ("raise ValueError()", "exec", "'raise' statements are not allowed"),
    ("global x", "exec", "'global' declarations are not allowed"),
    ("assert False", "exec", "'assert' statements are not allowed"),
    ("y: int = 1", "exec", "annotated assignments are not allowed"),
    ("x.__class__ = 1", "exec", "names starting with '_' are not allowed"),
    ("__builtins__ = {}", "exec", "names starting with '_' are not allowed"),
    ("a, *b = items", "exec", "starred assignment targets (*x) are not allowed"),
    # storing non-data into the context
    ("f = len", "exec", "function 'len' cannot be used as a value"),
    ("f = text.upper", "exec", "method 'upper' of str must be called"),
    ("g = (i for i in items)", "exec", "cannot store a list_iterator in 'g'"),
    ("r = range(3)", "exec", "cannot store a range in 'r'"),
    ("k = x.keys()", "exec", "cannot store a dict_keys in 'k'"),
    ("zip(items, items)", "eval", "the expression result must be data, not a zip"),
    # resource exhaustion
    ("9**9**9", "eval", "exponent exceeds the limit"),
    ("2**100000", "eval", "exponent exceeds the limit"),
    ("10**5000", "eval", "integer size limit exceeded"),
    ("1 << 10**6", "eval", "integer size limit exceeded"),
    ("'a'*10**9", "eval", "size limit exceeded"),
    ("[0]*10**9", "eval", "size limit exceeded"),
    ("10**9 * (1,)", "eval", "size limit exceeded"),
    ("[x for x in range(10**9)]", "eval", "size limit exceeded: range"),
    ("sum(x for x in range(10**8))", "eval", "size limit exceeded: range"),
    ("range(10**30)", "eval", "size limit exceeded: range"),
    ("[1 for a in items*30000 for b in items*30000]", "eval", "limit exceeded"),
    ("'a'.ljust(10**9)", "eval", "size limit exceeded"),
    ("'x'.zfill(10**9)", "eval", "size limit exceeded"),
    ("('x' * 50000).join(['a'] * 50000)", "eval", "size limit exceeded"),
    ("('a' * 50000).replace('a', 'bbbb')", "eval", "size limit exceeded"),
    ("f'{1:1000000000}'", "eval", "size limit exceeded: format width"),
    ("f'{1.5:.1000000000f}'", "eval", "size limit exceeded: format precision"),
    ("str(['a' * 1000] * 1000)", "eval", "size limit exceeded: text"),
    ("round(10, -10**9)", "eval", "exceed the limit"),
    ("int('9' * 5000)", "eval", "limit"),
    ("while True: pass", "exec", "step limit exceeded"),
    ("while True:\n    items.append(1)", "exec", "limit exceeded"),
    ("s = 'ab'\nwhile True:\n    s = s + s", "exec", "size limit exceeded"),
    ("xs = [1]\nwhile True:\n    xs.extend(xs)", "exec", "size limit exceeded"),
    ("d = {}\ni = 0\nwhile True:\n    d[i] = i\n    i += 1", "exec", "step limit exceeded"),
    ("n = 2\nwhile True:\n    n = n * n", "exec", "integer size limit exceeded"),
    ("for i in items:\n    items.append(i)", "exec", "limit exceeded"),
    ("x = []\nfor i in range(5000):\n    x = [x]\ny = str(x)", "exec", "recursion limit"),
    ("a = []\na.append(a)\nb = f'{a}'", "exec", "size limit exceeded: text"),
    # memory: many large values, each within max_sequence
    ("s = 'a' * 99000\nys = [s[i:] for i in range(30000)]", "exec", "memory limit exceeded"),
    ("s = 'a' * 99000\nys = [s.upper() for i in range(30000)]", "exec", "memory limit exceeded"),
    (
        "s = 'a' * 99000\nxs = []\nfor i in range(30000):\n    xs.append(s + str(i))",
        "exec",
        "memory limit exceeded",
    ),
    ("s = ['a'] * 99000\nys = [s.copy() for i in range(30000)]", "exec", "memory limit exceeded"),
    # parser and interpreter nesting
    ("[" * 10_000 + "]" * 10_000, "eval", "nested too deeply"),
    ("(" * 9_000 + "1" + ")" * 9_000, "eval", "nested too deeply"),
    ("not " * 4_000 + "x", "eval", "parser limit"),
    ("-" * 15_000 + "1", "eval", "parser limit"),
    ("x" + ".y" * (MAX_NESTING + 5), "eval", f"limit is {MAX_NESTING} levels"),
    ("1" + "+1" * 3_000, "eval", "limit"),
    ("x = " + "[" * 150 + "]" * 150, "exec", "nested too deeply"),
    # source size
    ("1 + " * 6_000 + "1", "eval", "source text is too long"),
    ("a = 1\n" * 5_000, "exec", "source text is too long"),
]


def _ids():
    return [f"{index}-{payload[:40]!r}" for index, (payload, _, _) in enumerate(PAYLOADS)]


@pytest.mark.parametrize(("payload", "mode", "fragment"), PAYLOADS, ids=_ids())
def test_payload_is_refused_quickly_with_a_clear_message(payload, mode, fragment):
    context = {"x": {"name": "data"}, "items": [1, 2, 3], "text": "abc", "n": 5}
    started = time.monotonic()
    with pytest.raises(ExpressionError) as info:
        if mode == "eval":
            evaluate(payload, context, FUNCTIONS)
        else:
            execute(payload, context, FUNCTIONS)
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert fragment in message, message
    assert any(
        word in message for word in ("not allowed", "not available", "limit", "cannot", "must")
    ), message
    assert elapsed < 2.0, f"took {elapsed:.2f}s"


def test_refused_assignment_leaves_no_function_in_context():
    context = {}
    with pytest.raises(ExpressionError):
        execute("ok = 1\nf = len", context)
    assert context == {"ok": 1}
    assert not any(callable(value) for value in context.values())


def test_time_limit_is_enforced():
    started = time.monotonic()
    with pytest.raises(ExpressionError, match="time limit exceeded"):
        execute(
            "while True:\n    x = sum(range(50000))",
            {},
            limits=Limits(max_steps=10**9, max_seconds=0.3),
        )
    assert time.monotonic() - started < 2.0


def test_escape_attempts_do_not_leak_python_objects():
    """Values reachable from expressions are data; no type, module or frame comes back."""
    for source in ("items", "x", "text.split('b')", "now()", "dict(a=1)", "items[::-1]"):
        value = evaluate(source, dict(DATA), FUNCTIONS)
        assert not callable(value)
        assert type(value).__module__ in {"builtins", "datetime"}
