"""Which template files exist and what they must hold: one file per event and template channel
in `notifications/<event>/<channel>.j2`, the daily digest mail, the blocks each channel needs,
the delivery channel → template map, and the sample context every template is checked with."""

from __future__ import annotations

import copy
from typing import Any

from .catalogue import BY_CODE, DIGEST, DIGEST_SAMPLE, EVENTS, TEMPLATE_CHANNELS

SITE_NAME = "农村土地审批协同平台"
DIGEST_NAME = "每日消息汇总"
TEMPLATE_CHANNEL_NAMES = {
    "inapp": "站内消息",
    "email": "电子邮件",
    "im": "钉钉/企业微信机器人",
    "sms": "短信",
}
REQUIRED_BLOCKS: dict[str, tuple[str, ...]] = {
    "inapp": ("title", "body"),
    "email": ("subject", "text"),
    "im": ("title", "body"),
    "sms": ("body",),
}
DELIVERY_TEMPLATE = {
    "inapp": "inapp",
    "email": "email",
    "dingtalk": "im",
    "wecom": "im",
    "webhook": "inapp",
    "sms": "sms",
}
LINK_PATHS = {
    "report": "/reports",
    "admin": "/admin/incidents",
    "calendar": "/admin/calendar",
    DIGEST: "/notifications",
}
# stand-ins for the ids the outbox adds, so checks and previews show a link
SAMPLE_IDS = {"task_id": "sample", "instance_id": "sample"}
SAMPLE_RECIPIENT = "李明"
DIGEST_ITEM_KEYS = ("event_name", "title", "text", "link", "at")
MAX_SOURCE_CHARS = 20_000
VARIABLE_NOTES = {
    "task": "环节名称",
    "department": "部门代码（请勿在消息中显示，请用 department_name）",
    "department_name": "承办部门名称",
    "case_no": "办件编号",
    "case_title": "办件名称",
    "process_name": "事项名称（审批流程）",
    "region_name": "所在地区",
    "due_at": "办理期限（用 date 过滤器显示日期）",
    "provisional": "期限是否暂定（节假日安排未导入时）",
    "clock": "时限类型代码（用 clock_name 过滤器显示名称）",
    "by": "用户名（请勿在消息中显示，请用 by_name）",
    "by_name": "操作人姓名",
    "reason": "理由或说明（可能为空）",
    "days": "天数",
    "approved": "是否同意",
    "grade": "督办等级代码（用 grade 过滤器显示名称）",
    "grade_name": "督办等级名称",
    "office_name": "下达督办的领导小组办公室",
    "answer": "督办反馈内容",
    "reply_due": "督办反馈期限",
    "report_name": "报告名称",
    "period": "报告期间",
    "element_name": "出错的步骤名称",
    "message": "异常说明",
    "year": "年份",
    "result": "办理结果",
    "missing_items": "需补正的材料（列表）",
    "day": "汇总日期",
    "items": "汇总的消息（列表：event_name、title、text、link、at）",
}


def template_keys() -> list[tuple[str, str]]:
    """Every (event, template channel) that must have a template, the digest last."""
    keys = [(e.code, channel) for e in EVENTS for channel in TEMPLATE_CHANNELS]
    return [*keys, (DIGEST, "email")]


def is_template_key(event: str, channel: str) -> bool:
    if event == DIGEST:
        return channel == "email"
    return event in BY_CODE and channel in TEMPLATE_CHANNELS


def file_of(event: str, channel: str) -> str:
    return f"{event}/{channel}.j2"


def event_name(event: str) -> str:
    return DIGEST_NAME if event == DIGEST else BY_CODE[event].name


def sample_payload(event: str) -> dict[str, Any]:
    if event == DIGEST:
        return copy.deepcopy(DIGEST_SAMPLE)
    return {**SAMPLE_IDS, **copy.deepcopy(BY_CODE[event].sample)}


def link_path(event: str, payload: dict[str, Any]) -> str:
    """Where the message leads, relative to the site; "" when the payload lacks the id."""
    kind = DIGEST if event == DIGEST else BY_CODE[event].link
    task_id, instance_id = payload.get("task_id"), payload.get("instance_id")
    if kind == "task" and task_id:
        return f"/tasks/{task_id}"
    if kind in ("task", "case", "supervision"):
        return f"/cases/{instance_id}" if instance_id else ""
    if kind == "report" and payload.get("report_id"):
        return f"/reports/{payload['report_id']}"
    return LINK_PATHS.get(kind, "")


def variables(event: str) -> list[dict[str, Any]]:
    """What a template of the event may use, with the sample's values, for the editor."""
    common = [
        {
            "name": "recipient_name",
            "sample": SAMPLE_RECIPIENT,
            "note": "收件人姓名（机器人消息为空）",
        },
        {"name": "event_name", "sample": event_name(event), "note": "事件名称"},
        {"name": "site_name", "sample": SITE_NAME, "note": "平台名称"},
        {"name": "link", "sample": link_path(event, sample_payload(event)), "note": "办理入口"},
    ]
    sample = {k: v for k, v in sample_payload(event).items() if k not in SAMPLE_IDS}
    own = ({"name": k, "sample": v, "note": VARIABLE_NOTES.get(k, "")} for k, v in sample.items())
    return [*common, *own]
