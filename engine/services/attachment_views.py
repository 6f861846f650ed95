"""Attachment rows and 材料清单 entries to the shapes of the API and the pages."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from engine.db.tables import Attachment
from engine.storage.sniffing import KINDS, FileKind

from .attachment_materials import Material

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
MAX_STEM = 100


def attachment_view(row: Attachment, can_delete: bool = False) -> dict[str, Any]:
    kind = KINDS[row.kind]
    return {
        "id": row.id,
        "instance_id": row.instance_id,
        "task_id": row.task_id,
        "task_spec": row.task_spec,
        "material": row.material,
        "file_name": row.file_name,
        "kind": row.kind,
        "kind_label": kind.label,
        "content_type": row.content_type,
        "preview": kind.preview,
        "size": row.size,
        "size_text": size_text(row.size),
        "sha256": row.sha256,
        "uploaded_by": row.uploaded_by,
        "uploaded_at": row.uploaded_at.astimezone(UTC).isoformat(),
        "can_delete": can_delete,
    }


def materials_view(
    materials: Iterable[Material], attachments: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The step's checklist: each material with the case's files for it (✓ or 缺)."""
    listed = []
    for material in materials:
        files = [a for a in attachments if a["material"] == material.name]
        listed.append(
            {
                "name": material.name,
                "required": material.required,
                "note": material.note,
                "present": bool(files),
                "attachments": files,
            }
        )
    return listed


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB".replace(".0 ", " ")
    return f"{size / 1024 / 1024:.1f} MB".replace(".0 ", " ")


def display_name(given: str | None, kind: FileKind, fallback: str) -> str:
    """The user's file name for display and download: no folders, no control or reserved
    characters, and the extension of what the file really is."""
    name = unicodedata.normalize("NFC", given or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip()
    stem = (name.rsplit(".", 1)[0] if "." in name else name).strip(" .")
    return f"{(stem or fallback)[:MAX_STEM]}{kind.extension}"
