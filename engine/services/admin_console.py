"""The admin console's services, wired from a Landflow's parts (they hold no state of their own,
so building them per request costs nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .admin_audit import AuditLog
from .admin_definitions import DefinitionOverview
from .admin_jobs import JobAdmin
from .admin_overview import AdminOverview

if TYPE_CHECKING:
    from .container import Landflow


@dataclass(frozen=True)
class AdminConsole:
    overview: AdminOverview
    definitions: DefinitionOverview
    jobs: JobAdmin
    audit: AuditLog


def admin_console(lf: Landflow) -> AdminConsole:
    zone = ZoneInfo(lf.settings.timezone)
    return AdminConsole(
        overview=AdminOverview(lf.uow, lf.clock, lf.access, zone),
        definitions=DefinitionOverview(lf.uow, lf.clock, lf.access, lf.definitions),
        jobs=JobAdmin(lf.uow, lf.clock, lf.access),
        audit=AuditLog(lf.uow, lf.clock, lf.access, zone),
    )
