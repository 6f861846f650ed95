"""Who may see and act on what. Every service asks here; nothing else decides access.

The organisation issue refines these rules by department, region and role; until then any
signed-in user works on any case and administration is for admins."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.db.tables import HumanTask, Instance
from engine.errors import NotFound, PermissionDenied

from .actor import Actor


class Access:
    def require_admin(self, actor: Actor) -> None:
        if not actor.is_admin:
            raise PermissionDenied("this action is for administrators")

    def check_can_start(self, session: Session, actor: Actor, process_id: str, region: str) -> None:
        return None

    def can_see_instance(self, session: Session, actor: Actor, instance: Instance) -> bool:
        return True

    def visible_instances(self, session: Session, actor: Actor) -> Select:
        return select(Instance)

    def visible_tasks(self, session: Session, actor: Actor) -> Select:
        return select(HumanTask)

    def can_see_task(self, session: Session, actor: Actor, task: HumanTask) -> bool:
        return True

    def can_act_on_task(self, session: Session, actor: Actor, task: HumanTask) -> bool:
        return True

    def instance_for_admin(self, session: Session, actor: Actor, instance_id: str) -> Instance:
        self.require_admin(actor)
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound(f"no case with id '{instance_id}'")
        return instance
