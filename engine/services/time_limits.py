"""Time-limit rules as data: seeded from processes/time_limits.csv at start-up, listed and
changed by administrators, and looked up when a clock starts (the most specific region wins).

Seeding is idempotent: a rule missing from the table is added; a rule the file still owns
(`updated_by` = "file") follows the file; a rule an administrator changed keeps the change; a
file-owned rule no longer in the file is removed. A change affects clocks started afterwards."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import TimeLimitRule
from engine.domain.time_limits import (
    LimitRule,
    consistency_problems,
    effective,
    normalise_region,
    parse_rules_csv,
    rule_problems,
)
from engine.errors import FieldError, NotFound, ValidationFailed

from .access import Access
from .actor import Actor
from .sla_views import iso
from .uow import UnitOfWork

TIME_LIMITS_FILE = "time_limits.csv"
FROM_FILE = "file"


class TimeLimitService:
    def __init__(self, uow: UnitOfWork, clock: Clock, access: Access) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access

    # ---- used by the clocks inside a command ---------------------------------------------
    def rules_for(
        self, session: Session, process_id: str, task_spec: str, region: str
    ) -> dict[str, LimitRule]:
        """Per kind, the rule for this task (or '*') that applies in `region`."""
        rows = session.scalars(
            select(TimeLimitRule).where(
                TimeLimitRule.process_id == process_id, TimeLimitRule.task_spec == task_spec
            )
        )
        return effective((_rule(r) for r in rows), region)

    # ---- start-up ------------------------------------------------------------------------
    def seed_from_file(self, path: Path) -> dict[str, int]:
        counts = {"added": 0, "updated": 0, "kept": 0, "removed": 0}
        if not path.is_file():
            return counts
        rules, problems = parse_rules_csv(path.read_text(encoding="utf-8"))
        if problems:
            raise ValidationFailed(
                f"时限规则文件 {path.name} 无效", [FieldError(path.name, p) for p in problems]
            )
        wanted = {r.key: r for r in rules}
        with self.uow.write() as session:
            now = self.clock.now()
            rows = {_rule(r).key: r for r in session.scalars(select(TimeLimitRule))}
            for key, current in rows.items():
                if key not in wanted and current.updated_by == FROM_FILE:
                    session.delete(current)
                    counts["removed"] += 1
            for key, rule in wanted.items():
                row = rows.get(key)
                if row is None:
                    session.add(_row(rule, FROM_FILE, now))
                    counts["added"] += 1
                elif _rule(row) != rule:
                    if row.updated_by == FROM_FILE:
                        _apply(row, rule, FROM_FILE, now)
                        counts["updated"] += 1
                    else:
                        counts["kept"] += 1
            session.flush()
            _check_consistent(session, None)
        return counts

    # ---- administration ----------------------------------------------------------------------
    def list(
        self, actor: Actor, process_id: str | None = None, task_spec: str | None = None
    ) -> list[dict[str, Any]]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            query = select(TimeLimitRule).order_by(
                TimeLimitRule.process_id,
                TimeLimitRule.task_spec,
                TimeLimitRule.region_prefix,
                TimeLimitRule.kind,
            )
            if process_id:
                query = query.where(TimeLimitRule.process_id == process_id)
            if task_spec:
                query = query.where(TimeLimitRule.task_spec == task_spec)
            return [rule_view(r) for r in session.scalars(query)]

    def put(self, actor: Actor, rule: LimitRule) -> dict[str, Any]:
        """Add or change the rule of (process, task, region, kind)."""
        self.access.require_admin(actor)
        problems = rule_problems(rule)
        if problems:
            raise ValidationFailed("时限规则无效", [FieldError(f, m) for f, m in problems])
        rule = dataclasses.replace(rule, region_prefix=normalise_region(rule.region_prefix))
        with self.uow.write() as session:
            now = self.clock.now()
            row = session.scalar(
                select(TimeLimitRule).where(
                    TimeLimitRule.process_id == rule.process_id,
                    TimeLimitRule.task_spec == rule.task_spec,
                    TimeLimitRule.region_prefix == rule.region_prefix,
                    TimeLimitRule.kind == rule.kind,
                )
            )
            if row is None:
                row = _row(rule, actor.username, now)
                session.add(row)
            else:
                _apply(row, rule, actor.username, now)
            session.flush()
            _check_consistent(session, (rule.process_id, rule.task_spec))
            return rule_view(row)

    def delete(self, actor: Actor, rule_id: int) -> None:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            row = session.get(TimeLimitRule, rule_id)
            if row is None:
                raise NotFound(f"没有编号为 {rule_id} 的时限规则")
            session.delete(row)
            session.flush()
            _check_consistent(session, (row.process_id, row.task_spec))


def rule_view(row: TimeLimitRule) -> dict[str, Any]:
    rule = _rule(row)
    return {
        "id": row.id,
        "process_id": row.process_id,
        "task_spec": row.task_spec,
        "region_prefix": row.region_prefix,
        "kind": row.kind,
        "limit": row.limit_text,
        "limit_text": rule.parsed().in_words(),
        "yellow": row.yellow_rule,
        "max_extension": row.max_extension,
        "basis": row.basis,
        "updated_by": row.updated_by,
        "updated_at": iso(row.updated_at),
    }


def _check_consistent(session: Session, task: tuple[str, str] | None) -> None:
    query = select(TimeLimitRule)
    if task is not None:
        query = query.where(TimeLimitRule.process_id == task[0], TimeLimitRule.task_spec == task[1])
    problems = consistency_problems(_rule(r) for r in session.scalars(query))
    if problems:
        raise ValidationFailed(
            "承诺时限不能超过法定时限", [FieldError("limit", p) for p in problems]
        )


def _rule(row: TimeLimitRule) -> LimitRule:
    return LimitRule(
        process_id=row.process_id,
        task_spec=row.task_spec,
        region_prefix=row.region_prefix,
        kind=row.kind,
        limit=row.limit_text,
        yellow=row.yellow_rule,
        max_extension=row.max_extension,
        basis=row.basis,
    )


def _row(rule: LimitRule, by: str, now) -> TimeLimitRule:
    row = TimeLimitRule(
        process_id=rule.process_id,
        task_spec=rule.task_spec,
        region_prefix=rule.region_prefix,
        kind=rule.kind,
    )
    _apply(row, rule, by, now)
    return row


def _apply(row: TimeLimitRule, rule: LimitRule, by: str, now) -> None:
    row.limit_text, row.yellow_rule = rule.limit.strip(), rule.yellow or None
    row.max_extension, row.basis = rule.max_extension, rule.basis or None
    row.updated_by, row.updated_at = by, now
