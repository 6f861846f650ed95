"""Correlating an incoming message (e.g. the trading platform's 成交/流拍) to a waiting case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.bpmn import InstanceStatus
from engine.clock import Clock
from engine.db.tables import Instance, MessageWait
from engine.errors import BadRequest, Conflict, NotFound

from .access import Access
from .actor import Actor
from .instances import InstanceService
from .recorder import record_history
from .uow import UnitOfWork
from .views import instance_view


class MessageService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, instances: InstanceService, access: Access
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.instances = instances
        self.access = access

    def correlate(
        self,
        actor: Actor,
        name: str,
        business_key: str | None = None,
        instance_id: str | None = None,
        payload: Any = None,
    ) -> dict[str, Any]:
        if bool(business_key) == bool(instance_id):
            raise BadRequest("business_key 与 instance_id 须给出且只给出一个")
        with self.uow.write() as session:
            waiting = select(MessageWait.instance_id).where(MessageWait.message_name == name)
            query = select(Instance).where(
                Instance.id.in_(waiting), Instance.status.in_(InstanceStatus.ACTIVE)
            )
            if instance_id:
                query = query.where(Instance.id == instance_id)
            else:
                query = query.where(Instance.business_key == business_key)
            candidates = [
                i
                for i in session.scalars(query).all()
                if self.access.can_act_on_instance(session, actor, i)
            ]
            key = f"编号为 {instance_id}" if instance_id else f"业务编号为 {business_key}"
            target = f"{key} 的办件"
            if not candidates:
                raise NotFound(f"没有{target}在等待消息 {name}")
            if len(candidates) > 1:
                raise Conflict(f"有 {len(candidates)} 件{target}在等待消息 {name}，请改用办件编号")
            instance = candidates[0]
            self.access.check_no_incident(session, instance.id)
            execution = self.instances.restore(session, instance)
            if not execution.deliver_message(name, payload):
                raise NotFound(f"没有{target}在等待消息 {name}")
            now = self.clock.now()
            record_history(
                session, instance.id, now, actor, "message_received", message=name, payload=payload
            )
            self.instances.save(session, instance, execution, actor)
            session.flush()
            return instance_view(instance)
