"""WeCom (企业微信) group robot ("群机器人"): a markdown message POSTed to the webhook URL. The
robot's key is part of the URL; WeCom group robots have no signature, so the URL is the secret."""

from __future__ import annotations

from ..catalogue import WECOM
from ..message import Message, Target
from .http_post import check_robot_reply, json_body, post
from .text import markdown_with_link

CONTENT_LIMIT_BYTES = 4096  # markdown.content, UTF-8

# WeCom's global error codes as they apply to group robots.
RETRYABLE_CODES = frozenset(
    {
        -1,  # 系统繁忙
        45009,  # 接口调用超过限制 (20 messages a minute per robot)
        45033,  # 接口并发调用超过限制
    }
)
PERMANENT_CODES = frozenset(
    {
        93000,  # invalid webhook url (wrong or deleted key)
        40008,  # 不合法的消息类型
        44004,  # 内容为空
    }
)


def content_of(message: Message) -> str:
    """The markdown body: the rendered markdown, or the title in bold above the plain text;
    cut to 4096 bytes on a character boundary, keeping the "查看详情" link."""
    body = message.markdown or f"**{message.title}**\n{message.text}"
    return markdown_with_link(body, message.link, CONTENT_LIMIT_BYTES)


class WeComChannel:
    kind = WECOM

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def send(self, message: Message, target: Target) -> None:
        document = {"msgtype": "markdown", "markdown": {"content": content_of(message)}}
        response = post(target.address, json_body(document), self.timeout)
        check_robot_reply(response, "企业微信", RETRYABLE_CODES, PERMANENT_CODES)
