"""The plan of a CSV import: per row of the file, what importing it would add or change in the
organisation as it stands, or why it is refused. Reads only; engine.services.organisation_import
previews and applies it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db.tables import Department, HumanTask, Membership, Region, User
from engine.domain.organisation import DEPARTMENT_TYPES, LEVEL_NAMES, LEVELS, ROLES, level_rank
from engine.errors import FieldError

from .organisation_records import (
    USERNAME,
    RegionSpec,
    password_problems,
    region_problems,
    role_problems,
)
from .recorder import TaskState

ADD, CHANGE, SAME, REFUSED = "add", "change", "same", "refused"
Rows = list[tuple[int, dict[str, str]]]


@dataclass
class PlannedRow:
    """One row of the file and what importing it does."""

    line: int  # line of the file (the header is line 1)
    key: str  # region code, department code, or username
    label: str  # what people call it
    values: dict[str, str]
    action: str = ADD
    changes: list[str] = field(default_factory=list)
    problems: list[FieldError] = field(default_factory=list)
    first_of_user: bool = False  # users: the row whose name and password count

    def refuse(self, problems: list[FieldError]) -> None:
        if problems:
            self.action = REFUSED
            self.problems.extend(problems)

    def view(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "key": self.key,
            "label": self.label,
            "action": self.action,
            "changes": self.changes,
            "problems": [p.as_dict() for p in self.problems],
        }


# ---- regions ----------------------------------------------------------------------------------
def plan_regions(session: Session, rows: Rows) -> list[PlannedRow]:
    """Parents before children (by level), so the order of the file does not matter."""
    ordered = sorted(rows, key=lambda r: level_rank(r[1].get("level", "")) if _known(r) else 99)
    known = {r.code: r for r in session.scalars(select(Region))}
    with_children = set(session.scalars(select(Region.parent_code).distinct()))
    accepted: dict[str, Region] = {}
    plan = []
    for line, v in ordered:
        values = {k: v.get(k, "") for k in ("code", "name", "level", "parent")}
        spec = RegionSpec(values["code"], values["name"], values["level"], values["parent"] or None)
        row = PlannedRow(line, spec.code, spec.name, values)
        parent = accepted.get(spec.parent or "") or known.get(spec.parent or "")
        row.refuse(region_problems(spec, parent))
        if spec.code in accepted:
            row.refuse([FieldError("code", f"文件中重复的区划代码：{spec.code}")])
        existing = known.get(spec.code)
        if row.action != REFUSED and existing is not None:
            if (existing.parent_code or None) != spec.parent and spec.code in with_children:
                row.refuse([FieldError("parent", "已有下级区划的区划不能改变上级")])
            else:
                row.changes = _differences(
                    (
                        ("名称", existing.name, spec.name),
                        ("层级", _level(existing.level), _level(spec.level)),
                        ("上级", existing.parent_code or "无", spec.parent or "无"),
                    )
                )
                row.action = CHANGE if row.changes else SAME
        if row.action != REFUSED:
            accepted[spec.code] = Region(code=spec.code, name=spec.name, level=spec.level)
        plan.append(row)
    return plan


def _known(row: tuple[int, dict[str, str]]) -> bool:
    return row[1].get("level", "") in LEVELS


def _level(level: str) -> str:
    return LEVEL_NAMES.get(level, level)


# ---- departments ------------------------------------------------------------------------------
def plan_departments(session: Session, rows: Rows) -> list[PlannedRow]:
    regions = {r.code: r for r in session.scalars(select(Region))}
    departments = {d.code: d for d in session.scalars(select(Department))}
    waiting = _waiting_tasks(session)
    seen: set[str] = set()
    plan = []
    for line, v in rows:
        values = {k: v.get(k, "") for k in ("dept_type", "region", "name")}
        dept_type, code_of_region = values["dept_type"], values["region"]
        code = f"{dept_type}.{code_of_region}"
        region = regions.get(code_of_region)
        name = values["name"] or (
            f"{region.name}{DEPARTMENT_TYPES[dept_type]}"
            if region is not None and dept_type in DEPARTMENT_TYPES
            else code
        )
        row = PlannedRow(line, code, name, values)
        if dept_type not in DEPARTMENT_TYPES:
            row.refuse([FieldError("dept_type", f"未知部门类型：{dept_type}")])
        if region is None:
            row.refuse([FieldError("region", f"区划不存在：{code_of_region}")])
        if code in seen:
            row.refuse([FieldError("region", f"文件中重复的部门：{code}")])
        seen.add(code)
        existing = departments.get(code)
        if row.action != REFUSED and existing is not None:
            row.changes = _differences((("名称", existing.name, name),))
            if not existing.is_active:
                row.changes.append("重新启用")
            row.action = CHANGE if row.changes else SAME
        if row.action != REFUSED and (existing is None or not existing.is_active):
            count = waiting.get((dept_type, code_of_region), 0)
            if count:
                row.changes.append(f"接手 {count} 个等待派发的环节")
        plan.append(row)
    return plan


def _waiting_tasks(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(HumanTask.route_dept_type, HumanTask.route_region, func.count())
        .where(HumanTask.state == TaskState.OPEN, HumanTask.department.is_(None))
        .group_by(HumanTask.route_dept_type, HumanTask.route_region)
    ).all()
    return {(t, r): n for t, r, n in rows if t and r}


# ---- users --------------------------------------------------------------------------------
def plan_users(session: Session, rows: Rows) -> list[PlannedRow]:
    """One row per membership; a user's first row gives the name and password (an existing
    user's password is kept when the cell is empty)."""
    users = {u.username: u for u in session.scalars(select(User))}
    departments = dict(session.execute(select(Department.code, Department.name)).all())
    memberships = set(
        session.execute(
            select(User.username, Department.code, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .join(Department, Department.id == Membership.department_id)
        ).all()
    )
    firsts: dict[str, dict[str, str]] = {}
    for _, v in rows:
        firsts.setdefault(v.get("username", ""), v)
    planned_memberships: set[tuple[str, str, str]] = set()
    started: set[str] = set()
    plan = []
    for line, v in rows:
        username = v.get("username", "")
        first = firsts[username]
        values = {
            "username": username,
            "display_name": first.get("display_name", ""),
            "password": first.get("password", ""),
            "department": v.get("department", ""),
            "role": v.get("role", "") or "handler",
        }
        existing = users.get(username)
        row = PlannedRow(line, username, values["display_name"] or username, values)
        row.refuse(_user_problems(values, existing))
        department, role = values["department"], values["role"]
        if department:
            if department not in departments:
                row.refuse([FieldError("department", f"部门不存在：{department}")])
            row.refuse(role_problems(role))
        if row.action == REFUSED:
            plan.append(row)
            continue
        if username not in started:
            started.add(username)
            row.first_of_user = True
            if existing is None:
                row.changes.append("新建用户")
            else:
                row.changes = _differences(
                    (
                        (
                            "姓名",
                            existing.display_name,
                            values["display_name"] or existing.display_name,
                        ),
                    )
                )
                if values["password"]:
                    row.changes.append("重置密码")
                if not existing.is_active:
                    row.changes.append("重新启用")
        membership = (username, department, role)
        if department and membership not in memberships and membership not in planned_memberships:
            planned_memberships.add(membership)
            row.changes.append(f"加入 {departments[department]}（{ROLES[role]}）")
        if existing is None:
            row.action = ADD if row.changes else SAME
        else:
            row.action = CHANGE if row.changes else SAME
        plan.append(row)
    return plan


def _user_problems(values: dict[str, str], existing: User | None) -> list[FieldError]:
    username = values["username"]
    if not USERNAME.match(username):
        return [FieldError("username", f"用户名只能包含字母、数字和 . _ -：{username or '（空）'}")]
    if values["password"] or existing is None:
        return password_problems(values["password"], username)
    return []


def _differences(pairs: tuple[tuple[str, str, str], ...]) -> list[str]:
    return [f"{what}：{before} → {after}" for what, before, after in pairs if before != after]
