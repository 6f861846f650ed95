"""Camunda's expression language (JUEL, `${...}`) translated into the restricted expression
language (Python syntax), for models imported from Camunda Modeler.

Covered: literals (numbers, 'strings', true, false, null), variables and properties (`a.b`,
`a['b']`), calls, `!`/`not`, `empty`, arithmetic (`div`, `mod`), comparisons (`eq`, `ne`,
`lt`, `gt`, `le`, `ge`), `&&`/`and`, `||`/`or` and `? :`. Anything else raises
NotTranslatable with a Chinese reason; the caller lists it against the element."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EXPRESSION = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()\[\]])
    )""",
    re.VERBOSE,
)
_WORD_OPS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "div": "/",
    "mod": "%",
}
_CONSTANTS = {"true": "True", "false": "False", "null": "None"}
_BINARY_LEVELS: tuple[tuple[str, ...], ...] = (
    ("||",),
    ("&&",),
    ("==", "!="),
    ("<", ">", "<=", ">="),
    ("+", "-"),
    ("*", "/", "%"),
)
_PYTHON_OPS = {"||": "or", "&&": "and"}


class NotTranslatable(ValueError):
    """The text is not an expression this translator can turn into the restricted language."""


@dataclass(frozen=True)
class _Token:
    kind: str  # number | string | name | op
    text: str


def is_expression(text: str | None) -> bool:
    """Whether the whole text is one `${...}` or `#{...}` expression."""
    return bool(text and _EXPRESSION.match(text))


def expression_body(text: str) -> str:
    match = _EXPRESSION.match(text)
    if not match:
        raise NotTranslatable(f"“{text.strip()}”不是 ${{...}} 表达式")
    return match.group("body")


def variable_of(text: str) -> str | None:
    """`${name}` (or a bare name) → name; None for anything else."""
    body = expression_body(text) if is_expression(text) else text
    body = body.strip()
    return body if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", body) else None


def translate(text: str) -> str:
    """`${amount > 1000 && !urgent}` → `((amount > 1000) and (not urgent))`."""
    tokens = _tokens(expression_body(text))
    if not tokens:
        raise NotTranslatable("表达式为空")
    parser = _Parser(tokens)
    result = parser.ternary()
    if parser.position != len(tokens):
        raise NotTranslatable(f"无法识别“{tokens[parser.position].text}”及其后的内容")
    return result


def _tokens(body: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(body):
        if not body[position:].strip():
            break
        match = _TOKEN.match(body, position)
        if not match or match.end() == position:
            raise NotTranslatable(f"无法识别的字符“{body[position:].strip()[:10]}”")
        kind = match.lastgroup or "op"
        text = match.group(kind)
        if kind == "name" and text in _WORD_OPS:
            kind, text = "op", _WORD_OPS[text]
        tokens.append(_Token(kind, text))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over JUEL's precedence levels, emitting fully parenthesised Python."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, text: str | None = None) -> _Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            expected = f"“{text}”" if text else "更多内容"
            raise NotTranslatable(f"表达式不完整：缺少{expected}")
        self.position += 1
        return token

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.text in texts

    def ternary(self) -> str:
        condition = self.binary(0)
        if not self.at("?"):
            return condition
        self.take("?")
        when_true = self.ternary()
        self.take(":")
        when_false = self.ternary()
        return f"({when_true} if {condition} else {when_false})"

    def binary(self, level: int) -> str:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.at(*_BINARY_LEVELS[level]):
            op = self.take().text
            right = self.binary(level + 1)
            left = f"({left} {_PYTHON_OPS.get(op, op)} {right})"
        return left

    def unary(self) -> str:
        if self.at("!"):
            self.take()
            return f"(not {self.unary()})"
        if self.at("-"):
            self.take()
            return f"(-{self.unary()})"
        token = self.peek()
        if token is not None and token.kind == "name" and token.text == "empty":
            self.take()
            return f"(not {self.unary()})"
        return self.postfix()

    def postfix(self) -> str:
        value = self.primary()
        while True:
            if self.at("."):
                self.take()
                name = self.take()
                if name.kind != "name":
                    raise NotTranslatable(f"“.”之后应为属性名，而不是“{name.text}”")
                value = f"{value}.{name.text}"
            elif self.at("["):
                self.take()
                index = self.ternary()
                self.take("]")
                value = f"{value}[{index}]"
            elif self.at("("):
                value = f"{value}({self.arguments()})"
            else:
                return value

    def arguments(self) -> str:
        self.take("(")
        args = []
        while not self.at(")"):
            args.append(self.ternary())
            if not self.at(")"):
                self.take(",")
        self.take(")")
        return ", ".join(args)

    def primary(self) -> str:
        token = self.take()
        if token.kind == "number":
            return token.text
        if token.kind == "string":
            return _python_string(token.text)
        if token.kind == "name":
            if token.text == "instanceof":
                raise NotTranslatable("不支持 instanceof")
            return _CONSTANTS.get(token.text, token.text)
        if token.text == "(":
            inner = self.ternary()
            self.take(")")
            return f"({inner})"
        raise NotTranslatable(f"此处不应出现“{token.text}”")


def _python_string(literal: str) -> str:
    body = literal[1:-1]
    value = re.sub(r"\\(.)", r"\1", body)
    return repr(value)
