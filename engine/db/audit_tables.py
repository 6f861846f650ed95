"""The tamper-evident audit log (engine.services.audit): every action appended as one entry
whose hash covers the previous entry's hash and its own content, and the chain's head. No
foreign keys: an entry outlives the case, task or user it names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base
from .types import UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # never earlier than the previous entry
    action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the action's own, if later
    actor: Mapped[str] = mapped_column(String(80))
    on_behalf_of: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    history_id: Mapped[int | None] = mapped_column(BigId, index=True)
    subject: Mapped[str | None] = mapped_column(String(200))  # e.g. "user:alice", "calendar"
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row (id 1): the last entry's seq, hash and time. Appending locks it, so concurrent
    commands on PostgreSQL take their turn; deleting the newest entries shows against it."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
