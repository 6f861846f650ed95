"""The case of a 督办单 (processes/supervision_order.bpmn), started and moved inside the
transaction of the command that issues or escalates the order: the ladder's job, or an office's
command. It does what InstanceService.start and MessageService.correlate do after their access
checks (the order's own checks come first, engine/services/supervision.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engine.bpmn import InstanceStatus
from engine.db.tables import Instance, ProcessVersion, Region
from engine.errors import Conflict, NotFound

from .actor import Actor
from .definitions import DefinitionService
from .recorder import record_history
from .supervision_records import ORDER_PROCESS

if TYPE_CHECKING:
    from .instances import InstanceService

ESCALATION_MESSAGE = "supervision_order_escalated"


def order_process(session: Session) -> ProcessVersion | None:
    """The deployed version of the order process, or None where it is not deployed (orders are
    then kept as rows only, as before the process existed)."""
    try:
        return DefinitionService.latest(session, ORDER_PROCESS)
    except NotFound:
        return None


def start_order_case(
    session: Session,
    instances: InstanceService,
    version: ProcessVersion,
    actor: Actor,
    region: Region,
    business_key: str,
    data: dict[str, Any],
    now: datetime,
) -> Instance:
    return instances.start_in(session, actor, version, region, business_key, data, now)


def end_by_escalation(
    session: Session,
    instances: InstanceService,
    instance: Instance,
    actor: Actor,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """The office escalates an order still waiting for its reply: the reply step ends by the
    diagram's message boundary event and the case at 已升级督办."""
    if instance.status not in InstanceStatus.ACTIVE:
        raise Conflict("该督办单已办结，不能升级")
    execution = instances.restore(session, instance)
    if not execution.deliver_message(ESCALATION_MESSAGE, payload):
        raise Conflict("该督办单当前不在等待反馈，请刷新后重试")
    record_history(
        session,
        instance.id,
        now,
        actor,
        "message_received",
        message=ESCALATION_MESSAGE,
        payload=payload,
    )
    instances.save(session, instance, execution, actor)
    session.flush()
