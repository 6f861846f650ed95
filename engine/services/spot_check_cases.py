"""Starting the check case (processes/consolidation_spot_check.bpmn) of a drawn project inside
the draw's own transaction, so a draw and its cases are recorded together or not at all.

It does what InstanceService.start does after its access check (the draw has its own), with
the draw written on the case's first history entry: the timeline says the case was drawn and
with which seed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import InstanceStatus
from engine.db.tables import Instance, Region
from engine.errors import Conflict, NotFound

from .actor import Actor
from .case_notices import announce
from .definitions import DefinitionService
from .instances import InstanceService
from .recorder import record_execution, record_history
from .search import refresh_search_text

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
    execution = instances.runtime.start(
        DefinitionService.loaded(version),
        {**data, "region": region.code, "business_key": business_key},
    )
    instance = Instance(
        id=str(uuid.uuid4()),
        process_version_id=version.id,
        process_id=CHECK_PROCESS,
        version=version.version,
        region=region.code,
        region_path=region.path,
        business_key=business_key,
        status=InstanceStatus.RUNNING,
        data={},
        state_json="",
        error=None,
        started_by=actor.username,
        created_at=now,
        updated_at=now,
    )
    session.add(instance)
    instance.case_no = instances.naming.next_number(
        session, CHECK_PROCESS, version.name, now.astimezone(instances.sla.zone).year
    )
    session.flush()
    record_history(
        session,
        instance.id,
        now,
        actor,
        "instance_started",
        process_id=CHECK_PROCESS,
        version=version.version,
        data=data,
        reason=reason,
    )
    overall = version.metadata_json.get("process_properties", {}).get("sla_overall")
    if overall:
        instances.sla.start_case_clock(session, instance, overall, now)
    recorded = record_execution(
        session, instance, execution, actor, now, version.metadata_json["lanes"], instances.sla
    )
    case_data = instance.data or {}
    instance.title = instances.naming.title(CHECK_PROCESS, version.name, case_data, region.name)
    instance.applicant = instances.naming.applicant(CHECK_PROCESS, case_data)
    refresh_search_text(session, instance)
    session.flush()
    announce(instances.outbox, session, instance, recorded, actor, now)
    return instance
