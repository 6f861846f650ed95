"""Starting the check case (processes/consolidation_spot_check.bpmn) of a drawn project inside
the draw's own transaction, so a draw and its cases are recorded together or not at all.

It does what InstanceService.start does after its access check (the draw has its own), with
the draw written on the case's first history entry: the timeline says the case was drawn and
with which seed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.db.tables import Instance, Region
from engine.errors import Conflict, NotFound

from .actor import Actor
from .definitions import DefinitionService
from .instances import InstanceService

CHECK_PROCESS = "consolidation_spot_check"


def start_check_case(
    session: Session,
    instances: InstanceService,
    actor: Actor,
    region: Region,
    business_key: str,
    data: dict[str, Any],
    reason: str,
    now: datetime,
) -> Instance:
    try:
        version = DefinitionService.latest(session, CHECK_PROCESS)
    except NotFound as exc:
        raise Conflict("抽查流程（consolidation_spot_check）尚未部署，请联系管理员") from exc
    return instances.start_in(
        session, actor, version, region, business_key, data, now, reason=reason
    )
