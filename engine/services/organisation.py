"""Organisation administration: regions, departments, users, memberships, substitutes, and CSV
import of each. Creating a department re-routes the tasks that were waiting for it."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import Department, Membership, Region, Substitution, User
from engine.domain.organisation import (
    DEPARTMENT_TYPES,
    LEVELS,
    ROLES,
    department_code,
    level_rank,
    region_path,
)
from engine.errors import BadRequest, Conflict, FieldError, NotFound, ValidationFailed

from .access import Access
from .actor import Actor
from .auth import hash_password
from .recorder import record_history
from .routing import reroute_waiting
from .uow import UnitOfWork


@dataclass(frozen=True)
class RegionSpec:
    code: str
    name: str
    level: str
    parent: str | None = None


@dataclass(frozen=True)
class DepartmentSpec:
    dept_type: str
    region: str
    name: str | None = None


@dataclass(frozen=True)
class UserSpec:
    username: str
    display_name: str
    password_hash: str
    memberships: tuple[tuple[str, str], ...] = ()  # (department code, role)
    is_admin: bool = False


CSV_COLUMNS = {
    "regions": ("code", "name", "level"),
    "departments": ("dept_type", "region"),
    "users": ("username", "display_name", "password"),
}
USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


class OrganisationService:
    def __init__(self, uow: UnitOfWork, clock: Clock, access: Access) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access

    # ---- reading ---------------------------------------------------------------------------
    def regions(self, actor: Actor, parent: str | None = None) -> list[dict[str, Any]]:
        with self.uow.read() as session:
            query = select(Region).order_by(Region.path)
            if parent:
                query = query.where(Region.parent_code == parent)
            return [_region_view(r) for r in session.scalars(query)]

    def departments(self, actor: Actor, region: str | None = None) -> list[dict[str, Any]]:
        with self.uow.read() as session:
            query = select(Department).order_by(Department.region_code, Department.dept_type)
            if region:
                query = query.where(Department.region_code == region)
            return [_department_view(d) for d in session.scalars(query)]

    def users(self, actor: Actor) -> list[dict[str, Any]]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            rows = session.execute(
                select(User, Department.code, Membership.role)
                .outerjoin(Membership, Membership.user_id == User.id)
                .outerjoin(Department, Department.id == Membership.department_id)
                .order_by(User.username)
            ).all()
            users: dict[str, dict[str, Any]] = {}
            for user, code, role in rows:
                entry = users.setdefault(
                    user.username,
                    {
                        "username": user.username,
                        "display_name": user.display_name,
                        "is_admin": user.is_admin,
                        "is_active": user.is_active,
                        "memberships": [],
                    },
                )
                if code:
                    entry["memberships"].append({"department": code, "role": role})
            return list(users.values())

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
            for spec in regions:
                self._put_region(session, spec)
            session.flush()
            rerouted = 0
            for spec in departments:
                rerouted += len(self._put_department(session, actor, spec))
            session.flush()
            for spec in users:
                self._put_user(session, spec)
            return {
                "regions": len(regions),
                "departments": len(departments),
                "users": len(users),
                "rerouted_tasks": rerouted,
            }

    def create_region(self, actor: Actor, spec: RegionSpec) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            return _region_view(self._put_region(session, spec))

    def create_department(self, actor: Actor, spec: DepartmentSpec) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            rerouted = self._put_department(session, actor, spec)
            code = department_code(spec.dept_type, spec.region)
            view = _department_view(
                session.scalar(select(Department).where(Department.code == code))
            )
            view["rerouted_tasks"] = [t.id for t in rerouted]
            return view

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
        _check_password(password)
        with self.uow.write() as session:
            if session.scalar(select(User.id).where(User.username == username)):
                raise Conflict(f"user '{username}' already exists")
            self._put_user(
                session,
                UserSpec(
                    username, display_name, hash_password(password), tuple(memberships), is_admin
                ),
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
            user = _user(session, username)
            self._add_membership(session, user, department, role)
            return {"username": username, "department": department, "role": role}

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
            absent_user, substitute_user = _user(session, absent), _user(session, substitute)
            if not actor.is_admin and not self._heads_department_of(session, actor, absent_user):
                raise NotFound(f"no user '{absent}'")
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
            return {
                "id": row.id,
                "absent": absent,
                "substitute": substitute,
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat(),
                "reason": reason,
            }

    def import_csv(self, actor: Actor, kind: str, text: str) -> dict[str, int]:
        """CSV import. regions: code,name,level,parent; departments: dept_type,region,name;
        users: username,display_name,password,department,role (one row per membership)."""
        self.access.require_admin(actor)
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        needed = CSV_COLUMNS.get(kind)
        if needed is None:
            raise BadRequest("kind must be regions, departments or users")
        missing = [c for c in needed if rows and c not in rows[0]] or (
            [] if rows else ["(no rows)"]
        )
        if missing:
            raise ValidationFailed("CSV 缺少必需的列", [FieldError(c, "缺少此列") for c in missing])
        if kind == "regions":
            specs = [
                RegionSpec(
                    r["code"].strip(),
                    r["name"].strip(),
                    r["level"].strip(),
                    (r.get("parent") or "").strip() or None,
                )
                for r in rows
            ]
            return self.load(actor, _parent_first(specs), [], [])
        if kind == "departments":
            return self.load(
                actor,
                [],
                [
                    DepartmentSpec(
                        r["dept_type"].strip(),
                        r["region"].strip(),
                        (r.get("name") or "").strip() or None,
                    )
                    for r in rows
                ],
                [],
            )
        if kind == "users":
            return self.load(actor, [], [], _users_from_rows(rows))
        raise BadRequest("kind must be regions, departments or users")

    # ---- internals -------------------------------------------------------------------------
    def _put_region(self, session: Session, spec: RegionSpec) -> Region:
        errors = []
        if not spec.code.isdigit() or len(spec.code) not in (6, 9, 12):
            errors.append(FieldError("code", f"区划代码应为 6、9 或 12 位数字：{spec.code}"))
        if spec.level not in LEVELS:
            errors.append(FieldError("level", f"层级应为 {'、'.join(LEVELS)}"))
        if errors:
            raise ValidationFailed("区划信息无效", errors)
        parent = session.get(Region, spec.parent) if spec.parent else None
        if spec.parent and parent is None:
            raise ValidationFailed(
                "区划信息无效", [FieldError("parent", f"上级区划不存在：{spec.parent}")]
            )
        if parent and level_rank(parent.level) >= level_rank(spec.level):
            raise ValidationFailed(
                "区划信息无效", [FieldError("level", "下级区划的层级必须低于上级")]
            )
        region = session.get(Region, spec.code)
        if region is None:
            region = Region(code=spec.code)
            session.add(region)
        region.name, region.level, region.parent_code = spec.name, spec.level, spec.parent
        region.path = region_path(parent.path if parent else None, spec.code)
        return region

    def _put_department(self, session: Session, actor: Actor, spec: DepartmentSpec) -> list:
        if spec.dept_type not in DEPARTMENT_TYPES:
            raise ValidationFailed(
                "部门类型无效", [FieldError("dept_type", f"未知部门类型：{spec.dept_type}")]
            )
        region = session.get(Region, spec.region)
        if region is None:
            raise ValidationFailed(
                "部门信息无效", [FieldError("region", f"区划不存在：{spec.region}")]
            )
        code = department_code(spec.dept_type, spec.region)
        department = session.scalar(select(Department).where(Department.code == code))
        if department is None:
            department = Department(code=code, dept_type=spec.dept_type, region_code=spec.region)
            session.add(department)
        department.name = spec.name or f"{region.name}{DEPARTMENT_TYPES[spec.dept_type]}"
        department.is_active = True
        session.flush()
        rerouted = reroute_waiting(session, department)
        now = self.clock.now()
        for task in rerouted:
            record_history(
                session,
                task.instance_id,
                now,
                actor,
                "task_rerouted",
                task_id=task.id,
                department=department.code,
            )
        return rerouted

    def _put_user(self, session: Session, spec: UserSpec) -> User:
        user = session.scalar(select(User).where(User.username == spec.username))
        if user is None:
            user = User(username=spec.username, created_at=self.clock.now())
            session.add(user)
        user.display_name = spec.display_name
        user.password_hash = spec.password_hash
        user.is_admin = spec.is_admin
        user.is_active = True
        session.flush()
        for department, role in spec.memberships:
            self._add_membership(session, user, department, role)
        return user

    @staticmethod
    def _add_membership(session: Session, user: User, department: str, role: str) -> None:
        if role not in ROLES:
            raise ValidationFailed("角色无效", [FieldError("role", f"角色应为 {'、'.join(ROLES)}")])
        dept = session.scalar(select(Department).where(Department.code == department))
        if dept is None:
            raise ValidationFailed("部门不存在", [FieldError("department", department)])
        exists = session.scalar(
            select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.department_id == dept.id,
                Membership.role == role,
            )
        )
        if not exists:
            session.add(Membership(user_id=user.id, department_id=dept.id, role=role))

    @staticmethod
    def _heads_department_of(session: Session, actor: Actor, user: User) -> bool:
        codes = session.scalars(
            select(Department.code)
            .join(Membership, Membership.department_id == Department.id)
            .where(Membership.user_id == user.id)
        ).all()
        return any(actor.has_role(code, "approver") for code in codes)


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user '{username}'")
    return user


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise ValidationFailed("密码太短", [FieldError("password", "密码至少 8 位")])


def _parent_first(specs: list[RegionSpec]) -> list[RegionSpec]:
    return sorted(specs, key=lambda s: level_rank(s.level) if s.level in LEVELS else 99)


def _users_from_rows(rows: list[dict[str, str]]) -> list[UserSpec]:
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        username = row["username"].strip()
        entry = grouped.setdefault(
            username,
            {
                "display_name": row.get("display_name") or username,
                "password": row.get("password") or "",
                "memberships": [],
            },
        )
        if row.get("department"):
            entry["memberships"].append(
                (row["department"].strip(), (row.get("role") or "handler").strip())
            )
    specs = []
    for username, entry in grouped.items():
        if not USERNAME.match(username):
            raise ValidationFailed(
                "用户名无效", [FieldError("username", f"用户名无效：{username}")]
            )
        _check_password(entry["password"])
        specs.append(
            UserSpec(
                username,
                entry["display_name"],
                hash_password(entry["password"]),
                tuple(entry["memberships"]),
            )
        )
    return specs


def _region_view(region: Region) -> dict[str, Any]:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "parent": region.parent_code,
        "path": region.path,
    }


def _department_view(department: Department) -> dict[str, Any]:
    return {
        "code": department.code,
        "dept_type": department.dept_type,
        "type_name": DEPARTMENT_TYPES.get(department.dept_type, department.dept_type),
        "region": department.region_code,
        "name": department.name,
        "is_active": department.is_active,
    }
