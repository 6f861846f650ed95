"""CSV import of regions, departments and users, with a preview.

A file is first planned against the organisation as it stands: per row, what it would add or
change, or why it is refused. `preview` shows the plan and writes nothing. `apply_import`
plans again inside its transaction and applies the rows of one window of the plan (skipping
refused ones), so a long file is imported in slices, each one command, with its progress
shown between them. `import_csv` is the all-or-nothing import of the original API: any refused
row refuses the whole file. Part of OrganisationService (engine.services.organisation)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import User
from engine.errors import BadRequest, FieldError, ValidationFailed

from .access import Access
from .actor import Actor
from .auth import hash_password
from .organisation_import_plan import (
    ADD,
    CHANGE,
    REFUSED,
    SAME,
    PlannedRow,
    plan_departments,
    plan_regions,
    plan_users,
)
from .organisation_records import (
    DepartmentSpec,
    RegionSpec,
    UserSpec,
    add_membership,
    put_department,
    put_region,
    put_user,
)
from .uow import UnitOfWork

KINDS = ("regions", "departments", "users")
CSV_COLUMNS = {
    "regions": ("code", "name", "level"),
    "departments": ("dept_type", "region"),
    "users": ("username",),
}


class CsvImport:
    uow: UnitOfWork
    clock: Clock
    access: Access

    def preview(self, actor: Actor, kind: str, text: str) -> dict[str, Any]:
        """What importing the file would do, row by row; nothing is written."""
        self.access.require_admin(actor)
        rows = read_rows(kind, text)
        with self.uow.read() as session:
            plan = _plan(session, kind, rows)
        return _plan_view(kind, plan)

    def apply_import(
        self, actor: Actor, kind: str, text: str, start: int = 0, count: int | None = None
    ) -> dict[str, Any]:
        """Apply the rows plan[start:start+count] that are not refused, in one transaction.
        Answers what was done and where the next slice starts (None when done)."""
        self.access.require_admin(actor)
        rows = read_rows(kind, text)
        with self.uow.write() as session:
            plan = _plan(session, kind, rows)
            start = max(start, 0)
            end = len(plan) if count is None else min(len(plan), start + max(count, 1))
            window = plan[start:end]
            rerouted = self._apply(session, actor, kind, window)
            return {
                "kind": kind,
                "total": len(plan),
                "start": start,
                "next": end if end < len(plan) else None,
                "applied": sum(1 for r in window if r.action in (ADD, CHANGE)),
                "unchanged": sum(1 for r in window if r.action == SAME),
                "refused": [r.view() for r in window if r.action == REFUSED],
                "rerouted_tasks": rerouted,
            }

    def import_csv(self, actor: Actor, kind: str, text: str) -> dict[str, int]:
        """All or nothing: regions code,name,level,parent; departments dept_type,region,name;
        users username,display_name,password,department,role (one row per membership)."""
        self.access.require_admin(actor)
        rows = read_rows(kind, text)
        with self.uow.write() as session:
            plan = _plan(session, kind, rows)
            refused = [r for r in plan if r.action == REFUSED]
            if refused:
                raise ValidationFailed(
                    f"第 {refused[0].line} 行无法导入，整个文件未导入",
                    [
                        FieldError(p.field, f"第 {r.line} 行：{p.message}")
                        for r in refused
                        for p in r.problems
                    ],
                )
            rerouted = self._apply(session, actor, kind, plan)
            users = len({r.key for r in plan}) if kind == "users" else 0
            return {
                "regions": len(plan) if kind == "regions" else 0,
                "departments": len(plan) if kind == "departments" else 0,
                "users": users,
                "rerouted_tasks": rerouted,
            }

    # ---- applying ------------------------------------------------------------------------------
    def _apply(self, session: Session, actor: Actor, kind: str, rows: list[PlannedRow]) -> int:
        now = self.clock.now()
        rerouted = 0
        for row in rows:
            if row.action == REFUSED:
                continue
            v = row.values
            if kind == "regions":
                put_region(
                    session, RegionSpec(v["code"], v["name"], v["level"], v["parent"] or None)
                )
                session.flush()
            elif kind == "departments":
                spec = DepartmentSpec(v["dept_type"], v["region"], v["name"] or None)
                rerouted += len(put_department(session, actor, spec, now))
            else:
                self._apply_user_row(session, row, now)
        return rerouted

    @staticmethod
    def _apply_user_row(session: Session, row: PlannedRow, now: datetime) -> None:
        """The user's first row sets name and password (kept when empty for an existing user)
        and re-activates; every row adds its membership."""
        v = row.values
        user = session.scalar(select(User).where(User.username == v["username"]))
        if row.first_of_user or user is None:
            if v["password"]:
                password_hash = hash_password(v["password"])
            else:
                assert user is not None  # the plan refuses a new user without a password
                password_hash = user.password_hash
            user = put_user(
                session,
                UserSpec(
                    v["username"],
                    v["display_name"] or (user.display_name if user else v["username"]),
                    password_hash,
                    is_admin=user.is_admin if user else False,
                ),
                now,
            )
        if v["department"]:
            add_membership(session, user, v["department"], v["role"])
            session.flush()


def read_rows(kind: str, text: str) -> list[tuple[int, dict[str, str]]]:
    """(line, values) per data row, values stripped; the required columns checked."""
    if kind not in KINDS:
        raise BadRequest("kind 只能是 regions、departments 或 users")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS[kind] if c not in header]
    if missing:
        raise ValidationFailed("CSV 缺少必需的列", [FieldError(c, "缺少此列") for c in missing])
    rows = []
    for values in reader:
        clean = {
            (k or "").strip(): (v or "").strip() if isinstance(v, str) else ""
            for k, v in values.items()
        }
        if not any(clean.values()):
            continue
        rows.append((reader.line_num, clean))
    if not rows:
        raise ValidationFailed("CSV 没有数据行", [FieldError("file", "文件中只有表头")])
    return rows


def _plan(session: Session, kind: str, rows: list[tuple[int, dict[str, str]]]) -> list[PlannedRow]:
    if kind == "regions":
        return plan_regions(session, rows)
    if kind == "departments":
        return plan_departments(session, rows)
    return plan_users(session, rows)


def _plan_view(kind: str, plan: list[PlannedRow]) -> dict[str, Any]:
    counts = {a: sum(1 for r in plan if r.action == a) for a in (ADD, CHANGE, SAME, REFUSED)}
    return {
        "kind": kind,
        "total": len(plan),
        "counts": counts,
        "rows": [r.view() for r in sorted(plan, key=lambda r: r.line)],  # in the file's order
    }
