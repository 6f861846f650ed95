"""Users and their memberships: listing and searching, creating, adding and removing
memberships, deactivating and reactivating. Administrators only. Part of
OrganisationService (engine.services.organisation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import AuthToken, Department, HumanTask, Membership, User
from engine.domain.organisation import ROLES
from engine.errors import Conflict, NotFound

from .access import Access
from .actor import Actor
from .auth import hash_password
from .organisation_records import (
    UserSpec,
    add_membership,
    check_password,
    find_user,
    put_user,
    release_claims,
)
from .recorder import TaskState
from .uow import UnitOfWork

PAGE_SIZE = 20
MAX_PAGE_SIZE = 200


class UserAdministration:
    uow: UnitOfWork
    clock: Clock
    access: Access

    # ---- reading ---------------------------------------------------------------------------
    def users(self, actor: Actor) -> list[dict[str, Any]]:
        """Every user with their memberships, by username."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            rows = session.scalars(select(User).order_by(User.username)).all()
            return _with_memberships(session, rows)

    def find_users(
        self,
        actor: Actor,
        query: str = "",
        department: str | None = None,
        page: int = 1,
        per_page: int = PAGE_SIZE,
    ) -> dict[str, Any]:
        """Users whose username or name contains `query` (and who belong to `department`),
        one page at a time: {"items", "total", "page", "per_page"}."""
        self.access.require_admin(actor)
        per_page = max(1, min(per_page, MAX_PAGE_SIZE))
        page = max(page, 1)
        with self.uow.read() as session:
            found = select(User)
            text = query.strip()
            if text:
                pattern = f"%{_escaped(text.lower())}%"
                found = found.where(
                    or_(
                        func.lower(User.username).like(pattern, escape="\\"),
                        func.lower(User.display_name).like(pattern, escape="\\"),
                    )
                )
            if department:
                found = found.where(
                    User.id.in_(
                        select(Membership.user_id)
                        .join(Department, Department.id == Membership.department_id)
                        .where(Department.code == department)
                    )
                )
            total = session.scalar(select(func.count()).select_from(found.subquery()))
            rows = session.scalars(
                found.order_by(User.username).limit(per_page).offset((page - 1) * per_page)
            ).all()
            return {
                "items": _with_memberships(session, rows),
                "total": total,
                "page": page,
                "per_page": per_page,
            }

    def user(self, actor: Actor, username: str) -> dict[str, Any]:
        """One user with memberships and how many open tasks they hold."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            user = find_user(session, username)
            [view] = _with_memberships(session, [user])
            view["claimed_tasks"] = session.scalar(
                select(func.count())
                .select_from(HumanTask)
                .where(HumanTask.assignee == username, HumanTask.state == TaskState.OPEN)
            )
            return view

    # ---- commands --------------------------------------------------------------------------
    def create_user(
        self,
        actor: Actor,
        username: str,
        display_name: str,
        password: str,
        memberships: list[tuple[str, str]],
        is_admin: bool = False,
    ) -> dict[str, Any]:
        self.access.require_admin(actor)
        check_password(password, username)
        with self.uow.write() as session:
            if session.scalar(select(User.id).where(User.username == username)):
                raise Conflict(f"用户名“{username}”已被使用")
            put_user(
                session,
                UserSpec(
                    username, display_name, hash_password(password), tuple(memberships), is_admin
                ),
                self.clock.now(),
            )
        return {
            "username": username,
            "display_name": display_name,
            "memberships": [{"department": d, "role": r} for d, r in memberships],
        }

    def add_membership(
        self, actor: Actor, username: str, department: str, role: str
    ) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            add_membership(session, find_user(session, username), department, role)
            return {"username": username, "department": department, "role": role}

    def remove_membership(
        self, actor: Actor, username: str, department: str, role: str
    ) -> dict[str, Any]:
        """Take one role in one department away. When it was the user's last role there, the
        tasks of that department they had claimed go back to the department's queue."""
        self.access.require_admin(actor)
        with self.uow.write() as session:
            user = find_user(session, username)
            dept = session.scalar(select(Department).where(Department.code == department))
            membership = (
                session.scalar(
                    select(Membership).where(
                        Membership.user_id == user.id,
                        Membership.department_id == dept.id,
                        Membership.role == role,
                    )
                )
                if dept is not None
                else None
            )
            if dept is None or membership is None:
                raise NotFound(f"用户 {username} 在该部门没有“{ROLES.get(role, role)}”角色")
            if role == "admin" and user.username == actor.username and not user.is_admin:
                other_admin_role = session.scalar(
                    select(Membership.id).where(
                        Membership.user_id == user.id,
                        Membership.role == "admin",
                        Membership.id != membership.id,
                    )
                )
                if other_admin_role is None:
                    raise Conflict("不能移除自己的管理员角色，请由其他管理员操作")
            session.delete(membership)
            session.flush()
            still_member = session.scalar(
                select(Membership.id).where(
                    Membership.user_id == user.id, Membership.department_id == dept.id
                )
            )
            released = []
            if still_member is None:
                released = release_claims(
                    session, user, actor, self.clock.now(), "已移出部门", department
                )
            return {
                "username": username,
                "department": department,
                "role": role,
                "released_tasks": released,
            }

    def deactivate_user(self, actor: Actor, username: str) -> dict[str, Any]:
        """Stop a user: sign-in refused, every session and token ended at once, the tasks they
        had claimed back in their departments' queues. Their history stays."""
        self.access.require_admin(actor)
        with self.uow.write() as session:
            user = find_user(session, username)
            if user.username == actor.username:
                raise Conflict("不能停用自己的账号")
            if not user.is_active:
                raise Conflict(f"用户 {username} 已是停用状态")
            user.is_active = False
            session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
            released = release_claims(session, user, actor, self.clock.now(), "用户已停用")
            return {"username": username, "is_active": False, "released_tasks": released}

    def reactivate_user(self, actor: Actor, username: str) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            user = find_user(session, username)
            if user.is_active:
                raise Conflict(f"用户 {username} 已是启用状态")
            user.is_active = True
            return {"username": username, "is_active": True, "released_tasks": []}


def _with_memberships(session: Session, users: Sequence[User]) -> list[dict[str, Any]]:
    ids = [u.id for u in users]
    memberships: dict[int, list[dict[str, str]]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(
            select(Membership.user_id, Department.code, Membership.role)
            .join(Department, Department.id == Membership.department_id)
            .where(Membership.user_id.in_(ids))
            .order_by(Department.code, Membership.role)
        ).all()
        for user_id, code, role in rows:
            memberships[user_id].append({"department": code, "role": role})
    return [
        {
            "username": u.username,
            "display_name": u.display_name,
            "is_admin": u.is_admin,
            "is_active": u.is_active,
            "memberships": memberships[u.id],
        }
        for u in users
    ]


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
