"""Build an Actor from a user's memberships, substitutions and leadership offices."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import Department, Membership, Region, Substitution, User
from engine.domain.organisation import LEADERSHIP_OFFICE

from .actor import Actor


def load_actor(session: Session, user: User, today: date) -> Actor:
    absent = dict(
        session.execute(
            select(User.id, User.username)
            .join(Substitution, Substitution.absent_user_id == User.id)
            .where(
                Substitution.substitute_user_id == user.id,
                Substitution.starts_on <= today,
                Substitution.ends_on >= today,
                User.is_active,
            )
        ).all()
    )
    rows = session.execute(
        select(
            Membership.user_id, Membership.role, Department.code, Department.dept_type, Region.path
        )
        .join(Department, Department.id == Membership.department_id)
        .join(Region, Region.code == Department.region_code)
        .where(Membership.user_id.in_([user.id, *absent]), Department.is_active)
    ).all()
    own = [r for r in rows if r.user_id == user.id]
    own_codes = {r.code for r in own}
    stand_in = tuple(
        sorted(
            {
                (r.code, absent[r.user_id])
                for r in rows
                if r.user_id != user.id and r.code not in own_codes
            }
        )
    )
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        is_admin=user.is_admin or any(r.role == "admin" for r in own),
        departments=frozenset(r.code for r in rows),
        roles=frozenset((r.code, r.role) for r in own),
        territories=tuple(
            sorted({r.path for r in own if r.dept_type == LEADERSHIP_OFFICE or r.role == "office"})
        ),
        stands_in_for=frozenset(absent.values()),
        region_paths=tuple(sorted({r.path for r in rows})),
        stand_in=stand_in,
    )
