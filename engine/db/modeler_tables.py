"""Tables of the browser modeler: diagram drafts an administrator saves before deploying, and
every version of a task form saved in the form editor (the form file in forms/ is the current
one; these rows are its history, who saved what and when)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base
from .types import JsonDocument, UTCDateTime


class ModelDraft(Base):
    """A diagram being edited: the BPMN file as the modeler exported it, the DMN files edited
    with it and the version it started from. Whether it was deployed is read from the deployed
    files (the same content), not stored."""

    __tablename__ = "model_drafts"
    __table_args__ = (Index("ix_model_drafts_process_updated", "process_id", "updated_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120))
    file_name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    extra_files: Mapped[dict[str, Any]] = mapped_column(JsonDocument)  # {"x.dmn": "<xml>"}
    base_version: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(400), default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FormRevision(Base):
    """One saved version of forms/<form_key>.json (revision 1, 2, … per form)."""

    __tablename__ = "form_revisions"
    __table_args__ = (UniqueConstraint("form_key", "revision"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_key: Mapped[str] = mapped_column(String(120))
    revision: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    previous_sha256: Mapped[str | None] = mapped_column(String(64))  # the file it replaced
    note: Mapped[str] = mapped_column(String(400), default="")
    saved_by: Mapped[str] = mapped_column(String(80))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
