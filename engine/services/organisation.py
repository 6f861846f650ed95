"""Organisation administration: regions and departments here; users and memberships
(organisation_users), stand-ins (organisation_substitutions) and CSV import with its preview
(organisation_import) in their own modules, gathered into one service. Creating a department
re-routes the tasks that were waiting for it."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.clock import Clock
from engine.db.tables import Department, Region
from engine.domain.organisation import department_code

from .access import Access
from .actor import Actor
from .organisation_import import CsvImport
from .organisation_records import (
    DepartmentSpec,
    RegionSpec,
    UserSpec,
    department_view,
    put_department,
    put_region,
    put_user,
    region_view,
)
from .organisation_substitutions import Substitutions
from .organisation_users import UserAdministration
from .uow import UnitOfWork

__all__ = ["DepartmentSpec", "OrganisationService", "RegionSpec", "UserSpec"]
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")


class OrganisationService(UserAdministration, Substitutions, CsvImport):
    def __init__(
        self, uow: UnitOfWork, clock: Clock, access: Access, zone: tzinfo = DEFAULT_ZONE
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.zone = zone  # stand-ins run by local dates

    # ---- reading ---------------------------------------------------------------------------
    def regions(self, actor: Actor, parent: str | None = None) -> list[dict[str, Any]]:
        with self.uow.read() as session:
            query = select(Region).order_by(Region.path)
            if parent:
                query = query.where(Region.parent_code == parent)
            return [region_view(r) for r in session.scalars(query)]

    def departments(self, actor: Actor, region: str | None = None) -> list[dict[str, Any]]:
        with self.uow.read() as session:
            query = select(Department).order_by(Department.region_code, Department.dept_type)
            if region:
                query = query.where(Department.region_code == region)
            return [department_view(d) for d in session.scalars(query)]

    # ---- commands --------------------------------------------------------------------------
    def load(
        self,
        actor: Actor,
        regions: list[RegionSpec],
        departments: list[DepartmentSpec],
        users: list[UserSpec],
    ) -> dict[str, int]:
        """Create or update regions, departments and users in one transaction."""
        self.access.require_admin(actor)
        with self.uow.write() as session:
            now = self.clock.now()
            for region in regions:
                put_region(session, region)
            session.flush()
            rerouted = 0
            for department in departments:
                rerouted += len(put_department(session, actor, department, now))
            session.flush()
            for user in users:
                put_user(session, user, now)
            return {
                "regions": len(regions),
                "departments": len(departments),
                "users": len(users),
                "rerouted_tasks": rerouted,
            }

    def create_region(self, actor: Actor, spec: RegionSpec) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            return region_view(put_region(session, spec))

    def create_department(self, actor: Actor, spec: DepartmentSpec) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            rerouted = put_department(session, actor, spec, self.clock.now())
            code = department_code(spec.dept_type, spec.region)
            view = department_view(
                session.scalars(select(Department).where(Department.code == code)).one()
            )
            view["rerouted_tasks"] = [t.id for t in rerouted]
            return view
