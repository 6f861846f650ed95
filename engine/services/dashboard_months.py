"""The month roll-up of finished steps (table dispatch_finished_months): per local month, step,
department, township and clock outcome, how many steps took how many working days. A year of
a city is a few ten thousand rows instead of the day roll-up's million, so the year view reads
whole months from here and only the period's partial months from the days.

Working days are counted when a row is written, on the calendar of that moment over
FIRST_DAY..LAST_DAY, and each row carries that calendar's fingerprint. The month rows are kept
in step with the day roll-up in the same flush (engine.services.dashboard_rollup), and rebuilt
from it by the `rollup` job: after a change of the calendar (a little later than the change,
so that every process has seen the new calendar) and when a worker starts and finds no build
on its calendar (a fresh database, new estimated holidays). A dashboard uses the month rows
only when a build on its own calendar is recorded, and reads a month from the days whenever
that month holds a row of another calendar (a writer that had not yet seen a change): the
figures never depend on which path answered."""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.dispatch_tables import DispatchFinishedDay, DispatchFinishedMonth, DispatchMonthBuild
from engine.db.tables import Job
from engine.db.types import RegionPath
from engine.domain.calendar import WorkCalendar

from .dashboard_scope import Scope
from .dashboard_workdays import EPOCH, WorkdayIndex
from .uow import UnitOfWork

MONTHS = cast(Table, DispatchFinishedMonth.__table__)
BUILDS = cast(Table, DispatchMonthBuild.__table__)
DAYS = cast(Table, DispatchFinishedDay.__table__)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2060, 12, 31)
PATH_DEPTH = 4  # province / city / county / township: the areas of a county office
KEY_COLUMNS = (
    "calendar",
    "month",
    "region_path",
    "process_id",
    "task_spec",
    "department",
    "sla_state",
    "taken",
)
ROLLUP_JOB, ROLLUP_TARGET = "rollup", "months"
SETTLE = timedelta(seconds=15)  # longer than a process keeps a calendar it has not re-checked
CHUNK = 5000
ARM_LOCK = 0x524F4C4C  # pg_advisory_xact_lock key: arming the rebuild

MonthKey = tuple[str, int, str, str, str, str, str, int]
DayKey = tuple[int, str, str, str, str, str, int]


@dataclass(frozen=True)
class Workdays:
    """Working days on one calendar, exact from FIRST_DAY to LAST_DAY, and its fingerprint."""

    index: WorkdayIndex
    fingerprint: str

    def taken(self, opened_day: int, closed_day: int) -> int:
        return self.index.ordinal(closed_day) - self.index.ordinal(opened_day)


@functools.lru_cache(maxsize=4)
def workdays_of(calendar: WorkCalendar) -> Workdays:
    """(Calendars compare and hash by their days, so every container shares one.)"""
    index = WorkdayIndex.build(calendar, FIRST_DAY, LAST_DAY)
    digest = hashlib.sha256(repr(index.steps).encode()).hexdigest()[:16]
    return Workdays(index, digest)


@functools.lru_cache(maxsize=4096)
def month_of(day: int) -> int:
    moment = EPOCH + timedelta(days=day)
    return moment.year * 100 + moment.month


@functools.lru_cache(maxsize=65536)
def township_path(path: str) -> str:
    parts = path.split("/")
    return path if len(parts) <= PATH_DEPTH + 1 else "/".join(parts[:PATH_DEPTH]) + "/"


def month_moves(moves: Iterable[tuple[DayKey, int]], workdays: Workdays) -> Counter[MonthKey]:
    """The day roll-up's moves, as moves of the month roll-up."""
    months: Counter[MonthKey] = Counter()
    for (closed, region, process, spec, department, state, opened), count in moves:
        key = (
            workdays.fingerprint,
            month_of(closed),
            township_path(region),
            process,
            spec,
            department,
            state,
            workdays.taken(opened, closed),
        )
        months[key] += count
    return months


def apply_months(connection: Connection, moves: Counter[MonthKey]) -> None:
    """Add each key's count; keys whose count falls to zero are removed."""
    add_counts(connection, MONTHS, KEY_COLUMNS, moves, ("calendar", "month"))


def add_counts(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    moves: Counter[Any],
    leading: tuple[str, ...],
) -> None:
    """Add each key's count to a roll-up table (an upsert: safe against a concurrent transaction
    adding the same key on PostgreSQL), then remove the rows that fell to zero, found by the
    `leading` columns of the keys that decreased."""
    rows: list[dict[str, Any]] = [
        {**dict(zip(columns, key, strict=True)), "steps": count}
        for key, count in sorted(moves.items())
        if count
    ]
    if not rows:
        return
    statement = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(table)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=list(columns),
            set_={"steps": table.c.steps + statement.excluded.steps},
        ),
        rows,
    )
    emptied = sorted({tuple(r[c] for c in leading) for r in rows if r["steps"] < 0})
    for values in emptied:
        matches = [table.c[c] == v for c, v in zip(leading, values, strict=True)]
        connection.execute(delete(table).where(*matches, table.c.steps <= 0))


def rebuild_months(connection: Connection, workdays: Workdays, now: datetime) -> int:
    """Count the month roll-up anew from the day roll-up on one calendar, in one grouped
    INSERT … SELECT: the day roll-up joined to two small temporary tables, each region path's
    township and each day's month and working-day ordinal (computed here); returns its rows."""
    connection.execute(delete(MONTHS))
    connection.execute(delete(BUILDS))
    low, high, day_rows = connection.execute(
        select(func.min(DAYS.c.opened_day), func.max(DAYS.c.closed_day), func.count())
    ).one()
    if day_rows:
        scratch = MetaData()
        paths = Table(
            "rollup_paths",
            scratch,
            Column("region_path", RegionPath, primary_key=True),
            Column("township", RegionPath),
            prefixes=["TEMPORARY"],
        )
        days = Table(
            "rollup_days",
            scratch,
            Column("day", Integer, primary_key=True),
            Column("month", Integer),
            Column("ordinal", Integer),
            prefixes=["TEMPORARY"],
        )
        scratch.create_all(connection)
        found = connection.scalars(select(DAYS.c.region_path).distinct()).all()
        connection.execute(
            insert(paths), [{"region_path": p, "township": township_path(p)} for p in found]
        )
        numbers = range(min(low, high), max(low, high) + 1)
        for start in range(0, len(numbers), CHUNK):
            connection.execute(
                insert(days),
                [
                    {"day": n, "month": month_of(n), "ordinal": workdays.index.ordinal(n)}
                    for n in numbers[start : start + CHUNK]
                ],
            )
        closed, opened = days.alias("closed"), days.alias("opened")
        taken = (closed.c.ordinal - opened.c.ordinal).label("taken")
        keys = (
            closed.c.month,
            paths.c.township,
            DAYS.c.process_id,
            DAYS.c.task_spec,
            DAYS.c.department,
            DAYS.c.sla_state,
            taken,
        )
        grouped = (
            select(literal(workdays.fingerprint), *keys, func.sum(DAYS.c.steps))
            .select_from(
                DAYS.join(paths, paths.c.region_path == DAYS.c.region_path)
                .join(closed, closed.c.day == DAYS.c.closed_day)
                .join(opened, opened.c.day == DAYS.c.opened_day)
            )
            .where(DAYS.c.steps > 0)
            .group_by(*keys)
        )
        connection.execute(insert(MONTHS).from_select([*KEY_COLUMNS, "steps"], grouped))
        scratch.drop_all(connection)
    connection.execute(
        insert(BUILDS), {"calendar": workdays.fingerprint, "built_at": now, "day_rows": day_rows}
    )
    return connection.scalar(select(func.count()).select_from(MONTHS)) or 0


@dataclass(frozen=True)
class Plan:
    """How a period's finished steps are read: whole months from the month roll-up (`months`,
    an inclusive range of yyyymm numbers, minus `stale` ones), everything else from the days."""

    workdays: Workdays | None = None
    months: tuple[int, int] | None = None
    day_ranges: tuple[tuple[date, date], ...] = ()
    served: frozenset[int] = field(default_factory=frozenset)

    def serves(self, closed_day: int) -> bool:
        return month_of(closed_day) in self.served


def whole_months(since: date, until: date) -> tuple[date, date] | None:
    """The first day of the period's first whole month and the last day of its last one."""
    first = since if since.day == 1 else _next_month(since)
    end = _next_month(until) - timedelta(days=1)
    last = until if until == end else until.replace(day=1) - timedelta(days=1)
    return (first, last) if first <= last else None


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _months_between(first: date, last: date) -> list[int]:
    found, day = [], first
    while day <= last:
        found.append(day.year * 100 + day.month)
        day = _next_month(day)
    return found


def plan(session: Session, scope: Scope, workdays: Workdays | None) -> Plan:
    """Whole months of the period from the month roll-up where it may answer: a build on this
    calendar exists, the scope's areas are no deeper than townships, and the month holds no
    row of another calendar; the rest from the days."""
    everything = Plan(day_ranges=((scope.since, scope.until),))
    whole = whole_months(scope.since, scope.until)
    if workdays is None or whole is None or scope.path.count("/") >= PATH_DEPTH:
        return everything
    fingerprint = workdays.fingerprint
    if session.get(DispatchMonthBuild, fingerprint) is None:
        return everything
    months = _months_between(*whole)
    first, last = months[0], months[-1]
    stale = set(
        session.scalars(
            select(MONTHS.c.month)
            .where(
                or_(MONTHS.c.calendar < fingerprint, MONTHS.c.calendar > fingerprint),
                and_(MONTHS.c.month >= first, MONTHS.c.month <= last),
            )
            .distinct()
        )
    )
    served = [m for m in months if m not in stale]
    if not served:
        return everything
    ranges = []
    if scope.since < whole[0]:
        ranges.append((scope.since, whole[0] - timedelta(days=1)))
    for month in sorted(stale):
        start = date(month // 100, month % 100, 1)
        ranges.append((start, _next_month(start) - timedelta(days=1)))
    if whole[1] < scope.until:
        ranges.append((whole[1] + timedelta(days=1), scope.until))
    return Plan(workdays, (first, last), tuple(ranges), frozenset(served))


def month_query(scope: Scope, found: Plan, process_id: str | None):
    """The served months' steps, grouped as Metrics.finished_query groups the days'."""
    assert found.workdays is not None and found.months is not None
    where = [
        MONTHS.c.calendar == found.workdays.fingerprint,
        MONTHS.c.month >= found.months[0],
        MONTHS.c.month <= found.months[1],
        scope.within(MONTHS.c.region_path),
        MONTHS.c.steps > 0,
    ]
    stale = set(_months_between(*_bounds(found.months))) - found.served
    if stale:
        where.append(MONTHS.c.month.not_in(sorted(stale)))
    if process_id is not None:
        where.append(MONTHS.c.process_id == process_id)
    department = func.nullif(MONTHS.c.department, "").label("department")
    sla_state = func.nullif(MONTHS.c.sla_state, "").label("sla_state")
    area = scope.area_of(MONTHS.c.region_path).label("area")
    keys = (MONTHS.c.process_id, MONTHS.c.task_spec, department, area, MONTHS.c.taken, sla_state)
    return select(*keys, func.sum(MONTHS.c.steps)).where(*where).group_by(*keys)


def _bounds(months: tuple[int, int]) -> tuple[date, date]:
    first = date(months[0] // 100, months[0] % 100, 1)
    last = date(months[1] // 100, months[1] % 100, 1)
    return first, _next_month(last) - timedelta(days=1)


class MonthRollUp:
    """Keeps the month roll-up: its share of every flush, its rebuilds and the job for them."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, calendar_in: Callable[[Session], WorkCalendar]
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.calendar_in = calendar_in

    def workdays_in(self, session: Session) -> Workdays:
        return workdays_of(self.calendar_in(session))

    def follow(self, session: Session, connection: Connection, moves: Counter[DayKey]) -> None:
        """Within a flush: the day roll-up's moves, counted on the calendar of the moment."""
        if any(moves.values()):
            apply_months(connection, month_moves(moves.items(), self.workdays_in(session)))

    def rebuild_in(self, session: Session) -> int:
        return rebuild_months(session.connection(), self.workdays_in(session), self.clock.now())

    def fire(self, session: Session, _job: Job) -> None:
        """The `rollup` job's handler."""
        self.rebuild_in(session)

    def schedule_in(self, session: Session, due: datetime) -> None:
        """A rebuild at `due` (one pending job: an earlier one waits until then)."""
        job = session.scalars(
            select(Job).where(Job.kind == ROLLUP_JOB, Job.target == ROLLUP_TARGET)
        ).first()
        if job is None:
            session.add(
                Job(
                    kind=ROLLUP_JOB,
                    instance_id=None,
                    target=ROLLUP_TARGET,
                    due_at=due,
                    status="pending",
                    attempts=0,
                    payload={},
                    created_at=self.clock.now(),
                )
            )
            return
        if job.status != "pending" or job.due_at < due:
            job.due_at = due
        job.status, job.attempts, job.last_error = "pending", 0, None

    def calendar_changed(self, session: Session, _actor: Any = None) -> None:
        """A calendar listener: rebuild once every process counts on the new calendar."""
        self.schedule_in(session, self.clock.now() + SETTLE)

    def arm(self) -> bool:
        """At a worker's start: a rebuild now unless a build on today's calendar exists."""
        with self.uow.write() as session:
            if session.get_bind().dialect.name == "postgresql":  # workers starting together
                session.execute(text("select pg_advisory_xact_lock(:key)"), {"key": ARM_LOCK})
            if session.get(DispatchMonthBuild, self.workdays_in(session).fingerprint):
                return False
            self.schedule_in(session, self.clock.now())
            return True
