"""SMS: a short text with the sign name (签名) in front, handed to an SmsGateway. The default
gateway only logs; a provider (Aliyun, Tencent Cloud SMS, a provincial SMS platform) plugs in
through LANDFLOW_SMS_GATEWAY="package.module:factory" (docs/notifications.md)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from ..catalogue import SMS
from ..message import DeliveryFailed, Message, Target
from .text import truncate_chars

SMS_LIMIT = 300  # characters, sign included; providers split long texts into segments
logger = logging.getLogger("landflow.sms")


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Hand the text to the provider; raise DeliveryFailed (retryable or not) when it
        refuses. Any other exception counts as a retryable failure."""
        ...


class LoggingSmsGateway:
    """Writes each SMS to the "landflow.sms" log (phone number masked) and keeps nothing."""

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), text)


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def load_gateway(spec: str | None, settings: Any) -> SmsGateway:
    """The gateway named by "module:factory" (called with the settings), or the logging one."""
    if not spec:
        return LoggingSmsGateway()
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"LANDFLOW_SMS_GATEWAY must be 'module:factory', not {spec!r}")
    factory: Callable[[Any], SmsGateway] = getattr(importlib.import_module(module_name), attribute)
    return factory(settings)


class SmsChannel:
    kind = SMS

    def __init__(self, gateway: SmsGateway, sign: str) -> None:
        self.gateway = gateway
        self.sign = sign

    def text_of(self, message: Message) -> str:
        body = message.text.strip()
        prefix = f"【{self.sign}】" if self.sign else ""
        if prefix and body.startswith(prefix):
            prefix = ""
        return truncate_chars(prefix + body, SMS_LIMIT)

    def send(self, message: Message, target: Target) -> None:
        phone = target.address.strip()
        if not phone:
            raise DeliveryFailed("没有手机号码", retryable=False)
        try:
            self.gateway.send(phone, self.text_of(message))
        except DeliveryFailed:
            raise
        except Exception as exc:
            raise DeliveryFailed(f"短信网关出错：{exc}") from exc
