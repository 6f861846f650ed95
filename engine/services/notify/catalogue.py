"""Every event Landflow tells people about: its Chinese name, who hears of it, the channels a
user gets it on unless they chose otherwise, whether department robots carry it, and a sample
payload that every template of the event must render (checked at start-up and on save)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INAPP, EMAIL, SMS = "inapp", "email", "sms"
DINGTALK, WECOM, WEBHOOK = "dingtalk", "wecom", "webhook"
PERSONAL_CHANNELS = (INAPP, EMAIL, SMS)  # a user's own choices
GROUP_CHANNELS = (DINGTALK, WECOM, WEBHOOK)  # a department's robots and receivers
CHANNEL_NAMES = {
    INAPP: "站内消息",
    EMAIL: "电子邮件",
    SMS: "短信",
    DINGTALK: "钉钉/浙政钉机器人",
    WECOM: "企业微信机器人",
    WEBHOOK: "Webhook",
}
# the template files each event has in notifications/<event>/: the IM robots share "im"
TEMPLATE_CHANNELS = ("inapp", "email", "im", "sms")
DIGEST = "digest"

_TASK = {
    "task": "入市条件及负面清单审查",
    "department": "zrzy.330702",
    "department_name": "婺城区自然资源和规划局",
    "case_no": "婺自然资源入市〔2026〕1号",
    "case_title": "古方村 12.5亩 工业用地入市",
    "process_name": "集体经营性建设用地入市",
    "region_name": "金华市婺城区白龙桥镇古方村",
}
_CLOCK = {
    **_TASK,
    "due_at": "2026-03-09T09:00:00+00:00",
    "provisional": False,
    "clock": "statutory",
}


@dataclass(frozen=True)
class Event:
    code: str
    name: str
    audience: str  # who receives it, in Chinese, for the preferences page and the docs
    defaults: tuple[str, ...]  # personal channels on unless the user turns them off
    sample: dict[str, Any] = field(default_factory=dict)
    to_groups: bool = False  # department robots and webhooks carry it
    link: str = "task"  # task | case | supervision | report | admin | calendar


EVENTS: tuple[Event, ...] = (
    Event("task_assigned", "新待办指派给我", "被指派的办理人", (INAPP, EMAIL), _TASK),
    Event(
        "task_queued",
        "新事项进入本部门待认领",
        "承办部门的经办人",
        (INAPP,),
        _TASK,
        to_groups=True,
    ),
    Event(
        "task_returned",
        "事项被退回",
        "被退回环节的原办理人",
        (INAPP, EMAIL),
        {**_TASK, "by_name": "李审核", "reason": "材料不全，请补充宗地图"},
    ),
    Event(
        "task_transferred",
        "事项转交给我",
        "接收转交的人",
        (INAPP, EMAIL),
        {**_TASK, "by_name": "张经办", "reason": "工作调整"},
    ),
    Event(
        "task_delegated",
        "事项委托我办理",
        "接受委托的人",
        (INAPP, EMAIL),
        {**_TASK, "by_name": "张经办", "reason": ""},
    ),
    Event("sla_yellow", "即将到期（黄灯）", "办理人或承办部门经办人", (INAPP, EMAIL), _CLOCK),
    Event(
        "sla_red",
        "已超期（红灯）",
        "办理人或承办部门经办人及负责人",
        (INAPP, EMAIL, SMS),
        _CLOCK,
        to_groups=True,
    ),
    Event(
        "case_suspended",
        "办件中止",
        "当前环节的办理人",
        (INAPP, EMAIL),
        {**_TASK, "by_name": "张经办", "reason": "等待补正材料"},
        link="case",
    ),
    Event(
        "case_resumed",
        "办件恢复办理",
        "当前环节的办理人",
        (INAPP, EMAIL),
        {**_TASK, "by_name": "张经办"},
        link="case",
    ),
    Event(
        "sla_extension_requested",
        "延期申请待审批",
        "承办部门负责人",
        (INAPP, EMAIL),
        {**_TASK, "by": "zhang", "by_name": "张经办", "days": 10, "reason": "需现场踏勘"},
    ),
    Event(
        "sla_extension_decided",
        "延期申请已审批",
        "申请延期的人",
        (INAPP, EMAIL),
        {**_TASK, "approved": True, "days": 10, "by_name": "王科长", "due_at": "2026-03-23"},
    ),
    Event(
        "supervision_order",
        "督办单下达",
        "被督办部门的经办人及负责人",
        (INAPP, EMAIL, SMS),
        {
            **_CLOCK,
            "grade": "orange",
            "grade_name": "橙色",
            "office_name": "婺城区领导小组办公室",
            "text": "请加快办理",
            "reply_due": "2026-03-12",
        },
        to_groups=True,
        link="supervision",
    ),
    Event(
        "supervision_answered",
        "督办单已反馈",
        "下达督办的领导小组办公室",
        (INAPP, EMAIL),
        {**_TASK, "grade_name": "橙色", "answer": "已于当日办结"},
        link="supervision",
    ),
    Event(
        "supervision_overdue",
        "督办单逾期未反馈",
        "被督办部门负责人及下达督办的办公室",
        (INAPP, EMAIL, SMS),
        {**_TASK, "grade_name": "橙色", "reply_due": "2026-03-12"},
        to_groups=True,
        link="supervision",
    ),
    Event(
        "report_issued",
        "调度报告已印发",
        "报告的接收人",
        (INAPP, EMAIL),
        {"report_name": "2026年第10周工作周报", "period": "2026-03-02 至 2026-03-08"},
        link="report",
    ),
    Event(
        "incident_opened",
        "办件运行异常",
        "系统管理员",
        (INAPP, EMAIL),
        {**_TASK, "element_name": "计算补偿金额", "message": "表达式出错：未定义的变量 area"},
        link="admin",
    ),
    Event(
        "calendar_missing",
        "节假日安排未导入",
        "系统管理员",
        (INAPP, EMAIL),
        {"year": 2028},
        link="calendar",
    ),
    Event(
        "case_completed",
        "办件已办结",
        "申请人",
        (INAPP, EMAIL, SMS),
        {**_TASK, "result": "准予入市"},
        link="case",
    ),
    Event(
        "supplement_notice",
        "补正材料通知",
        "申请人",
        (INAPP, EMAIL, SMS),
        {**_TASK, "missing_items": ["宗地界址图", "村民代表会议决议"], "reason": "图件不清晰"},
    ),
)
BY_CODE = {event.code: event for event in EVENTS}
DIGEST_SAMPLE: dict[str, Any] = {
    "day": "2026-03-09",
    "items": [
        {"event_name": "新待办指派给我", "title": "新待办：入市条件及负面清单审查", "link": ""},
        {"event_name": "已超期（红灯）", "title": "已超期：村民代表会议决议审查", "link": ""},
    ],
}


def event(code: str) -> Event:
    return BY_CODE[code]
