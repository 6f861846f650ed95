"""The law's refusals on the clocks of a case, inside the command that asks.

- 行政许可法 §32: a 补正 is notified within 5 working days of receiving the application (the
  case's start day). A later one is refused, and the case counts as accepted (受理) from the
  day it was received: a history entry `accepted_by_law` and a LegalAcceptance row.
- 行政许可法 §42: one extension per clock, at most the clock's maximum (20 + 10 working days;
  joint handling 45 + 15; other figures are data on the time-limit rule)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from engine.db.tables import HumanTask, Instance, LegalAcceptance, SlaClock
from engine.domain.calendar import WorkCalendar
from engine.domain.sla import Limit, local_day
from engine.domain.time_limits import (
    EXTENSION_BASIS,
    KIND_NAMES,
    STATUTORY,
    SUPPLEMENT_BASIS,
    SUPPLEMENT_NOTICE_WORKDAYS,
    supplement_notice_deadline,
)
from engine.errors import Conflict, FieldError, ValidationFailed

from .actor import Actor
from .recorder import record_history

SUPPLEMENT = "补正"
SUSPENSION_TYPES = {
    SUPPLEMENT: "补正材料",
    "听证": "听证",
    "招标拍卖": "招标、拍卖",
    "检测": "检验、检测",
    "鉴定": "鉴定",
    "专家评审": "专家评审",
}


def check_suspension(reason_type: str, reason: str, missing_items: list[str] | None) -> None:
    errors = []
    if reason_type not in SUSPENSION_TYPES:
        errors.append(FieldError("reason_type", "应为：" + "、".join(SUSPENSION_TYPES)))
    if not reason or not reason.strip():
        errors.append(FieldError("reason", "请填写中止理由"))
    if reason_type == SUPPLEMENT and not [i for i in (missing_items or []) if str(i).strip()]:
        errors.append(FieldError("missing_items", "补正须一次性告知需要补正的全部内容"))
    if errors:
        raise ValidationFailed("无法中止计时", errors)


def late_supplement_refusal(
    session: Session,
    actor: Actor,
    task: HumanTask,
    now: datetime,
    calendar: WorkCalendar,
    zone: tzinfo,
) -> Conflict | None:
    """None while a 补正 may still be notified; past the deadline, marks the case accepted by
    law (once) and returns the refusal to raise after the command has committed."""
    instance = session.get_one(Instance, task.instance_id)
    received = local_day(instance.created_at, zone)
    last_day = supplement_notice_deadline(calendar, received)
    if local_day(now, zone) <= last_day:
        return None
    if session.get(LegalAcceptance, instance.id) is None:
        session.add(
            LegalAcceptance(
                instance_id=instance.id,
                task_id=task.id,
                received_on=received,
                notice_deadline=last_day,
                accepted_at=now,
                basis=SUPPLEMENT_BASIS,
            )
        )
        record_history(
            session,
            instance.id,
            now,
            actor,
            "accepted_by_law",
            task_id=task.id,
            received_on=received.isoformat(),
            notice_deadline=last_day.isoformat(),
            basis=SUPPLEMENT_BASIS,
        )
    return Conflict(
        f"补正告知已逾期：申请于 {received:%Y-%m-%d} 收到，应在 {SUPPLEMENT_NOTICE_WORKDAYS} 个"
        f"工作日内（最迟 {last_day:%Y-%m-%d}）一次性告知需要补正的全部内容；逾期不告知的，自收到"
        f"申请材料之日起即为受理（{SUPPLEMENT_BASIS}）。本办件已依法视为受理，不能再以补正中止计时。",
        received_on=received.isoformat(),
        notice_deadline=last_day.isoformat(),
        accepted_by_law=True,
    )


def check_extension(clock: SlaClock, days: int) -> None:
    """An extension may not exceed the clock's maximum (the law's, or the rule's)."""
    if clock.max_extension is None or days <= clock.max_extension:
        return
    limit = Limit(clock.limit_days, clock.unit)
    unit = limit.in_words().removeprefix(str(limit.days))
    name = KIND_NAMES.get(clock.kind, "时限")
    allowed = f"最多可延长{clock.max_extension}{unit}" if clock.max_extension else "不得延期"
    basis = f"（{EXTENSION_BASIS}）" if clock.kind == STATUTORY else ""
    raise ValidationFailed(
        "延期超过上限",
        [FieldError("days", f"{name}{limit.in_words()}{allowed}{basis}，不能延长{days}{unit}")],
    )
