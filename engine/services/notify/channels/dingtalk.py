"""DingTalk / 浙政钉 custom group robot ("自定义机器人"): a markdown message POSTed to the robot's
webhook URL, signed with the robot's 加签 secret when one is set."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote_plus

from ..catalogue import DINGTALK
from ..message import Message, Target
from .http_post import check_robot_reply, json_body, post
from .text import markdown_with_link, truncate_chars

TITLE_LIMIT = 64  # characters of the notification preview
TEXT_LIMIT_BYTES = 15_000  # well inside the robot's request limit

# DingTalk's documented robot error codes (open.dingtalk.com, custom robot "错误码").
RETRYABLE_CODES = frozenset(
    {
        -1,  # 系统繁忙
        130101,  # send too fast, exceed 20 times per minute
        410100,  # 发送速度太快而限流
        90030,  # webhook over limit (call quota)
    }
)
PERMANENT_CODES = frozenset(
    {
        300001,  # token is not exist
        310000,  # keywords not in content / sign not match / ip not in whitelist
        400013,  # 群已被解散
        400101,  # access_token 不存在
        400102,  # 机器人已停用
        400105,  # 不支持的消息类型
        400106,  # 机器人不存在
        430101,  # 含有不安全的外链
        430102,  # 含有不合适的文本
        430103,  # 含有不合适的图片
        430104,  # 含有不合适的内容
    }
)


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(key=secret, f"{timestamp_ms}\\n{secret}")), URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def signed_url(url: str, secret: str, now: datetime) -> str:
    timestamp_ms = int(now.timestamp() * 1000)
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


class DingTalkChannel:
    kind = DINGTALK

    def __init__(self, timeout: float, wall_now: Callable[[], datetime]) -> None:
        self.timeout = timeout
        self.wall_now = wall_now

    def send(self, message: Message, target: Target) -> None:
        url = target.address
        if target.secret:
            url = signed_url(url, target.secret, self.wall_now())
        body = message.markdown or message.text
        document = {
            "msgtype": "markdown",
            "markdown": {
                "title": truncate_chars(" ".join(message.title.split()), TITLE_LIMIT),
                "text": markdown_with_link(body, message.link, TEXT_LIMIT_BYTES),
            },
        }
        response = post(url, json_body(document), self.timeout)
        check_robot_reply(response, "钉钉", RETRYABLE_CODES, PERMANENT_CODES)
