"""What a channel is handed: a rendered message and where it goes. Channels live in
`engine.services.notify.channels`; the delivery runner calls them outside any transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    delivery_id: int
    dedupe_key: str  # stable across retries: receivers drop a message they have seen
    event: str  # the event's code (catalogue), "digest" for a digest mail
    event_name: str  # its Chinese name
    title: str  # subject line / robot title
    text: str  # plain text (mail text part, SMS, webhook "text")
    html: str | None = None  # mail HTML part
    markdown: str | None = None  # IM robots' markdown
    link: str | None = None  # absolute URL of the task or case, when a public URL is set
    data: dict[str, Any] = field(default_factory=dict)  # the event's payload (webhook JSON)
    created_at: datetime | None = None  # when the event happened


@dataclass(frozen=True)
class Target:
    address: str  # a mail address, a phone number or the endpoint's URL
    secret: str | None = None  # signing secret of a robot or webhook
    name: str = ""  # the recipient's display name (mail "To")


class DeliveryFailed(Exception):
    """The channel could not deliver; `retryable` False sends the delivery to dead letters
    at once (e.g. a refused address or a wrong robot key)."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(Protocol):
    kind: str

    def send(self, message: Message, target: Target) -> None:
        """Deliver or raise DeliveryFailed; must return within the channel's timeout."""
        ...
