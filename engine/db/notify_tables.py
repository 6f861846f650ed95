"""Tables of notification delivery: who gets what by which channel, the delivery log, the
department robots, per-user preferences and the admin-edited template versions. The in-app
notification itself is `tables.Notification` (the outbox row every event writes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base
from .types import JsonDocument, UTCDateTime


class Delivery(Base):
    """One (event, recipient, channel): sent at most once thanks to its dedupe key; its job in
    `jobs` (kind "deliver") carries the due time and the worker's lease."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_status_created", "status", "created_at"),
        Index("ix_deliveries_recipient", "recipient", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), index=True
    )
    event: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))  # email | sms | dingtalk | wecom | webhook
    recipient: Mapped[str] = mapped_column(String(120))  # a username or "dept:<code>"
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_endpoints.id", ondelete="SET NULL")
    )
    address: Mapped[str | None] = mapped_column(String(300))  # mail address or phone number
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    status: Mapped[str] = mapped_column(String(12))  # pending | sent | retrying | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """The delivery log: every try, its outcome and the worker that made it."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str] = mapped_column(String(80))
    duration_ms: Mapped[int] = mapped_column(Integer)


class ChannelEndpoint(Base):
    """A department's group robot (DingTalk / 浙政钉, WeCom) or webhook receiver. Departments are
    regional, so this is the per-region setting. `secret` may be "env:NAME" to read it from the
    server's environment instead of the database."""

    __tablename__ = "channel_endpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department: Mapped[str] = mapped_column(String(60), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # dingtalk | wecom | webhook
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str | None] = mapped_column(String(300))
    events: Mapped[list[str] | None] = mapped_column(JsonDocument)  # None: the catalogue default
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NotificationPreference(Base):
    """A user's choice for one event and channel (absent: the catalogue default)."""

    __tablename__ = "notification_preferences"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    event: Mapped[str] = mapped_column(String(80), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)


class NotificationSettings(Base):
    """A user's quiet hours (local time, "22:00"-"07:30") and daily digest instead of single
    e-mails."""

    __tablename__ = "notification_settings"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_time: Mapped[str] = mapped_column(String(5), default="08:30")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NotificationTemplate(Base):
    """An admin's version of a template; the newest version of (event, channel) is the one in
    use, the `notifications/` folder holding the defaults."""

    __tablename__ = "notification_templates"
    __table_args__ = (UniqueConstraint("event", "channel", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)  # None: back to the folder's default
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
