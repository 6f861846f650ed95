"""What the pages call states, actions and time limits, in Chinese."""

from __future__ import annotations

STATE_LABELS = {"open": "待办", "done": "已办", "returned": "已退回", "cancelled": "已取消"}
STATUS_LABELS = {
    "running": "办理中",
    "waiting": "等待中",
    "completed": "已办结",
    "error": "异常",
    "terminated": "已终止",
}
ACTION_LABELS = {
    "instance_started": "发起办件",
    "spot_check_drawn": "抽中年度抽查",
    "instance_migrated": "迁移版本",
    "task_created": "生成环节",
    "task_claimed": "认领",
    "task_unclaimed": "取消认领",
    "task_completed": "办理完成",
    "task_cancelled": "环节取消",
    "comment": "发表意见",
    "message_received": "收到外部消息",
    "timer_fired": "计时到期",
    "instance_completed": "办结",
    "instance_terminated": "终止办件",
    "task_returned": "退回",
    "task_transferred": "转办",
    "task_delegated": "委托",
    "task_resolved": "受托人办结交回",
    "incident_opened": "发生异常",
    "incident_retried": "管理员重试",
    "incident_step_cancelled": "管理员跳过失败环节",
    "task_rerouted": "重新派发",
    "sla_suspended": "中止计时",
    "sla_resumed": "恢复计时",
    "sla_extension_requested": "申请延期",
    "sla_extension_approved": "批准延期",
    "sla_extension_rejected": "不予延期",
    "sla_escalated": "时限预警/督办",
    "supervision_order": "督办",
    "accepted_by_law": "依法视为受理",
    "deadline_recomputed": "期限重新计算",
    "attachment_added": "上传材料",
    "attachment_deleted": "删除材料",
}
SLA_LABELS = {
    "normal": "正常",
    "yellow": "黄灯",
    "red": "红灯",
    "paused": "已中止",
    "met": "按期",
    "missed": "超期",
    "cancelled": "已取消",
    "calendar_missing": "缺少日历",
    "provisional": "暂定",
    "requested": "延期待批",
    "approved": "已延期",
    "rejected": "延期未批准",
}
CLOCK_LABELS = {"statutory": "法定时限", "committed": "承诺时限", "overall": "总时限"}
