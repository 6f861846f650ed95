"""Generic webhook: the event as JSON, signed so the receiver can tell it came from us and is
fresh. `verify_webhook` is the reference check receivers copy (docs/notifications.md)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ..catalogue import WEBHOOK
from ..message import Message, Target
from .http_post import check_status, json_body, post

EVENT_HEADER = "X-Landflow-Event"
DELIVERY_HEADER = "X-Landflow-Delivery"
TIMESTAMP_HEADER = "X-Landflow-Timestamp"
SIGNATURE_HEADER = "X-Landflow-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """ "sha256=" + hex HMAC-SHA256(key=secret, f"{timestamp}." + raw body)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    now: datetime,
    tolerance_seconds: int = 300,
) -> bool:
    """True when the signature matches the raw body and the timestamp is within
    `tolerance_seconds` of `now` (an older request is a replay and refused)."""
    found = {name.lower(): value for name, value in headers.items()}
    stamp = found.get(TIMESTAMP_HEADER.lower(), "")
    given = found.get(SIGNATURE_HEADER.lower(), "")
    if not (stamp.isascii() and stamp.isdigit()) or not given:
        return False
    if abs(now.timestamp() - int(stamp)) > tolerance_seconds:
        return False
    raw = body.encode() if isinstance(body, str) else body
    return hmac.compare_digest(signature(secret, int(stamp), raw), given)


def payload_of(message: Message) -> dict[str, Any]:
    return {
        "id": message.dedupe_key,
        "event": message.event,
        "event_name": message.event_name,
        "title": message.title,
        "text": message.text,
        "link": message.link,
        "data": message.data,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }


class WebhookChannel:
    kind = WEBHOOK

    def __init__(self, timeout: float, wall_now: Callable[[], datetime]) -> None:
        self.timeout = timeout
        self.wall_now = wall_now

    def send(self, message: Message, target: Target) -> None:
        body = json_body(payload_of(message))
        timestamp = int(self.wall_now().timestamp())
        headers = {
            EVENT_HEADER: _header_value(message.event),
            DELIVERY_HEADER: _header_value(message.dedupe_key),
            TIMESTAMP_HEADER: str(timestamp),
        }
        if target.secret:
            headers[SIGNATURE_HEADER] = signature(target.secret, timestamp, body)
        check_status(post(target.address, body, self.timeout, headers))


def _header_value(value: str) -> str:
    """Header values must be ASCII: anything else is percent-encoded."""
    return value if value.isascii() and value.isprintable() else quote(value, safe="")
