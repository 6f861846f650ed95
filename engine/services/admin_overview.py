"""The figures on the admin console's home: what needs an administrator now (open incidents,
dead deliveries, failed jobs, tasks no department could take, years without the State
Council's holiday notice) and how much is running."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlalchemy import func, select

from engine.bpmn import InstanceStatus
from engine.clock import Clock
from engine.db.notify_tables import Delivery
from engine.db.tables import AdminAlert, CalendarYear, HumanTask, Incident, Instance, Job

from .access import Access
from .actor import Actor
from .recorder import IncidentStatus, TaskState
from .uow import UnitOfWork

CALENDAR_ALERT = "calendar_missing:"


class AdminOverview:
    def __init__(self, uow: UnitOfWork, clock: Clock, access: Access, zone: tzinfo) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.zone = zone

    def figures(self, actor: Actor) -> dict[str, Any]:
        self.access.require_admin(actor)
        this_year = self.clock.now().astimezone(self.zone).year
        with self.uow.read() as session:

            def count(model, *where) -> int:
                return session.execute(
                    select(func.count()).select_from(model).where(*where)
                ).scalar_one()

            covered = set(session.scalars(select(CalendarYear.year)))
            alerted = {
                int(key.removeprefix(CALENDAR_ALERT))
                for key in session.scalars(
                    select(AdminAlert.key).where(
                        AdminAlert.key.like(f"{CALENDAR_ALERT}%"), AdminAlert.resolved_at.is_(None)
                    )
                )
                if key.removeprefix(CALENDAR_ALERT).isdigit()
            }
            missing = sorted(({this_year, this_year + 1} | alerted) - covered)
            return {
                "open_incidents": count(Incident, Incident.status == IncidentStatus.OPEN),
                "dead_deliveries": count(Delivery, Delivery.status == "dead"),
                "failed_jobs": count(Job, Job.status == "failed"),
                "unroutable_tasks": count(
                    HumanTask, HumanTask.state == TaskState.OPEN, HumanTask.department.is_(None)
                ),
                "running_cases": count(
                    Instance,
                    Instance.status.in_([InstanceStatus.RUNNING, InstanceStatus.WAITING]),
                ),
                "error_cases": count(Instance, Instance.status == InstanceStatus.ERROR),
                "calendar_years_missing": missing,
                "this_year": this_year,
            }
