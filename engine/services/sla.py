"""SLA clocks on tasks and cases: start and stop with the task, suspend and resume, one
extension signed off by a department head, re-computation when the calendar changes, and the
escalation ladder run as jobs (each rung exactly once)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import (
    AdminAlert,
    Department,
    HumanTask,
    Instance,
    Job,
    Membership,
    Notification,
    Region,
    SlaClock,
    SlaEscalation,
    SlaSuspension,
    SupervisionOrder,
    User,
)
from engine.domain.calendar import CalendarMissing
from engine.domain.organisation import LEADERSHIP_OFFICE, department_code
from engine.domain.sla import (
    ClockState,
    Limit,
    YellowRule,
    after,
    deadline,
    local_day,
    parse_limit,
    suspended_length,
)
from engine.errors import Conflict, FieldError, PermissionDenied, ValidationFailed

from .access import Access
from .actor import Actor
from .calendar import CalendarService
from .recorder import record_history
from .uow import UnitOfWork

log = logging.getLogger(__name__)
SLA_JOB = "sla"
SUSPENSION_TYPES = {
    "补正": "补正材料",
    "听证": "听证",
    "招标拍卖": "招标、拍卖",
    "检测": "检验、检测",
    "鉴定": "鉴定",
    "专家评审": "专家评审",
}
CLOCK_NAMES = {"statutory": "法定时限", "committed": "承诺时限", "overall": "办理总时限"}


@dataclass(frozen=True)
class Rung:
    """A step of the ladder after red: `after_workdays` past the due day, a supervision order of
    `grade` from the leadership-group office `levels_up` levels above the department's."""

    name: str
    after_workdays: int
    grade: str
    levels_up: int


DEFAULT_LADDER = (Rung("red+3", 3, "orange", 1), Rung("red+10", 10, "red", 2))


class SlaService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        calendar: CalendarService,
        access: Access,
        zone: tzinfo,
        yellow_default: str,
        ladder: tuple[Rung, ...] = DEFAULT_LADDER,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.calendar = calendar
        self.access = access
        self.zone = zone
        self.yellow_default = yellow_default
        self.ladder = ladder
        calendar.listeners.append(self.recompute_running)

    # ---- used by the recorder inside a command ----------------------------------------------
    def start_task_clocks(self, session: Session, task: HumanTask, now: datetime) -> None:
        props = task.properties or {}
        for kind in ("statutory", "committed"):
            text = props.get(f"sla_{kind}")
            if not text:
                continue
            self._start(
                session,
                task.instance_id,
                task.id,
                kind,
                parse_limit(text),
                now,
                yellow=props.get("sla_yellow"),
                basis=props.get("sla_basis"),
                department=task.department,
            )
        self._sync_task(session, task)

    def start_case_clock(
        self, session: Session, instance: Instance, text: str, now: datetime
    ) -> None:
        self._start(session, instance.id, None, "overall", parse_limit(text), now)

    def _start(
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
    ) -> None:
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
        )
        session.add(clock)
        session.flush()
        self._compute(session, clock, now)

    def stop_task_clocks(
        self, session: Session, task: HumanTask, now: datetime, completed: bool
    ) -> None:
        for clock in self._clocks(session, task_id=task.id):
            self._stop(session, clock, now, completed)
        self._sync_task(session, task)

    def stop_case_clocks(
        self, session: Session, instance_id: str, now: datetime, completed: bool
    ) -> None:
        for clock in session.scalars(select(SlaClock).where(SlaClock.instance_id == instance_id)):
            if clock.stopped_at is None:
                self._stop(session, clock, now, completed and clock.task_id is None)

    def task_department_changed(self, session: Session, task: HumanTask) -> None:
        for clock in self._clocks(session, task_id=task.id):
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
        errors = []
        if reason_type not in SUSPENSION_TYPES:
            errors.append(FieldError("reason_type", "应为：" + "、".join(SUSPENSION_TYPES)))
        if not reason or not reason.strip():
            errors.append(FieldError("reason", "请填写中止理由"))
        if reason_type == "补正" and not [i for i in (missing_items or []) if str(i).strip()]:
            errors.append(FieldError("missing_items", "补正须一次性告知需要补正的全部内容"))
        if errors:
            raise ValidationFailed("无法中止计时", errors)
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            clocks = self._running(session, task)
            if reason_type == "补正" and session.scalar(
                select(SlaSuspension.id).where(
                    SlaSuspension.clock_id.in_([c.id for c in clocks]),
                    SlaSuspension.reason_type == "补正",
                )
            ):
                raise Conflict("补正 is notified once, listing everything missing (行政许可法 §32)")
            now = self.clock.now()
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
                _cancel_jobs(session, clock)
            self._sync_task(session, task)
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
            if reason_type == "补正":
                self._notify_applicant(session, task, missing_items or [], reason, now)
            return self._view(session, task)

    def resume(self, actor: Actor, task_id: str) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            paused = [
                c for c in self._clocks(session, task_id=task.id) if c.state == ClockState.PAUSED
            ]
            if not paused:
                raise Conflict("the clock is not suspended")
            now = self.clock.now()
            calendar = self.calendar.current()
            for clock in paused:
                suspension = session.scalars(
                    select(SlaSuspension).where(
                        SlaSuspension.clock_id == clock.id, SlaSuspension.ended_at.is_(None)
                    )
                ).one()
                try:
                    counted = suspended_length(
                        calendar,
                        clock.unit,
                        local_day(clock.paused_since, self.zone),
                        local_day(now, self.zone),
                    )
                except CalendarMissing as missing:
                    counted = 0
                    self._alert_calendar(session, missing, now)
                suspension.ended_at, suspension.ended_by = now, actor.username
                suspension.days_counted = counted
                clock.suspended_days += counted
                clock.paused_since = None
                clock.state = ClockState.NORMAL
                self._compute(session, clock, now)
            self._sync_task(session, task)
            record_history(session, task.instance_id, now, actor, "sla_resumed", task_id=task.id)
            return self._view(session, task)

    def request_extension(
        self, actor: Actor, task_id: str, days: int, reason: str, kind: str = "statutory"
    ) -> dict[str, Any]:
        if not isinstance(days, int) or not 1 <= days <= 60:
            raise ValidationFailed("延期天数无效", [FieldError("days", "应为 1 到 60 天")])
        if not reason or not reason.strip():
            raise ValidationFailed("请填写延期理由", [FieldError("reason", "不能为空")])
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            clock = self._clock_of_kind(session, task, kind)
            if clock.extension_state is not None:
                raise Conflict("a time limit can be extended only once")
            now = self.clock.now()
            clock.extension_state = "requested"
            clock.extension_request = {
                "days": days,
                "reason": reason.strip(),
                "by": actor.username,
                "at": now.isoformat(),
            }
            for head in _members(session, task.department, "approver"):
                _notify(
                    session,
                    head,
                    "sla_extension_requested",
                    task,
                    {"days": days, "reason": reason.strip(), "by": actor.username},
                    now,
                )
            record_history(
                session,
                task.instance_id,
                now,
                actor,
                "sla_extension_requested",
                task_id=task.id,
                kind=kind,
                days=days,
                reason=reason.strip(),
            )
            return self._view(session, task)

    def decide_extension(
        self, actor: Actor, task_id: str, approve: bool, note: str = "", kind: str = "statutory"
    ) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            if not actor.is_admin and not actor.has_role(task.department or "", "approver"):
                raise PermissionDenied("only the department head signs off an extension")
            clock = self._clock_of_kind(session, task, kind)
            if clock.extension_state != "requested":
                raise Conflict("there is no extension request to decide")
            if (clock.extension_request or {}).get("by") == actor.username and not actor.is_admin:
                raise PermissionDenied(
                    "an extension is signed off by someone other than the clerk who asked for it"
                )
            now = self.clock.now()
            request = dict(clock.extension_request or {})
            request.update(decided_by=actor.username, decided_at=now.isoformat(), note=note)
            clock.extension_request = request
            clock.extension_state = "approved" if approve else "rejected"
            if approve:
                clock.extension_days = int(request["days"])
                if clock.state in ClockState.RUNNING:
                    self._compute(session, clock, now)
            self._sync_task(session, task)
            record_history(
                session,
                task.instance_id,
                now,
                actor,
                "sla_extension_approved" if approve else "sla_extension_rejected",
                task_id=task.id,
                kind=kind,
                days=request["days"],
                note=note,
            )
            return self._view(session, task)

    def task_clocks(self, actor: Actor, task_id: str) -> dict[str, Any]:
        with self.uow.read() as session:
            return self._view(session, self.access.visible_task(session, actor, task_id))

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
            return [_order_view(o) for o in session.scalars(query.limit(500))]

    def alerts(self, actor: Actor) -> list[dict[str, Any]]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            rows = session.scalars(select(AdminAlert).order_by(AdminAlert.id.desc()).limit(200))
            return [
                {
                    "key": a.key,
                    "message": a.message,
                    "created_at": _iso(a.created_at),
                    "resolved_at": _iso(a.resolved_at),
                }
                for a in rows
            ]

    # ---- re-computation and jobs --------------------------------------------------------------
    def recompute_running(self, session: Session) -> None:
        """The calendar changed: every running clock gets a new due date and new jobs."""
        now = self.clock.now()
        for clock in session.scalars(
            select(SlaClock).where(SlaClock.state.in_(ClockState.RUNNING))
        ).all():
            self._compute(session, clock, now)
            if clock.task_id:
                task = session.get(HumanTask, clock.task_id)
                if task is not None:
                    self._sync_task(session, task)

    def fire(self, session: Session, job: Job, worker: str) -> None:
        """Job handler: run one rung of a clock's ladder, once."""
        clock_id, rung = job.target.split(":", 1)
        clock = session.get(SlaClock, int(clock_id))
        session.delete(job)
        if clock is None or clock.state not in ClockState.RUNNING or clock.due_at is None:
            return
        now = self.clock.now()
        due = self._rung_time(clock, rung)
        if due is None or due > now:  # moved by an extension or a calendar change
            self._schedule(session, clock)
            return
        try:
            with session.begin_nested():
                session.add(
                    SlaEscalation(clock_id=clock.id, rung=rung, fired_at=now, worker=worker)
                )
        except IntegrityError:
            return  # fired already
        task = session.get(HumanTask, clock.task_id) if clock.task_id else None
        instance = session.get(Instance, clock.instance_id)
        if task is not None:
            clock.department = task.department  # it may have been routed since the clock began
        if rung == "yellow":
            clock.state = ClockState.YELLOW
            self._warn_handlers(session, clock, task, now)
        elif rung == "red":
            clock.state = ClockState.RED
            self._escalate_red(session, clock, task, instance, now)
        else:
            step = next(r for r in self.ladder if r.name == rung)
            self._supervise(session, clock, task, instance, step.grade, step.levels_up, now)
        record_history(
            session,
            clock.instance_id,
            now,
            _system(),
            "sla_escalated",
            task_id=clock.task_id,
            rung=rung,
            clock=clock.kind,
            worker=worker,
        )
        if task is not None:
            self._sync_task(session, task)
        self._schedule(session, clock)

    # ---- internals ------------------------------------------------------------------------
    def _compute(self, session: Session, clock: SlaClock, now: datetime) -> None:
        try:
            line = deadline(
                self.calendar.current(),
                clock.start_day,
                Limit(clock.limit_days, clock.unit),
                clock.extension_days,
                clock.suspended_days,
                YellowRule.parse(clock.yellow_rule),
                self.zone,
            )
        except CalendarMissing as missing:
            clock.state, clock.due_at, clock.yellow_at = ClockState.CALENDAR_MISSING, None, None
            clock.problem = str(missing)
            _cancel_jobs(session, clock)
            self._alert_calendar(session, missing, now)
            return
        clock.due_at, clock.yellow_at, clock.problem = line.due_at, line.yellow_at, None
        fired = set(
            session.scalars(
                select(SlaEscalation.rung).where(SlaEscalation.clock_id == clock.id)
            ).all()
        )
        if now > line.due_at and "red" in fired:
            clock.state = ClockState.RED
        elif now >= line.yellow_at and ("yellow" in fired or "red" in fired):
            clock.state = ClockState.YELLOW
        else:
            clock.state = ClockState.NORMAL
        self._schedule(session, clock)

    def _rung_time(self, clock: SlaClock, rung: str) -> datetime | None:
        if rung == "yellow":
            return clock.yellow_at
        if rung == "red":
            return after(clock.due_at)
        step = next((r for r in self.ladder if r.name == rung), None)
        if step is None:
            return None
        try:
            day = self.calendar.current().add_workdays(
                local_day(clock.due_at, self.zone), step.after_workdays
            )
        except CalendarMissing:
            return None
        return datetime.combine(day, datetime.min.time(), self.zone)

    def _schedule(self, session: Session, clock: SlaClock) -> None:
        """Keep exactly one pending job: the clock's next rung that has not fired."""
        _cancel_jobs(session, clock)
        if clock.state not in ClockState.RUNNING or clock.due_at is None:
            return
        fired = set(
            session.scalars(
                select(SlaEscalation.rung).where(SlaEscalation.clock_id == clock.id)
            ).all()
        )
        for rung in ("yellow", "red", *(r.name for r in self.ladder)):
            if rung in fired:
                continue
            if rung == "yellow" and "red" in fired:
                continue
            due = self._rung_time(clock, rung)
            if due is None:
                return
            session.add(
                Job(
                    kind=SLA_JOB,
                    instance_id=clock.instance_id,
                    target=f"{clock.id}:{rung}",
                    due_at=due,
                    status="pending",
                    attempts=0,
                    payload={"rung": rung, "clock": clock.kind},
                    created_at=self.clock.now(),
                )
            )
            return

    def _stop(self, session: Session, clock: SlaClock, now: datetime, completed: bool) -> None:
        _cancel_jobs(session, clock)
        clock.stopped_at = now
        if clock.state == ClockState.PAUSED:
            suspension = session.scalars(
                select(SlaSuspension).where(
                    SlaSuspension.clock_id == clock.id, SlaSuspension.ended_at.is_(None)
                )
            ).first()
            if suspension is not None:
                suspension.ended_at, suspension.ended_by = now, "system"
        if not completed:
            clock.state = ClockState.CANCELLED
        elif clock.due_at is None:
            clock.state = ClockState.MET if clock.state == ClockState.PAUSED else clock.state
        else:
            clock.state = ClockState.MET if now <= clock.due_at else ClockState.MISSED

    def _sync_task(self, session: Session, task: HumanTask) -> None:
        """The task row carries its most urgent clock, for inbox sorting and lists."""
        clocks = self._clocks(session, task_id=task.id)
        if not clocks:
            return
        order = [
            ClockState.RED,
            ClockState.CALENDAR_MISSING,
            ClockState.YELLOW,
            ClockState.PAUSED,
            ClockState.NORMAL,
            ClockState.MISSED,
            ClockState.MET,
            ClockState.CANCELLED,
        ]
        task.sla_state = min((c.state for c in clocks), key=order.index)
        dues = [c.due_at for c in clocks if c.due_at is not None]
        task.due_at = min(dues) if dues else None

    def _clocks(self, session: Session, task_id: str) -> list[SlaClock]:
        return list(
            session.scalars(
                select(SlaClock).where(SlaClock.task_id == task_id).order_by(SlaClock.id)
            )
        )

    def _running(self, session: Session, task: HumanTask) -> list[SlaClock]:
        clocks = [c for c in self._clocks(session, task.id) if c.state in ClockState.RUNNING]
        if not clocks:
            raise Conflict("the task has no running time limit")
        return clocks

    def _clock_of_kind(self, session: Session, task: HumanTask, kind: str) -> SlaClock:
        for clock in self._clocks(session, task.id):
            if clock.kind == kind:
                return clock
        raise Conflict(f"the task has no {kind} time limit")

    def _warn_handlers(
        self, session: Session, clock: SlaClock, task: HumanTask | None, now: datetime
    ) -> None:
        recipients = (
            [task.assignee]
            if task is not None and task.assignee
            else _members(session, clock.department, "handler")
        )
        for user in recipients or _admins(session):
            _notify(
                session, user, "sla_yellow", task, _clock_payload(clock), now, clock.instance_id
            )

    def _escalate_red(
        self,
        session: Session,
        clock: SlaClock,
        task: HumanTask | None,
        instance: Instance,
        now: datetime,
    ) -> None:
        heads = _members(session, clock.department, "approver")
        for user in heads or _admins(session):
            _notify(session, user, "sla_red", task, _clock_payload(clock), now, clock.instance_id)
        self._supervise(session, clock, task, instance, "blue", 0, now)

    def _supervise(
        self,
        session: Session,
        clock: SlaClock,
        task: HumanTask | None,
        instance: Instance,
        grade: str,
        levels_up: int,
        now: datetime,
    ) -> None:
        office = _office_for(session, clock.department, instance.region_path, levels_up)
        if office is None:
            log.warning("no leadership-group office above %s", clock.department)
            return
        title = task.title if task is not None else instance.process_id
        limit_name = CLOCK_NAMES.get(clock.kind, "")
        due_day = clock.due_at.astimezone(self.zone).strftime("%Y-%m-%d")
        text = (
            f"【督办】{title}（{instance.business_key or instance.id[:8]}）已超过{limit_name}"
            f"（{due_day}），请{clock.department or '相关部门'}立即办理并报告。"
        )
        session.add(
            SupervisionOrder(
                instance_id=instance.id,
                task_id=clock.task_id,
                clock_id=clock.id,
                office=office,
                department=clock.department,
                grade=grade,
                text=text,
                status="open",
                created_at=now,
            )
        )
        for user in _members(session, office, "office", "supervisor", "handler"):
            _notify(
                session,
                user,
                "supervision_order",
                task,
                {**_clock_payload(clock), "grade": grade, "text": text},
                now,
                instance.id,
            )

    def _notify_applicant(
        self, session: Session, task: HumanTask, items: list[str], reason: str, now: datetime
    ) -> None:
        instance = session.get(Instance, task.instance_id)
        applicant = session.scalar(
            select(Department.code).where(
                Department.dept_type == "applicant", Department.region_code == instance.region
            )
        )
        for user in _members(session, applicant, "handler") or [instance.started_by]:
            _notify(
                session,
                user,
                "supplement_notice",
                task,
                {"missing_items": items, "reason": reason},
                now,
                instance.id,
            )

    def _alert_calendar(self, session: Session, missing: CalendarMissing, now: datetime) -> None:
        key = f"calendar_missing:{missing.year}"
        existing = session.scalar(select(AdminAlert).where(AdminAlert.key == key))
        if existing is not None and existing.resolved_at is None:
            return
        if existing is None:
            session.add(AdminAlert(key=key, message=str(missing), created_at=now))
        else:
            existing.resolved_at, existing.created_at = None, now
        for admin in _admins(session):
            _notify(session, admin, "calendar_missing", None, {"year": missing.year}, now)

    def _view(self, session: Session, task: HumanTask) -> dict[str, Any]:
        clocks = self._clocks(session, task.id)
        suspensions = session.scalars(
            select(SlaSuspension)
            .where(SlaSuspension.clock_id.in_([c.id for c in clocks]))
            .order_by(SlaSuspension.id)
        ).all()
        return {
            "task_id": task.id,
            "due_at": _iso(task.due_at),
            "sla_state": task.sla_state,
            "clocks": [_clock_view(c, self.calendar, self.clock.now(), self.zone) for c in clocks],
            # every running clock of the task holds the same interval: list each once
            "suspensions": list(
                {(s.reason_type, s.started_at): _suspension_view(s) for s in suspensions}.values()
            ),
        }


# ---- helpers --------------------------------------------------------------------------------
def _system() -> Actor:
    from .actor import SYSTEM

    return SYSTEM


def _cancel_jobs(session: Session, clock: SlaClock) -> None:
    session.execute(
        delete(Job).where(
            Job.kind == SLA_JOB,
            Job.instance_id == clock.instance_id,
            Job.target.startswith(f"{clock.id}:"),
            Job.status == "pending",
        )
    )


def _members(session: Session, department: str | None, *roles: str) -> list[str]:
    if not department:
        return []
    return sorted(
        set(
            session.scalars(
                select(User.username)
                .join(Membership, Membership.user_id == User.id)
                .join(Department, Department.id == Membership.department_id)
                .where(Department.code == department, Membership.role.in_(roles), User.is_active)
            )
        )
    )


def _admins(session: Session) -> list[str]:
    return list(session.scalars(select(User.username).where(User.is_admin, User.is_active)))


def _office_for(
    session: Session, department: str | None, case_path: str, levels_up: int
) -> str | None:
    """The leadership-group office of the late department's region (or the nearest one above
    it), then `levels_up` offices higher."""
    region = department.split(".", 1)[1] if department else None
    path = session.scalar(select(Region.path).where(Region.code == region)) if region else None
    codes = (path or case_path).strip("/").split("/")
    offices = set(
        session.scalars(
            select(Department.region_code).where(
                Department.dept_type == LEADERSHIP_OFFICE,
                Department.region_code.in_(codes),
                Department.is_active,
            )
        )
    )
    chain = [c for c in reversed(codes) if c in offices]
    if not chain:
        return None
    return department_code(LEADERSHIP_OFFICE, chain[min(levels_up, len(chain) - 1)])


def _notify(
    session: Session,
    recipient: str,
    template: str,
    task: HumanTask | None,
    payload: dict[str, Any],
    now: datetime,
    instance_id: str | None = None,
) -> None:
    if task is not None:
        payload = {"task": task.title, "department": task.department, **payload}
    session.add(
        Notification(
            recipient=recipient,
            template=template,
            payload=payload,
            instance_id=instance_id or (task.instance_id if task else None),
            task_id=task.id if task else None,
            status="pending",
            created_at=now,
        )
    )


def _clock_payload(clock: SlaClock) -> dict[str, Any]:
    return {
        "clock": clock.kind,
        "limit": f"{clock.limit_days}{clock.unit}",
        "due_at": _iso(clock.due_at),
        "basis": clock.basis,
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _clock_view(
    clock: SlaClock, calendar: CalendarService, now: datetime, zone: tzinfo
) -> dict[str, Any]:
    elapsed = None
    if clock.unit == "wd" and clock.state != ClockState.CALENDAR_MISSING:
        end = clock.stopped_at or clock.paused_since or now
        try:
            elapsed = calendar.current().workdays_between(clock.start_day, local_day(end, zone))
            elapsed = max(elapsed - clock.suspended_days, 0)
        except CalendarMissing:
            elapsed = None
    return {
        "id": clock.id,
        "kind": clock.kind,
        "limit": f"{clock.limit_days}{clock.unit}",
        "basis": clock.basis,
        "state": clock.state,
        "started_at": _iso(clock.started_at),
        "due_at": _iso(clock.due_at),
        "yellow_at": _iso(clock.yellow_at),
        "elapsed_workdays": elapsed,
        "suspended_days": clock.suspended_days,
        "extension_days": clock.extension_days,
        "extension_state": clock.extension_state,
        "extension_request": clock.extension_request,
        "stopped_at": _iso(clock.stopped_at),
        "problem": clock.problem,
    }


def _suspension_view(row: SlaSuspension) -> dict[str, Any]:
    return {
        "reason_type": row.reason_type,
        "reason": row.reason,
        "missing_items": row.missing_items,
        "started_at": _iso(row.started_at),
        "started_by": row.started_by,
        "ended_at": _iso(row.ended_at),
        "ended_by": row.ended_by,
        "days_counted": row.days_counted,
    }


def _order_view(row: SupervisionOrder) -> dict[str, Any]:
    return {
        "id": row.id,
        "instance_id": row.instance_id,
        "task_id": row.task_id,
        "office": row.office,
        "department": row.department,
        "grade": row.grade,
        "text": row.text,
        "status": row.status,
        "created_at": _iso(row.created_at),
    }
