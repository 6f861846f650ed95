"""Keeping the clock rows: start one, compute its due and yellow moments on the calendar of the
command's transaction, keep exactly one pending job for its next ladder rung, stop it, and carry
the most urgent clock onto the task row (for inbox sorting)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import HumanTask, Job, SlaClock, SlaEscalation, SlaSuspension
from engine.domain.calendar import WorkCalendar
from engine.domain.escalation import Rung, light, pending_rungs, rung_time
from engine.domain.sla import (
    ClockState,
    Limit,
    YellowRule,
    deadline,
    local_day,
    most_urgent,
)

from .calendar import CalendarService

SLA_JOB = "sla"


class ClockKeeper:
    def __init__(
        self,
        clock: Clock,
        calendar: CalendarService,
        zone: tzinfo,
        yellow_default: str,
        ladder: tuple[Rung, ...],
    ) -> None:
        self.clock = clock
        self.calendar = calendar
        self.zone = zone
        self.yellow_default = yellow_default
        self.ladder = ladder

    def start(
        self,
        session: Session,
        instance_id: str,
        task_id: str | None,
        kind: str,
        limit: Limit,
        now: datetime,
        yellow: str | None = None,
        basis: str | None = None,
        department: str | None = None,
        max_extension: int | None = None,
    ) -> SlaClock:
        clock = SlaClock(
            instance_id=instance_id,
            task_id=task_id,
            kind=kind,
            limit_days=limit.days,
            unit=limit.unit,
            yellow_rule=yellow or self.yellow_default,
            basis=basis,
            department=department,
            started_at=now,
            start_day=local_day(now, self.zone),
            suspended_days=0,
            extension_days=0,
            state=ClockState.NORMAL,
            provisional=False,
            max_extension=max_extension,
        )
        session.add(clock)
        session.flush()
        self.compute(session, clock, now)
        return clock

    def compute(self, session: Session, clock: SlaClock, now: datetime) -> None:
        """New due and yellow moments (a paused clock keeps its state and has no job)."""
        line = deadline(
            self.calendar.current_in(session),
            clock.start_day,
            Limit(clock.limit_days, clock.unit),
            clock.extension_days,
            clock.suspended_days,
            YellowRule.parse(clock.yellow_rule),
            self.zone,
        )
        clock.due_at, clock.yellow_at = line.due_at, line.yellow_at
        clock.provisional, clock.problem = line.provisional, None
        if clock.state == ClockState.PAUSED:
            return
        clock.state = light(now, line.due_at, line.yellow_at, self.fired(session, clock))
        self.schedule(session, clock)

    def schedule(self, session: Session, clock: SlaClock) -> None:
        """Keep exactly one pending job: the clock's next rung that has not fired."""
        cancel_jobs(session, clock)
        if clock.state not in ClockState.RUNNING or clock.due_at is None:
            return
        pending = pending_rungs(self.fired(session, clock), self.ladder)
        if not pending:
            return
        due = self.rung_due(session, clock, pending[0])
        if due is None:
            return
        session.add(
            Job(
                kind=SLA_JOB,
                instance_id=clock.instance_id,
                target=f"{clock.id}:{pending[0]}",
                due_at=due,
                status="pending",
                attempts=0,
                payload={"rung": pending[0], "clock": clock.kind},
                created_at=self.clock.now(),
            )
        )

    def rung_due(self, session: Session, clock: SlaClock, rung: str) -> datetime | None:
        if clock.due_at is None or clock.yellow_at is None:
            return None  # a clock without a deadline has no rungs
        return rung_time(
            self.calendar.current_in(session),
            rung,
            clock.due_at,
            clock.yellow_at,
            self.ladder,
            self.zone,
        )

    def stop(self, session: Session, clock: SlaClock, now: datetime, completed: bool) -> None:
        cancel_jobs(session, clock)
        clock.stopped_at = now
        if clock.state == ClockState.PAUSED:
            suspension = open_suspension(session, clock)
            if suspension is not None:
                suspension.ended_at, suspension.ended_by = now, "system"
        if not completed:
            clock.state = ClockState.CANCELLED
        elif clock.due_at is None:
            clock.state = ClockState.MET if clock.state == ClockState.PAUSED else clock.state
        else:
            clock.state = ClockState.MET if now <= clock.due_at else ClockState.MISSED

    def sync_task(
        self, session: Session, task: HumanTask, clocks: list[SlaClock] | None = None
    ) -> None:
        """The task row carries its most urgent clock, for inbox sorting and lists."""
        clocks = of_task(session, task.id) if clocks is None else clocks
        if not clocks:
            return
        task.sla_state = most_urgent(c.state for c in clocks)
        dues = [c.due_at for c in clocks if c.due_at is not None]
        task.due_at = min(dues) if dues else None
        task.sla_provisional = any(c.provisional for c in clocks if c.stopped_at is None)

    def calendar_in(self, session: Session) -> WorkCalendar:
        return self.calendar.current_in(session)

    @staticmethod
    def fired(session: Session, clock: SlaClock) -> set[str]:
        return set(
            session.scalars(select(SlaEscalation.rung).where(SlaEscalation.clock_id == clock.id))
        )


def of_task(session: Session, task_id: str) -> list[SlaClock]:
    return list(
        session.scalars(select(SlaClock).where(SlaClock.task_id == task_id).order_by(SlaClock.id))
    )


def open_suspension(session: Session, clock: SlaClock) -> SlaSuspension | None:
    return session.scalars(
        select(SlaSuspension).where(
            SlaSuspension.clock_id == clock.id, SlaSuspension.ended_at.is_(None)
        )
    ).first()


def cancel_jobs(session: Session, clock: SlaClock) -> None:
    session.execute(
        delete(Job).where(
            Job.kind == SLA_JOB,
            Job.instance_id == clock.instance_id,
            Job.target.startswith(f"{clock.id}:"),
            Job.status == "pending",
        )
    )
