"""The one HTTP POST the robot and webhook channels make, with every failure sorted into
"try again later" or "will never work" (DeliveryFailed.retryable)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import httpx

from ..message import DeliveryFailed

USER_AGENT = "Landflow-Notify/1"
RETRYABLE_STATUS = frozenset({408, 425, 429})


def json_body(document: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON as sent on the wire (the webhook signs exactly these bytes)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def post(
    url: str, body: bytes, timeout: float, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """POST `body` as JSON; transport failures raise DeliveryFailed, the caller judges the
    answer (see `check_status`). Redirects are not followed: an endpoint that moved is wrong."""
    sent_headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        **(headers or {}),
    }
    try:
        return httpx.post(url, content=body, headers=sent_headers, timeout=timeout)
    except httpx.InvalidURL as exc:
        raise DeliveryFailed(f"地址无效：{exc}", retryable=False) from exc
    except httpx.UnsupportedProtocol as exc:
        raise DeliveryFailed(f"地址无效（仅支持 http/https）：{exc}", retryable=False) from exc
    except httpx.TimeoutException as exc:
        raise DeliveryFailed(f"请求超时（{timeout:g} 秒）：{_reason(exc)}") from exc
    except httpx.TransportError as exc:
        raise DeliveryFailed(f"连接失败：{_reason(exc)}") from exc


def check_status(response: httpx.Response) -> None:
    """2xx passes; 408/425/429 and 5xx may pass later; any other answer will not."""
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status in RETRYABLE_STATUS or status >= 500
    raise DeliveryFailed(f"HTTP {status}：{_excerpt(response)}", retryable=retryable)


def check_robot_reply(
    response: httpx.Response,
    platform: str,
    retryable_codes: Collection[int],
    permanent_codes: Collection[int],
) -> None:
    """Robot APIs answer HTTP 200 with {"errcode": N, "errmsg": ...}; errcode 0 is delivered.
    Codes not listed as permanent are retried (bounded by the runner's attempts)."""
    check_status(response)
    try:
        reply = response.json()
    except ValueError as exc:
        raise DeliveryFailed(f"{platform}返回了无法识别的内容：{_excerpt(response)}") from exc
    code = reply.get("errcode", 0) if isinstance(reply, dict) else 0
    if code == 0:
        return
    text = f"{platform}拒绝：errcode {code} {reply.get('errmsg', '')}".strip()
    if code in retryable_codes:
        raise DeliveryFailed(text, retryable=True)
    raise DeliveryFailed(text, retryable=code not in permanent_codes)


def _reason(exc: Exception) -> str:
    return str(exc) or exc.__class__.__name__


def _excerpt(response: httpx.Response) -> str:
    return " ".join(response.text.split())[:200] or response.reason_phrase
