"""What a file is, decided from its first bytes (and, for ZIP containers, from the names of
their members), never from the client's Content-Type header or the file name."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class FileKind:
    key: str  # the setting's name for it: pdf, jpeg, …
    mime: str
    extension: str
    label: str  # what users read
    preview: str | None = None  # "pdf" or "image": shown inline in the browser

    @property
    def inline(self) -> bool:
        return self.preview is not None


KINDS: dict[str, FileKind] = {
    kind.key: kind
    for kind in (
        FileKind("pdf", "application/pdf", ".pdf", "PDF", "pdf"),
        FileKind("jpeg", "image/jpeg", ".jpg", "JPEG 图片", "image"),
        FileKind("png", "image/png", ".png", "PNG 图片", "image"),
        FileKind("ofd", "application/ofd", ".ofd", "OFD 版式文件"),
        FileKind("doc", "application/msword", ".doc", "Word 文档"),
        FileKind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".docx",
            "Word 文档",
        ),
        FileKind("xls", "application/vnd.ms-excel", ".xls", "Excel 表格"),
        FileKind(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ".xlsx",
            "Excel 表格",
        ),
        FileKind("zip", "application/zip", ".zip", "ZIP 压缩包"),
    )
}

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# Members that make a ZIP a carrier of programs rather than documents.
EXECUTABLE_SUFFIXES = (
    ".exe", ".com", ".scr", ".msi", ".dll", ".bat", ".cmd", ".ps1", ".vbs", ".vbe", ".js",
    ".jse", ".wsf", ".hta", ".jar", ".lnk", ".pif", ".cpl", ".sh", ".app", ".apk",
)  # fmt: skip


class ExecutableInArchive(ValueError):
    """A ZIP that carries a program."""


def sniff(data: bytes) -> FileKind | None:
    """The kind of `data`, or None for anything else (programs, scripts, HTML, unknown)."""
    if data.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if data.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if data.startswith(_ZIP):
        return _zip_kind(data)
    if data.startswith(_OLE):
        return _ole_kind(data)
    return None


def _zip_kind(data: bytes) -> FileKind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()  # the central directory only: nothing is unpacked
    except (zipfile.BadZipFile, ValueError, EOFError):
        return None
    lowered = [name.lower() for name in names]
    if any(name.rstrip("/").endswith(EXECUTABLE_SUFFIXES) for name in lowered):
        raise ExecutableInArchive("the archive contains programs")
    if "ofd.xml" in lowered:
        return KINDS["ofd"]
    if "[content_types].xml" in lowered:
        if any(name.startswith("word/") for name in lowered):
            return KINDS["docx"]
        if any(name.startswith("xl/") for name in lowered):
            return KINDS["xlsx"]
    return KINDS["zip"]


def _ole_kind(data: bytes) -> FileKind | None:
    """Legacy Office files are OLE2 compound files; their directory names the main stream."""
    if "WordDocument".encode("utf-16-le") in data:
        return KINDS["doc"]
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return KINDS["xls"]
    return None
