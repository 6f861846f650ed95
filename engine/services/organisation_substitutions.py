"""Stand-ins (代理): who acts for whom and when — registering, listing and ending them.
Administrators may manage any; a 负责人 (approver) those of the members of their departments.
Part of OrganisationService (engine.services.organisation)."""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from engine.clock import Clock
from engine.db.tables import Department, Membership, Substitution, User
from engine.errors import Conflict, FieldError, NotFound, ValidationFailed

from .access import Access
from .actor import Actor
from .organisation_records import find_user
from .uow import UnitOfWork

MAX_LISTED = 500
# what a stand-in is on a given day
UPCOMING, RUNNING, ENDED, CANCELLED = "upcoming", "running", "ended", "cancelled"


class Substitutions:
    uow: UnitOfWork
    clock: Clock
    access: Access
    zone: tzinfo

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    def add_substitution(
        self,
        actor: Actor,
        absent: str,
        substitute: str,
        starts_on: date,
        ends_on: date,
        reason: str,
    ) -> dict[str, Any]:
        """`substitute` acts for `absent` (admins, or the absent user's department head)."""
        if ends_on < starts_on:
            raise ValidationFailed("代理期限无效", [FieldError("ends_on", "结束日期早于开始日期")])
        if absent == substitute:
            raise ValidationFailed("代理人无效", [FieldError("substitute", "不能代理自己")])
        with self.uow.write() as session:
            absent_user, substitute_user = (
                find_user(session, absent),
                find_user(session, substitute),
            )
            if not actor.is_admin and not _heads_department_of(session, actor, absent_user):
                raise NotFound(f"用户不存在：{absent}")
            row = Substitution(
                absent_user_id=absent_user.id,
                substitute_user_id=substitute_user.id,
                starts_on=starts_on,
                ends_on=ends_on,
                reason=reason,
                created_by=actor.username,
                created_at=self.clock.now(),
            )
            session.add(row)
            session.flush()
            return _view(row, absent, substitute, self.today())

    def substitutions(
        self, actor: Actor, username: str | None = None, current: bool = False
    ) -> list[dict[str, Any]]:
        """Stand-ins, newest first: all, those where `username` is absent or substitute, or
        (current) those not yet over."""
        self.access.require_admin(actor)
        today = self.today()
        absent, substitute = aliased(User), aliased(User)
        with self.uow.read() as session:
            query = (
                select(Substitution, absent.username, substitute.username)
                .join(absent, absent.id == Substitution.absent_user_id)
                .join(substitute, substitute.id == Substitution.substitute_user_id)
                .order_by(Substitution.starts_on.desc(), Substitution.id.desc())
                .limit(MAX_LISTED)
            )
            if username:
                query = query.where(
                    (absent.username == username) | (substitute.username == username)
                )
            if current:
                query = query.where(
                    Substitution.ends_on >= today, Substitution.ends_on >= Substitution.starts_on
                )
            return [_view(row, a, s, today) for row, a, s in session.execute(query)]

    def end_substitution(self, actor: Actor, substitution_id: int) -> dict[str, Any]:
        """End a stand-in at once: from today on it no longer counts (its last day becomes
        yesterday). One that has not begun yet is thereby cancelled."""
        with self.uow.write() as session:
            row = session.get(Substitution, substitution_id)
            absent_user = session.get(User, row.absent_user_id) if row is not None else None
            if (
                row is None
                or absent_user is None
                or (not actor.is_admin and not _heads_department_of(session, actor, absent_user))
            ):
                raise NotFound(f"没有编号为 {substitution_id} 的代理")
            today = self.today()
            if _state(row, today) in (ENDED, CANCELLED):
                raise Conflict("该代理已经结束")
            row.ends_on = today - timedelta(days=1)
            substitute = session.get_one(User, row.substitute_user_id)
            return _view(row, absent_user.username, substitute.username, today)


def _heads_department_of(session: Session, actor: Actor, user: User) -> bool:
    codes = session.scalars(
        select(Department.code)
        .join(Membership, Membership.department_id == Department.id)
        .where(Membership.user_id == user.id)
    ).all()
    return any(actor.has_role(code, "approver") for code in codes)


def _state(row: Substitution, today: date) -> str:
    if row.ends_on < row.starts_on:
        return CANCELLED
    if row.ends_on < today:
        return ENDED
    if row.starts_on > today:
        return UPCOMING
    return RUNNING


def _view(row: Substitution, absent: str, substitute: str, today: date) -> dict[str, Any]:
    return {
        "id": row.id,
        "absent": absent,
        "substitute": substitute,
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat(),
        "reason": row.reason,
        "created_by": row.created_by,
        "state": _state(row, today),
    }
