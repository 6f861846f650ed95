"""Cutting message text to a channel's limits without breaking a character or losing the link."""

from __future__ import annotations

ELLIPSIS = "…"


def truncate_chars(text: str, limit: int) -> str:
    """At most `limit` characters, the last one an ellipsis when something was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS


def truncate_utf8(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut on a character boundary, ending in an ellipsis
    when something was cut."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    room = max(limit - len(ELLIPSIS.encode()), 0)
    return raw[:room].decode(errors="ignore") + ELLIPSIS


def markdown_with_link(body: str, link: str | None, limit_bytes: int) -> str:
    """`body` plus a "查看详情" link line, cut to `limit_bytes` so that the link survives."""
    if len(body.encode()) <= limit_bytes and (not link or link in body):
        return body
    suffix = f"\n\n[查看详情]({link})" if link else ""
    return truncate_utf8(body, limit_bytes - len(suffix.encode())) + suffix
