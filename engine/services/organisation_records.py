"""The rows of the organisation and how one is written: regions, departments, users and
memberships, each checked before it is put. Shared by the organisation commands and the CSV
import; every function runs inside the caller's transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.db.tables import Department, HumanTask, Membership, Region, User
from engine.domain.organisation import (
    DEPARTMENT_TYPES,
    LEVEL_NAMES,
    LEVELS,
    ROLES,
    department_code,
    level_rank,
    region_path,
)
from engine.errors import FieldError, NotFound, ValidationFailed

from .actor import Actor
from .auth_passwords import password_problems as policy_problems
from .recorder import TaskState, record_history
from .routing import reroute_waiting

USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,80}$")
PASSWORD_MIN = 8


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


# ---- checks (Chinese messages, for the pages and the import preview) -----------------------
def region_problems(spec: RegionSpec, parent: Region | None) -> list[FieldError]:
    problems = []
    if not spec.code.isdigit() or len(spec.code) not in (6, 9, 12):
        problems.append(FieldError("code", f"区划代码应为 6、9 或 12 位数字：{spec.code}"))
    if not spec.name:
        problems.append(FieldError("name", "缺少区划名称"))
    if spec.level not in LEVELS:
        problems.append(FieldError("level", f"层级应为 {'、'.join(LEVELS)}"))
    if spec.parent and parent is None:
        problems.append(FieldError("parent", f"上级区划不存在：{spec.parent}"))
    elif parent and spec.level in LEVELS and level_rank(parent.level) >= level_rank(spec.level):
        problems.append(FieldError("level", "下级区划的层级必须低于上级"))
    return problems


def password_problems(password: str, username: str = "") -> list[FieldError]:
    return policy_problems(password, username)


def check_password(password: str, username: str = "") -> None:
    problems = password_problems(password, username)
    if problems:
        raise ValidationFailed("密码不符合要求", problems)


def role_problems(role: str) -> list[FieldError]:
    if role not in ROLES:
        return [FieldError("role", f"角色应为 {'、'.join(ROLES)}")]
    return []


# ---- writers ------------------------------------------------------------------------------
def put_region(session: Session, spec: RegionSpec) -> Region:
    parent = session.get(Region, spec.parent) if spec.parent else None
    problems = region_problems(spec, parent)
    if problems:
        raise ValidationFailed("区划信息无效", problems)
    region = session.get(Region, spec.code)
    if region is None:
        region = Region(code=spec.code)
        session.add(region)
    region.name, region.level, region.parent_code = spec.name, spec.level, spec.parent
    region.path = region_path(parent.path if parent else None, spec.code)
    return region


def put_department(
    session: Session, actor: Actor, spec: DepartmentSpec, now: datetime
) -> list[HumanTask]:
    """Create or rename and re-activate; returns the waiting tasks it took over."""
    if spec.dept_type not in DEPARTMENT_TYPES:
        raise ValidationFailed(
            "部门类型无效", [FieldError("dept_type", f"未知部门类型：{spec.dept_type}")]
        )
    region = session.get(Region, spec.region)
    if region is None:
        raise ValidationFailed("部门信息无效", [FieldError("region", f"区划不存在：{spec.region}")])
    code = department_code(spec.dept_type, spec.region)
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        department = Department(code=code, dept_type=spec.dept_type, region_code=spec.region)
        session.add(department)
    department.name = spec.name or default_department_name(region, spec.dept_type)
    department.is_active = True
    session.flush()
    rerouted = reroute_waiting(session, department)
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


def default_department_name(region: Region, dept_type: str) -> str:
    return f"{region.name}{DEPARTMENT_TYPES[dept_type]}"


def put_user(session: Session, spec: UserSpec, now: datetime) -> User:
    user = session.scalar(select(User).where(User.username == spec.username))
    if user is None:
        user = User(username=spec.username, created_at=now)
        session.add(user)
    user.display_name = spec.display_name
    user.password_hash = spec.password_hash
    user.is_admin = spec.is_admin
    user.is_active = True
    session.flush()
    for department, role in spec.memberships:
        add_membership(session, user, department, role)
    return user


def add_membership(session: Session, user: User, department: str, role: str) -> bool:
    """Adds (user, department, role) unless it exists; returns whether it was added."""
    problems = role_problems(role)
    if problems:
        raise ValidationFailed("角色无效", problems)
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
    if exists:
        return False
    session.add(Membership(user_id=user.id, department_id=dept.id, role=role))
    return True


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在：{username}")
    return user


def release_claims(
    session: Session,
    user: User,
    actor: Actor,
    now: datetime,
    reason: str,
    department: str | None = None,
) -> list[str]:
    """Put the open tasks the user claimed (of one department, or all) back in their
    department's queue; a task delegated to the user stays with the delegation."""
    query = select(HumanTask).where(
        HumanTask.assignee == user.username,
        HumanTask.state == TaskState.OPEN,
        or_(HumanTask.delegation.is_(None), HumanTask.delegation != "pending"),
    )
    if department is not None:
        query = query.where(HumanTask.department == department)
    released = []
    for task in session.scalars(query.order_by(HumanTask.created_at, HumanTask.id)):
        task.assignee, task.claimed_at = None, None
        record_history(
            session,
            task.instance_id,
            now,
            actor,
            "task_unclaimed",
            task_id=task.id,
            user=user.username,
            reason=reason,
        )
        released.append(task.id)
    return released


# ---- views ----------------------------------------------------------------------------------
def region_view(region: Region) -> dict[str, Any]:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "parent": region.parent_code,
        "path": region.path,
    }


def department_view(department: Department) -> dict[str, Any]:
    return {
        "code": department.code,
        "dept_type": department.dept_type,
        "type_name": DEPARTMENT_TYPES.get(department.dept_type, department.dept_type),
        "region": department.region_code,
        "name": department.name,
        "is_active": department.is_active,
    }


def level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, level)
