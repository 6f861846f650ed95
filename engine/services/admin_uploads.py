"""Administrators' file imports sent as uploads (the State Council holiday notice, the
organisation CSV): who may import is decided first, then the upload itself is checked, then
the import runs. Routers hand over the file name and bytes as received."""

from __future__ import annotations

from typing import Any

from engine.errors import BadRequest

from .access import Access
from .actor import Actor
from .calendar import CalendarService
from .organisation import OrganisationService

CALENDAR_MAX_BYTES = 1_000_000


def import_calendar(
    access: Access,
    calendar: CalendarService,
    actor: Actor,
    file_name: str | None,
    content: bytes | None,
    source: str,
) -> dict[str, Any]:
    access.require_admin(actor)
    if content is None:
        raise BadRequest("请以 multipart 字段 file 上传国务院放假通知（.csv 或 .json）")
    name = (file_name or "").lower()
    fmt = "json" if name.endswith(".json") else "csv" if name.endswith(".csv") else None
    if fmt is None:
        raise BadRequest("文件须为 .csv 或 .json")
    text = _utf8(content, CALENDAR_MAX_BYTES)
    return calendar.import_notice(actor, text, fmt, source[:200])


def import_organisation(
    access: Access,
    organisation: OrganisationService,
    actor: Actor,
    kind: str,
    content: bytes | None,
    max_bytes: int,
) -> dict[str, int]:
    access.require_admin(actor)
    if content is None:
        raise BadRequest("请以 multipart 字段 file 上传 CSV 文件")
    return organisation.import_csv(actor, kind, _utf8(content, max_bytes))


def _utf8(content: bytes, max_bytes: int) -> str:
    if len(content) > max_bytes:
        raise BadRequest("文件过大")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("文件须为 UTF-8 编码") from None
