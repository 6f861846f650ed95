"""Refuses text that cannot be stored or exported before any route sees it: a NUL or another
control character (tab and line breaks excepted), a lone surrogate, a non-character, or bytes
that are not UTF-8, in the path, the query string, or a JSON or form body. PostgreSQL refuses
NUL in text, no column holds a lone surrogate, and XML (workbooks, BPMN, PDFs) refuses control
characters, so without this such input would fail deep inside a command. A pure ASGI
middleware: the body is read once and handed on unchanged."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MESSAGE = "请求中含有无法保存的字符（空字符 NUL 等控制字符、不成对的代理字符或非 UTF-8 字节）"
NESTED = "请求的 JSON 嵌套层数过多"
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BODY_TYPES = ("application/json", "application/x-www-form-urlencoded")


def bad_text(value: str) -> bool:
    return _UNSTORABLE.search(value) is not None


def bad_bytes(raw: bytes) -> bool:
    try:
        return bad_text(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return True


def bad_query(query: bytes) -> str | None:
    """The name of the first parameter with unstorable text, or None."""
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            if bad_bytes(unquote_to_bytes(part.replace(b"+", b" "))):
                return unquote_to_bytes(name).decode("utf-8", "replace") or "?"
    return None


def bad_json(body: bytes) -> str | None:
    """Where in a JSON body unstorable text sits ('' for the body itself), or None. A body
    that is not JSON at all is left to the route's own validation."""
    try:
        document = json.loads(body)
    except RecursionError:
        return NESTED
    except ValueError:
        return "" if bad_bytes(body) and _is_text(body) else None
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if bad_text(value):
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                if bad_text(key):
                    return where
                stack.append((path, item))
        elif isinstance(value, list):
            stack.extend((f"{where}.{i}" if where else str(i), v) for i, v in enumerate(value))
    return None


def _is_text(body: bytes) -> bool:
    """Bytes meant as JSON text (so a NUL or bad byte in them is ours to refuse)."""
    return body.lstrip()[:1] in (b"{", b"[", b'"')


class TextGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
        if bad_bytes(unquote_to_bytes(raw_path)) or bad_text(scope["path"]):
            await refuse(scope, send, "path")
            return
        if (name := bad_query(scope.get("query_string", b""))) is not None:
            await refuse(scope, send, name)
            return
        content_type = _header(scope, b"content-type")
        if not content_type.startswith(_BODY_TYPES):
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        is_json = content_type.startswith("application/json")
        where = bad_json(body) if is_json else bad_query(body)
        if where == NESTED:
            await refuse(scope, send, "body", NESTED)
            return
        if where is not None:
            await refuse(scope, send, where or "body")
            return
        await self.app(scope, _replay(messages, receive), send)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1").lower()
    return ""


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def refuse(scope: Scope, send: Send, where: str, message: str = MESSAGE) -> None:
    where = "".join(c if c.isprintable() and not bad_text(c) else "?" for c in where)
    if scope["path"].startswith("/api/"):
        body = json.dumps(
            {
                "error": "validation_failed",
                "message": message,
                "errors": [{"field": where, "message": message}],
            },
            ensure_ascii=False,
        ).encode()
        content_type = b"application/json"
    else:
        body = message.encode()
        content_type = b"text/plain; charset=utf-8"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
