"""The channels a delivery goes out on, built once from the settings: `build_channels`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from engine.settings import Settings

from ..catalogue import DINGTALK, EMAIL, SMS, WEBHOOK, WECOM
from ..message import Channel
from .dingtalk import DingTalkChannel
from .email import EmailChannel, SmtpConfig
from .sms import SmsChannel, load_gateway
from .webhook import WebhookChannel
from .wecom import WeComChannel


def build_channels(settings: Settings, wall_now: Callable[[], datetime]) -> dict[str, Channel]:
    """One channel per kind; `wall_now` (aware UTC) dates mails and signs robots and webhooks."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    smtp = SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=password,
        from_address=settings.smtp_from,
        from_name=settings.smtp_from_name,
        timeout=settings.smtp_timeout_seconds,
    )
    timeout = settings.http_timeout_seconds
    return {
        EMAIL: EmailChannel(smtp, wall_now),
        SMS: SmsChannel(load_gateway(settings.sms_gateway, settings), settings.sms_sign),
        DINGTALK: DingTalkChannel(timeout, wall_now),
        WECOM: WeComChannel(timeout),
        WEBHOOK: WebhookChannel(timeout, wall_now),
    }
