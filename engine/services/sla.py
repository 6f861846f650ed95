"""SLA clocks on tasks and cases: start them from the time-limit rules (or the diagram), stop
them with the task, suspend and resume, one extension within the law's maximum signed off by a
department head, and re-computation when the calendar changes. The ladder runs as jobs
(escalation.py); the clock rows are kept by sla_clocks.py."""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import (
    HumanTask,
    Instance,
    Job,
    LegalAcceptance,
    SlaClock,
    SlaSuspension,
    SupervisionOrder,
)
from engine.domain.escalation import DEFAULT_LADDER, Rung
from engine.domain.organisation import LEADERSHIP_OFFICE
from engine.domain.sla import ClockState, local_day, suspended_length
from engine.domain.time_limits import KIND_NAMES
from engine.errors import Conflict, NotFound

from .access import Access
from .actor import SYSTEM, Actor
from .calendar import CalendarService
from .case_notices import case_paused
from .escalation import Escalation
from .notify.audience import applicants
from .notify.outbox import Outbox
from .recorder import record_history
from .sla_clocks import SLA_JOB, ClockKeeper, cancel_jobs, of_task, open_suspension
from .sla_extensions import ExtensionCommands
from .sla_law import SUPPLEMENT, SUSPENSION_TYPES, check_suspension, late_supplement_refusal
from .sla_start import ClockStarter
from .sla_views import acceptance_view, clocks_view, iso, order_view
from .time_limits import TimeLimitService
from .uow import UnitOfWork

__all__ = ["SLA_JOB", "SUSPENSION_TYPES", "SlaService"]


class SlaService(ExtensionCommands):
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        calendar: CalendarService,
        access: Access,
        zone: tzinfo,
        yellow_default: str,
        ladder: tuple[Rung, ...] = DEFAULT_LADDER,
        time_limits: TimeLimitService | None = None,
        *,
        outbox: Outbox,
    ) -> None:
        self.outbox = outbox
        self.uow = uow
        self.clock = clock
        self.calendar = calendar
        self.access = access
        self.zone = zone
        self.keeper = ClockKeeper(clock, calendar, zone, yellow_default, ladder)
        self.escalation = Escalation(self.keeper, clock, zone, outbox)
        self.time_limits = time_limits or TimeLimitService(uow, clock, access)
        self.starter = ClockStarter(self.keeper, self.time_limits)
        calendar.listeners.append(self.recompute_running)

    # ---- used by the recorder inside a command ----------------------------------------------
    def start_task_clocks(self, session: Session, task: HumanTask, now: datetime) -> None:
        started = self.starter.start_task(session, task, now)
        instance = session.get(Instance, task.instance_id)
        if instance is not None and instance.created_at == now:
            # the case's start command: a case-wide rule applies even without sla_overall
            self.starter.start_case(session, instance, None, now)
        if started:  # a task without clocks has nothing to carry (most steps of most diagrams)
            self.keeper.sync_task(session, task)
        self.calendar.alert_provisional_years(session, now)

    def start_case_clock(
        self, session: Session, instance: Instance, text: str, now: datetime
    ) -> None:
        self.starter.start_case(session, instance, text, now)
        self.calendar.alert_provisional_years(session, now)

    def stop_task_clocks(
        self, session: Session, task: HumanTask, now: datetime, completed: bool
    ) -> None:
        clocks = of_task(session, task.id)
        if not clocks:
            return
        for clock in clocks:
            self.keeper.stop(session, clock, now, completed)
        self.keeper.sync_task(session, task, clocks)
        self.calendar.alert_provisional_years(session, now)

    def stop_case_clocks(
        self, session: Session, instance_id: str, now: datetime, completed: bool
    ) -> None:
        for clock in session.scalars(select(SlaClock).where(SlaClock.instance_id == instance_id)):
            if clock.stopped_at is None:
                self.keeper.stop(session, clock, now, completed and clock.task_id is None)

    def task_department_changed(self, session: Session, task: HumanTask) -> None:
        for clock in of_task(session, task.id):
            clock.department = task.department

    # ---- commands ----------------------------------------------------------------------------
    def suspend(
        self,
        actor: Actor,
        task_id: str,
        reason_type: str,
        reason: str,
        missing_items: list[str] | None = None,
    ) -> dict[str, Any]:
        check_suspension(reason_type, reason, missing_items)
        refusal: Conflict | None = None
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            clocks = self._running(session, task)
            now = self.clock.now()
            if reason_type == SUPPLEMENT:
                if session.scalar(
                    select(SlaSuspension.id).where(
                        SlaSuspension.clock_id.in_([c.id for c in clocks]),
                        SlaSuspension.reason_type == SUPPLEMENT,
                    )
                ):
                    raise Conflict(
                        "补正只能告知一次，须一次性列明需要补正的全部内容（行政许可法第三十二条）"
                    )
                calendar = self.keeper.calendar_in(session)
                refusal = late_supplement_refusal(session, actor, task, now, calendar, self.zone)
            if refusal is None:
                for clock in clocks:
                    clock.paused_since, clock.state = now, ClockState.PAUSED
                    session.add(
                        SlaSuspension(
                            clock_id=clock.id,
                            reason_type=reason_type,
                            reason=reason.strip(),
                            missing_items=missing_items,
                            started_at=now,
                            started_by=actor.username,
                        )
                    )
                    cancel_jobs(session, clock)
                self.keeper.sync_task(session, task)
                record_history(
                    session,
                    task.instance_id,
                    now,
                    actor,
                    "sla_suspended",
                    task_id=task.id,
                    reason_type=reason_type,
                    reason=reason.strip(),
                    missing_items=missing_items,
                )
                told = {"reason_type": reason_type, "reason": reason.strip()}
                case_paused(self.outbox, session, "case_suspended", task, actor, now, told)
                if reason_type == SUPPLEMENT:
                    self._notify_applicant(session, task, missing_items or [], reason, now)
                return self._view(session, task)
        raise refusal  # the acceptance by law is committed; the 补正 is not

    def resume(self, actor: Actor, task_id: str) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            paused = [c for c in of_task(session, task.id) if c.state == ClockState.PAUSED]
            if not paused:
                raise Conflict("该事项的时限没有中止，无需恢复")
            now = self.clock.now()
            calendar = self.keeper.calendar_in(session)
            for clock in paused:
                assert clock.paused_since is not None  # set whenever a clock is paused
                suspension = open_suspension(session, clock)
                counted = suspended_length(
                    calendar,
                    clock.unit,
                    local_day(clock.paused_since, self.zone),
                    local_day(now, self.zone),
                )
                if suspension is not None:
                    suspension.ended_at, suspension.ended_by = now, actor.username
                    suspension.days_counted = counted
                clock.suspended_days += counted
                clock.paused_since = None
                clock.state = ClockState.NORMAL
                self.keeper.compute(session, clock, now)
            self.keeper.sync_task(session, task)
            self.calendar.alert_provisional_years(session, now)
            record_history(session, task.instance_id, now, actor, "sla_resumed", task_id=task.id)
            told = {"due_at": iso(task.due_at)}
            case_paused(self.outbox, session, "case_resumed", task, actor, now, told)
            return self._view(session, task)

    def task_clocks(self, actor: Actor, task_id: str) -> dict[str, Any]:
        with self.uow.read() as session:
            return self._view(session, self.access.visible_task(session, actor, task_id))

    def case_time_limits(self, actor: Actor, instance_id: str) -> dict[str, Any]:
        """The case-wide clock and whether the case was accepted by law (行政许可法 §32)."""
        with self.uow.read() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or not self.access.can_see_instance(session, actor, instance):
                raise NotFound("未找到该办件，或您无权查看")
            clocks = list(
                session.scalars(
                    select(SlaClock)
                    .where(SlaClock.instance_id == instance.id, SlaClock.task_id.is_(None))
                    .order_by(SlaClock.id)
                )
            )
            view = clocks_view(
                clocks, [], self.keeper.calendar_in(session), self.clock.now(), self.zone
            )
            view.pop("suspensions")
            view["instance_id"] = instance.id
            view["accepted_by_law"] = acceptance_view(session.get(LegalAcceptance, instance.id))
            return view

    def supervision_orders(self, actor: Actor, status: str = "open") -> list[dict[str, Any]]:
        with self.uow.read() as session:
            query = select(SupervisionOrder).order_by(SupervisionOrder.id.desc())
            if status:
                query = query.where(SupervisionOrder.status == status)
            if not actor.is_admin:
                offices = [d for d in actor.departments if d.startswith(f"{LEADERSHIP_OFFICE}.")]
                query = query.where(
                    SupervisionOrder.office.in_(offices)
                    | SupervisionOrder.department.in_(actor.departments)
                )
            return [order_view(o) for o in session.scalars(query.limit(500))]

    def alerts(self, actor: Actor) -> list[dict[str, Any]]:
        return self.calendar.alerts(actor)

    # ---- re-computation and jobs --------------------------------------------------------------
    def start_up(self, rules_file: Path) -> dict[str, int]:
        """Seed the time-limit rules from the file; clocks that an older version left without a
        calendar (state calendar_missing) get their provisional due dates."""
        counts = self.time_limits.seed_from_file(rules_file)
        with self.uow.write() as session:
            stranded = session.scalars(
                select(SlaClock).where(SlaClock.state == ClockState.CALENDAR_MISSING)
            ).all()
            if stranded:
                self.recompute_running(session)
        return counts

    def recompute_running(self, session: Session, actor: Actor | None = None) -> None:
        """The calendar changed: every open clock gets new due dates and jobs; each change of a
        due date (or of its provisional mark) is recorded in the case's history."""
        now = self.clock.now()
        open_clocks = session.scalars(
            select(SlaClock).where(SlaClock.state.in_(ClockState.OPEN)).order_by(SlaClock.id)
        ).all()
        for clock in open_clocks:
            before, was_provisional = clock.due_at, bool(clock.provisional)
            self.keeper.compute(session, clock, now)
            if clock.due_at != before or bool(clock.provisional) != was_provisional:
                record_history(
                    session,
                    clock.instance_id,
                    now,
                    actor or SYSTEM,
                    "deadline_recomputed",
                    task_id=clock.task_id,
                    clock=clock.kind,
                    old_due_at=iso(before),
                    new_due_at=iso(clock.due_at),
                    was_provisional=was_provisional,
                    provisional=bool(clock.provisional),
                )
            if clock.task_id:
                task = session.get(HumanTask, clock.task_id)
                if task is not None:
                    self.keeper.sync_task(session, task)
        self.calendar.alert_provisional_years(session, now)

    def fire(self, session: Session, job: Job, worker: str) -> None:
        """Job handler: run one rung of a clock's ladder, once."""
        self.escalation.fire(session, job, worker)

    # ---- internals ------------------------------------------------------------------------
    def _running(self, session: Session, task: HumanTask) -> list[SlaClock]:
        clocks = [c for c in of_task(session, task.id) if c.state in ClockState.RUNNING]
        if not clocks:
            raise Conflict("该事项没有正在计时的时限")
        return clocks

    def _clock_of_kind(self, session: Session, task: HumanTask, kind: str) -> SlaClock:
        for clock in of_task(session, task.id):
            if clock.kind == kind:
                return clock
        raise Conflict(f"该事项没有{KIND_NAMES.get(kind, '该种')}时限")

    def _notify_applicant(
        self, session: Session, task: HumanTask, items: list[str], reason: str, now: datetime
    ) -> None:
        """补正 notice: the case's applicant, or whoever started the case when it has none."""
        instance = session.get_one(Instance, task.instance_id)
        self.outbox.emit(
            session,
            "supplement_notice",
            applicants(session, instance) or [instance.started_by],
            now,
            task=task,
            payload={"missing_items": items, "reason": reason.strip()},
            key=f"supplement_notice:{task.id}:{now.isoformat()}",
        )

    def _view(self, session: Session, task: HumanTask) -> dict[str, Any]:
        clocks = of_task(session, task.id)
        suspensions = session.scalars(
            select(SlaSuspension)
            .where(SlaSuspension.clock_id.in_([c.id for c in clocks]))
            .order_by(SlaSuspension.id)
        ).all()
        calendar = self.keeper.calendar_in(session)
        return {
            "task_id": task.id,
            "due_at": iso(task.due_at),
            "sla_state": task.sla_state,
            **clocks_view(clocks, list(suspensions), calendar, self.clock.now(), self.zone),
            "accepted_by_law": acceptance_view(session.get(LegalAcceptance, task.instance_id)),
        }
