"""Build an Actor from a user's memberships, substitutions and leadership offices."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import Department, Membership, Region, Substitution, User
from engine.domain.organisation import LEADERSHIP_OFFICE

from .actor import Actor


def load_actor(session: Session, user: User, today: date) -> Actor:
    absent_ids = session.scalars(
        select(Substitution.absent_user_id).where(
            Substitution.substitute_user_id == user.id,
            Substitution.starts_on <= today,
            Substitution.ends_on >= today,
        )
    ).all()
    stands_in_for = frozenset(
        session.scalars(select(User.username).where(User.id.in_(absent_ids), User.is_active)).all()
    )
    rows = session.execute(
        select(
            Membership.user_id, Membership.role, Department.code, Department.dept_type, Region.path
        )
        .join(Department, Department.id == Membership.department_id)
        .join(Region, Region.code == Department.region_code)
        .where(Membership.user_id.in_([user.id, *absent_ids]), Department.is_active)
    ).all()
    departments = frozenset(r.code for r in rows)
    own = [r for r in rows if r.user_id == user.id]
    roles = frozenset((r.code, r.role) for r in own)
    territories = tuple(
        sorted({r.path for r in own if r.dept_type == LEADERSHIP_OFFICE or r.role == "office"})
    )
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        is_admin=user.is_admin or any(r.role == "admin" for r in own),
        departments=departments,
        roles=roles,
        territories=territories,
        stands_in_for=stands_in_for,
        region_paths=tuple(sorted({r.path for r in rows})),
    )
