"""Which clocks a new task or case gets. Precedence, per kind: the time-limit rule for
(process, task, most specific region) > the diagram's sla_* property > no clock. A committed
limit longer than the statutory one (rule and diagram disagreeing) is cut to the statutory."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import HumanTask, Instance, SlaClock
from engine.domain.sla import Limit, exceeds, parse_limit
from engine.domain.time_limits import (
    CASE_WIDE,
    COMMITTED,
    OVERALL,
    STATUTORY,
    LimitRule,
    legal_max_extension,
)

from .sla_clocks import ClockKeeper
from .time_limits import TimeLimitService

log = logging.getLogger(__name__)
Source = tuple[Limit, str | None, str | None, int | None]  # limit, yellow, basis, max extension


class ClockStarter:
    def __init__(self, keeper: ClockKeeper, time_limits: TimeLimitService) -> None:
        self.keeper = keeper
        self.time_limits = time_limits

    def start_task(self, session: Session, task: HumanTask, now: datetime) -> bool:
        """Start the task's clocks; whether it got any."""
        props = task.properties or {}
        rules = self.time_limits.rules_for(session, task.process_id, task.task_spec, task.region)
        sources: dict[str, Source] = {}
        for kind in (STATUTORY, COMMITTED):
            source = _source(rules.get(kind), props.get(f"sla_{kind}"), props)
            if source is not None:
                sources[kind] = source
        if STATUTORY in sources and COMMITTED in sources:
            statutory, committed = sources[STATUTORY][0], sources[COMMITTED][0]
            if exceeds(committed, statutory):
                log.warning(
                    "%s/%s: committed %s exceeds statutory %s; using the statutory limit",
                    task.process_id,
                    task.task_spec,
                    committed,
                    statutory,
                )
                sources[COMMITTED] = (statutory, *sources[COMMITTED][1:])
        for kind, (limit, yellow, basis, max_extension) in sources.items():
            self.keeper.start(
                session,
                task.instance_id,
                task.id,
                kind,
                limit,
                now,
                yellow=yellow,
                basis=basis,
                department=task.department,
                max_extension=_max_extension(kind, limit, max_extension),
            )
        return bool(sources)

    def start_case(
        self, session: Session, instance: Instance, text: str | None, now: datetime
    ) -> None:
        """The case-wide clock, once per case."""
        if session.scalar(
            select(SlaClock.id).where(
                SlaClock.instance_id == instance.id,
                SlaClock.task_id.is_(None),
                SlaClock.kind == OVERALL,
            )
        ):
            return
        rule = self.time_limits.rules_for(
            session, instance.process_id, CASE_WIDE, instance.region
        ).get(OVERALL)
        source = _source(rule, text, {})
        if source is None:
            return
        limit, yellow, basis, max_extension = source
        self.keeper.start(
            session,
            instance.id,
            None,
            OVERALL,
            limit,
            now,
            yellow=yellow,
            basis=basis,
            max_extension=_max_extension(OVERALL, limit, max_extension),
        )


def _source(rule: LimitRule | None, text: str | None, props: dict[str, Any]) -> Source | None:
    if rule is not None:
        return (
            rule.parsed(),
            rule.yellow or props.get("sla_yellow"),
            rule.basis or props.get("sla_basis"),
            rule.max_extension,
        )
    if text:
        return parse_limit(text), props.get("sla_yellow"), props.get("sla_basis"), None
    return None


def _max_extension(kind: str, limit: Limit, from_rule: int | None) -> int | None:
    return from_rule if from_rule is not None else legal_max_extension(kind, limit)
