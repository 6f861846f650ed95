"""The Jinja2 side of notification templates: sandboxed environments (strict for checks, lenient
for sending; plain text or autoescaped HTML), the loader that serves admin-saved versions before
the folder's defaults, the filters the templates use, and turning a failure into a located
problem an administrator can read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    BaseLoader,
    BytecodeCache,
    ChainableUndefined,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
    nodes,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

SAVED_MARK = "@"  # "<event>/<channel>.j2@<version>" names an admin-saved version
GRADE_NAMES = {"blue": "蓝色", "orange": "橙色", "red": "红色"}
CLOCK_NAMES = {"statutory": "法定时限", "committed": "承诺时限", "overall": "总时限"}
_TRAILING_STOPS = "。．.；;，,、 \t\n"


def saved_name(file: str, version: int) -> str:
    return f"{file}{SAVED_MARK}{version}"


class SendTimeUndefined(ChainableUndefined):
    """A missing key renders as nothing, even in arithmetic or `a.b.c`: a message is never lost
    to a template; problems are caught at start-up and on save instead."""

    def _empty(self, *_args: Any, **_kwargs: Any) -> str:
        return ""

    # Jinja2 types these operators as always raising (-> NoReturn); overriding them to return
    # a value is the point of this class, hence the ignores.
    __add__ = __radd__ = __sub__ = __rsub__ = _empty  # type: ignore[assignment]
    __mul__ = __rmul__ = __div__ = __rdiv__ = _empty  # type: ignore[assignment]
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _empty  # type: ignore[assignment]
    __mod__ = __rmod__ = __pos__ = __neg__ = __call__ = _empty  # type: ignore[assignment]
    __lt__ = __le__ = __gt__ = __ge__ = _empty  # type: ignore[assignment]

    def __int__(self) -> int:  # type: ignore[override]
        return 0

    def __float__(self) -> float:  # type: ignore[override]
        return 0.0


class StoreLoader(BaseLoader):
    """Admin-saved versions (names ending in "@<version>", sources put in `saved` by the store)
    before the folder's files; a saved version never changes, so it is always up to date."""

    def __init__(self, folder: Path, saved: dict[str, str]) -> None:
        self.folder = folder
        self.saved = saved
        self._files = FileSystemLoader(str(folder), encoding="utf-8")

    def get_source(self, environment, template: str):
        if SAVED_MARK in template:
            source = self.saved.get(template)
            if source is None:
                raise TemplateNotFound(template)
            return source, f"db:{template}", lambda: True
        return self._files.get_source(environment, template)


class CompiledCache(BytecodeCache):
    """Compiled templates shared by every store in the process, keyed by name and checked
    against the source's checksum: tests and workers build many stores over the same folder."""

    def __init__(self) -> None:
        self._code: dict[str, tuple[str, Any]] = {}

    def load_bytecode(self, bucket) -> None:
        found = self._code.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = (bucket.checksum, bucket.code)


_COMPILED = {False: CompiledCache(), True: CompiledCache()}  # text / autoescaped HTML


@dataclass(frozen=True)
class Environments:
    """Four environments over one loader: text or autoescaped HTML, strict or lenient."""

    text: ImmutableSandboxedEnvironment
    html: ImmutableSandboxedEnvironment
    strict_text: ImmutableSandboxedEnvironment
    strict_html: ImmutableSandboxedEnvironment

    def pick(self, html: bool, strict: bool) -> ImmutableSandboxedEnvironment:
        if strict:
            return self.strict_html if html else self.strict_text
        return self.html if html else self.text


def make_environments(loader: StoreLoader, zone: ZoneInfo) -> Environments:
    def make(html: bool, undefined: type[Undefined]) -> ImmutableSandboxedEnvironment:
        env = ImmutableSandboxedEnvironment(
            loader=loader,
            autoescape=html,
            undefined=undefined,
            trim_blocks=True,
            lstrip_blocks=True,
            cache_size=2000,
            auto_reload=True,
            bytecode_cache=_COMPILED[html],
        )
        env.filters.update(filters(zone))
        env.tests["absolute"] = is_absolute
        return env

    return Environments(
        text=make(False, SendTimeUndefined),
        html=make(True, SendTimeUndefined),
        strict_text=make(False, StrictUndefined),
        strict_html=make(True, StrictUndefined),
    )


def compile_source(env: ImmutableSandboxedEnvironment, source: str, name: str) -> Template:
    """A template from a draft's source, uncached (raises TemplateSyntaxError)."""
    code = env.compile(source, name, f"draft:{name}")
    return env.template_class.from_code(env, code, env.make_globals(None), None)


def render_block(template: Template, block: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[block](template.new_context(context)))


_PARSER = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=512)
def underscore_names(source: str) -> tuple[tuple[str, int], ...]:
    """(name, line) of every attribute, item or `attr` filter starting with "_"."""
    found = []
    for node in _PARSER.parse(source).find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        name: object
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            arg = node.args[0]
            name = arg.value if isinstance(arg, nodes.Const) else None
        else:
            continue
        if isinstance(name, str) and name.startswith("_"):
            found.append((name, node.lineno))
    return tuple(found)


# ---- filters and tests ---------------------------------------------------------------------
def filters(zone: ZoneInfo) -> dict[str, Any]:
    def as_date(value: Any) -> str:
        return _moment(value, zone, "%Y-%m-%d")

    def as_datetime(value: Any) -> str:
        return _moment(value, zone, "%Y-%m-%d %H:%M")

    return {
        "date": as_date,
        "datetime": as_datetime,
        "grade": lambda value: _named(value, GRADE_NAMES, ""),
        "clock_name": lambda value: _named(value, CLOCK_NAMES, "办理期限"),
        "sentence": sentence,
    }


def _moment(value: Any, zone: ZoneInfo, pattern: str) -> str:
    if isinstance(value, Undefined):
        return str(value)  # strict: raises, naming the missing key; lenient: ""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return value  # already a calendar date
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        local = value.astimezone(zone) if value.tzinfo else value  # no offset: already local
        return local.strftime(pattern)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _named(value: Any, names: dict[str, str], default: str) -> str:
    if isinstance(value, Undefined):
        return str(value) or default
    if not value:
        return default
    return names.get(str(value), str(value))


def sentence(value: Any) -> str:
    """A reason or answer without its closing punctuation, so the template adds exactly one."""
    if isinstance(value, Undefined):
        return str(value)
    return str(value or "").rstrip(_TRAILING_STOPS)


def is_absolute(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


# ---- located problems ----------------------------------------------------------------------
def locate(exc: BaseException, folder: Path) -> tuple[str | None, int | None]:
    """The template file and line a Jinja error happened at (the innermost template frame)."""
    if isinstance(exc, TemplateSyntaxError):
        return _short(exc.filename or exc.name, folder), exc.lineno
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        filename = tb.tb_frame.f_code.co_filename
        if template is not None:  # compiled template code, as a block render leaves it
            found = (
                _short(template.filename, folder),
                template.get_corresponding_lineno(tb.tb_lineno),
            )
        elif not filename.endswith(".py") and not filename.startswith("<"):
            found = (_short(filename, folder), tb.tb_lineno)  # a frame Jinja rewrote already
        tb = tb.tb_next
    return found


def _short(filename: str | None, folder: Path) -> str | None:
    if not filename:
        return None
    for prefix in ("db:", "draft:"):
        if filename.startswith(prefix):
            return filename[len(prefix) :].split(SAVED_MARK)[0]
    try:
        return Path(filename).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return filename


def explain(exc: BaseException) -> str:
    """What went wrong, in Chinese, keeping Jinja's own words for the details."""
    text = str(getattr(exc, "message", None) or exc)
    if isinstance(exc, SecurityError):
        return f"不允许的写法（模板不能访问内部属性或方法）：{text}"
    if isinstance(exc, TemplateSyntaxError):
        return f"语法错误：{text}"
    if isinstance(exc, TemplateNotFound):
        return f"找不到模板文件 {exc.name}"
    if isinstance(exc, UndefinedError):
        missing = re.fullmatch(r"'([^']+)' is undefined", text)
        if missing:
            return f"变量 {missing.group(1)} 不存在（该事件的示例数据中没有这个变量）"
        attribute = re.fullmatch(r"'(.+)' has no attribute '([^']+)'", text)
        if attribute:
            return f"没有属性 {attribute.group(2)}（{text}）"
        return f"变量不存在：{text}"
    return f"渲染出错：{type(exc).__name__}: {text}"


# ---- text shaping --------------------------------------------------------------------------
def one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def paragraphs(text: str) -> str:
    """Lines stripped, at most one blank line between paragraphs."""
    lines: list[str] = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip()


def markdown_to_text(markdown: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\(([^)]*)\)", r"\1：\2", markdown)
    text = re.sub(r"^\s{0,3}(#{1,6}|>)\s*", "", text, flags=re.MULTILINE)
    return paragraphs(text.replace("**", ""))
