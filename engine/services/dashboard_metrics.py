"""The dashboard's aggregates, each one grouped SQL statement over the scope's rows (index-only
on the dispatch indexes of engine.db.dispatch_tables); Python only folds the few groups.

- open work (now): active cases per process and area; open steps per step with the working
  days they have waited so far; open steps per department and area by light;
- work finished in the period: steps per department and area, on time or late (a step is late
  when one of its clocks missed its due time); steps per step and working days taken (the
  histogram that gives the average and the 90th percentile);
- 督办 orders issued in the period per department and area."""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, tzinfo
from itertools import chain
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine.bpmn import InstanceStatus
from engine.db.dispatch_tables import DispatchFinishedDay
from engine.db.tables import HumanTask, Instance, SlaClock, SlaSuspension, SupervisionOrder
from engine.domain.sla import ClockState, Unit

from .dashboard_months import Plan, Workdays, month_query, plan
from .dashboard_scope import Scope
from .dashboard_workdays import WorkdayIndex, day_number, local_day_number

TASKS = HumanTask.__table__
INSTANCES = Instance.__table__
ORDERS = SupervisionOrder.__table__
ROLLUP = DispatchFinishedDay.__table__
OPEN, DONE = "open", "done"
GREEN, YELLOW, RED, PAUSED = "green", "yellow", "red", "paused"
LATE_STATE = ClockState.MISSED
TIMED_STATES = (ClockState.MET, ClockState.MISSED)


def light_of(sla_state):
    """The light of an open step, as SQL (the inbox's lights: 暂缺日历 counts as yellow)."""
    return case(
        (sla_state == ClockState.RED, RED),
        (sla_state.in_((ClockState.YELLOW, ClockState.CALENDAR_MISSING)), YELLOW),
        (sla_state == ClockState.PAUSED, PAUSED),
        else_=GREEN,
    )


@dataclass
class Tally:
    """The figures of one department or area."""

    active_cases: int = 0
    open_steps: int = 0
    yellow: int = 0
    red: int = 0
    finished: int = 0
    timed: int = 0  # finished steps that had a clock
    late: int = 0
    supervised: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return round((self.timed - self.late) / self.timed, 4) if self.timed else None

    def view(self) -> dict[str, Any]:
        return {
            "active_cases": self.active_cases,
            "open_steps": self.open_steps,
            "yellow": self.yellow,
            "red": self.red,
            "finished": self.finished,
            "late": self.late,
            "on_time_rate": self.on_time_rate,
            "supervised": self.supervised,
        }


@dataclass
class StepFigures:
    process_id: str
    step: str
    open_cases: int = 0
    open_steps: int = 0
    open_red: int = 0
    waited_sum: int = 0  # working days waited so far, summed over the open steps
    finished: int = 0
    late: int = 0
    histogram: dict[int, int] = field(default_factory=dict)  # working days -> finished steps


class Metrics:
    """The aggregates of one scope, on one session, with one working-day index."""

    def __init__(
        self,
        session: Session,
        scope: Scope,
        index: WorkdayIndex,
        zone: tzinfo,
        workdays: Workdays | None = None,
    ) -> None:
        self.session = session
        self.scope = scope
        self.index = index
        self.dialect = session.get_bind().dialect.name
        self.zone = zone
        self.workdays = workdays  # exact working days: the month roll-up's (None: days only)

    def local_day(self, column):
        return local_day_number(column, self.zone, self.dialect)

    # ---- open work ---------------------------------------------------------------------------
    def active_cases(self) -> list[tuple[str, str, int]]:
        """(process, area, cases) of the cases not yet finished."""
        rows = (
            select(
                INSTANCES.c.process_id,
                self.scope.area_of(INSTANCES.c.region_path).label("area"),
            )
            .where(
                INSTANCES.c.status.in_(sorted(InstanceStatus.ACTIVE)),
                self.scope.within(INSTANCES.c.region_path),
            )
            .subquery()
        )
        query = select(rows.c.process_id, rows.c.area, func.count()).group_by(
            rows.c.process_id, rows.c.area
        )
        return [tuple(r) for r in self.session.execute(query)]

    def open_steps(
        self, today_number: int, process_id: str | None = None
    ) -> dict[tuple[str, str], StepFigures]:
        """Per step: the cases standing at it, its open steps (how many red) and the working
        days they have waited so far (from the day they opened to today)."""
        where = [TASKS.c.state == OPEN, self.scope.within(TASKS.c.region_path)]
        if process_id is not None:
            where.append(TASKS.c.process_id == process_id)
        rows = materialized(
            select(
                TASKS.c.process_id,
                TASKS.c.task_spec,
                TASKS.c.instance_id,
                TASKS.c.sla_state,
                self.local_day(TASKS.c.created_at).label("opened"),
            ).where(*where),
            "open_steps",
            self.dialect,
        )
        query = select(
            rows.c.process_id,
            rows.c.task_spec,
            func.count(rows.c.instance_id.distinct()),
            func.count(),
            func.count(case((rows.c.sla_state == ClockState.RED, 1))),
            func.sum(self.index.ordinal_sql(rows.c.opened)),
        ).group_by(rows.c.process_id, rows.c.task_spec)
        today = self.index.ordinal(today_number)
        found: dict[tuple[str, str], StepFigures] = {}
        for process, step, cases, steps, red, opened_sum in self.session.execute(query):
            found[(process, step)] = StepFigures(
                process,
                step,
                open_cases=cases,
                open_steps=steps,
                open_red=red,
                waited_sum=today * steps - int(opened_sum or 0),
            )
        return found

    def open_lights(self) -> list[tuple[str | None, str, str, int]]:
        """(department, area, light, open steps)."""
        rows = (
            select(
                TASKS.c.department,
                self.scope.area_of(TASKS.c.region_path).label("area"),
                light_of(TASKS.c.sla_state).label("light"),
            )
            .where(TASKS.c.state == OPEN, self.scope.within(TASKS.c.region_path))
            .subquery()
        )
        query = select(rows.c.department, rows.c.area, rows.c.light, func.count()).group_by(
            rows.c.department, rows.c.area, rows.c.light
        )
        return [tuple(r) for r in self.session.execute(query)]

    # ---- finished in the period --------------------------------------------------------------
    def _finished_where(self, process_id: str | None) -> list:
        where = [
            TASKS.c.state == DONE,
            TASKS.c.completed_at >= self.scope.start,
            TASKS.c.completed_at < self.scope.end,
            self.scope.within(TASKS.c.region_path),
        ]
        if process_id is not None:
            where.append(TASKS.c.process_id == process_id)
        return where

    def finished_query(self, process_id: str | None = None, days: tuple[date, date] | None = None):
        """The steps finished in the period (or in `days` of it) grouped by step, department,
        area, working days from opening to finishing (suspensions not yet deducted) and
        outcome — read from the day roll-up (engine.services.dashboard_rollup), whose rows
        already count the steps of a day; the working days are computed per roll-up row."""
        since, until = days or (self.scope.since, self.scope.until)
        where = [
            ROLLUP.c.closed_day >= day_number(since),
            ROLLUP.c.closed_day <= day_number(until),
            self.scope.within(ROLLUP.c.region_path),
            ROLLUP.c.steps > 0,
        ]
        if process_id is not None:
            where.append(ROLLUP.c.process_id == process_id)
        ordinal = self.index.ordinal_sql
        taken = (ordinal(ROLLUP.c.closed_day) - ordinal(ROLLUP.c.opened_day)).label("taken")
        department = func.nullif(ROLLUP.c.department, "").label("department")
        sla_state = func.nullif(ROLLUP.c.sla_state, "").label("sla_state")
        area = self.scope.area_of(ROLLUP.c.region_path).label("area")
        keys = (ROLLUP.c.process_id, ROLLUP.c.task_spec, department, area, taken, sla_state)
        return select(*keys, func.sum(ROLLUP.c.steps)).where(*where).group_by(*keys)

    def raw_finished_query(self, process_id: str | None = None):
        """What finished_query answers, computed from the task rows themselves (the roll-up's
        reference: the benchmark and the tests compare the two)."""
        rows = materialized(
            select(
                TASKS.c.process_id,
                TASKS.c.task_spec,
                TASKS.c.department,
                self.scope.area_of(TASKS.c.region_path).label("area"),
                TASKS.c.sla_state,
                self.local_day(TASKS.c.created_at).label("opened"),
                self.local_day(TASKS.c.completed_at).label("closed"),
            ).where(*self._finished_where(process_id)),
            "finished_steps",
            self.dialect,
        )
        ordinal = self.index.ordinal_sql
        taken = (ordinal(rows.c.closed) - ordinal(rows.c.opened)).label("taken")
        keys = (rows.c.process_id, rows.c.task_spec, rows.c.department, rows.c.area, taken)
        return select(*keys, rows.c.sla_state, func.count()).group_by(*keys, rows.c.sla_state)

    def finished(
        self, process_id: str | None = None
    ) -> tuple[list[tuple[str | None, str, int, int, int]], dict[tuple[str, str], StepFigures]]:
        """(department, area, finished, with a clock, late) groups, and per step the finished
        steps, the late ones and the histogram of working days taken."""
        units: dict[tuple[str | None, str], list[int]] = {}
        steps: dict[tuple[str, str], StepFigures] = {}
        found = plan(self.session, self.scope, self.workdays)
        for process, step, department, area, days, state, count in self._finished_rows(
            process_id, found
        ):
            late = count if state == LATE_STATE else 0
            unit = units.setdefault((department, area), [0, 0, 0])
            unit[0] += count
            unit[1] += count if state in TIMED_STATES else 0
            unit[2] += late
            figures = steps.setdefault((process, step), StepFigures(process, step))
            figures.finished += count
            figures.late += late
            figures.histogram[days] = figures.histogram.get(days, 0) + count
        for process, step, days, suspended, count in self._suspended_steps(process_id, found):
            histogram = steps[(process, step)].histogram
            histogram[days] = histogram.get(days, 0) - count
            if histogram[days] <= 0:
                del histogram[days]
            kept = max(days - suspended, 0)
            histogram[kept] = histogram.get(kept, 0) + count
        return [
            (d, a, finished, timed, late) for (d, a), (finished, timed, late) in units.items()
        ], steps

    def finished_rows(self, process_id: str | None = None) -> list[tuple[Any, ...]]:
        """(process, step, department, area, working days, outcome, steps) of the period,
        as finished() reads them (the benchmark and the tests compare them with the raw)."""
        found = plan(self.session, self.scope, self.workdays)
        merged: Counter[tuple[Any, ...]] = Counter()
        for *key, count in self._finished_rows(process_id, found):
            merged[tuple(key)] += count
        return [(*key, count) for key, count in merged.items()]

    def _finished_rows(self, process_id: str | None, found: Plan) -> Iterator[Any]:
        """Whole months the plan serves from the month roll-up, the other days from the
        day roll-up."""
        parts = [self.finished_query(process_id, days) for days in found.day_ranges]
        if found.served:
            parts.append(month_query(self.scope, found, process_id))
        return chain.from_iterable(self.session.execute(part) for part in parts)

    def _suspended_steps(
        self, process_id: str | None, found: Plan
    ) -> list[tuple[str, str, int, int, int]]:
        """(process, step, working days open to finished, working days suspended, steps) of
        the few finished steps whose clock was suspended (补正, 听证, …), whose days are then
        taken off the histogram. The suspensions that can concern the period are read first
        (they are few), then only their steps."""
        clocks, suspensions = SlaClock.__table__, SlaSuspension.__table__
        suspended = dict(
            self.session.execute(
                select(clocks.c.task_id, func.max(clocks.c.suspended_days))
                .select_from(suspensions.join(clocks, clocks.c.id == suspensions.c.clock_id))
                .where(
                    suspensions.c.started_at < self.scope.end,
                    clocks.c.stopped_at >= self.scope.start,
                    clocks.c.unit == Unit.WORKDAYS,
                    clocks.c.task_id.is_not(None),
                    clocks.c.suspended_days > 0,
                )
                .group_by(clocks.c.task_id)
            ).all()
        )
        if not suspended:
            return []
        rows = self.session.execute(
            select(
                TASKS.c.id,
                TASKS.c.process_id,
                TASKS.c.task_spec,
                self.local_day(TASKS.c.created_at),
                self.local_day(TASKS.c.completed_at),
            ).where(TASKS.c.id.in_(sorted(suspended)), *self._finished_where(process_id))
        ).all()
        grouped: dict[tuple[str, str, int, int], int] = {}
        for task_id, process, step, opened, closed in rows:
            # the days taken as the row that counted the step has them
            if found.workdays is not None and found.serves(closed):
                taken = found.workdays.taken(opened, closed)
            else:
                taken = self.index.ordinal(closed) - self.index.ordinal(opened)
            key = (process, step, taken, suspended[task_id])
            grouped[key] = grouped.get(key, 0) + 1
        return [(*key, count) for key, count in grouped.items()]

    # ---- 督办 ----------------------------------------------------------------------------------
    def supervision(self) -> list[tuple[str | None, str, int]]:
        """(department, area, orders issued in the period): one range of the orders' dispatch
        index (created_at, region_path, department). An order written without its case's
        region path (around the service) has it looked up."""
        period = (ORDERS.c.created_at >= self.scope.start, ORDERS.c.created_at < self.scope.end)
        case_path = (
            select(INSTANCES.c.region_path)
            .where(INSTANCES.c.id == ORDERS.c.instance_id)
            .scalar_subquery()
        )
        orders = materialized(
            select(
                ORDERS.c.department,
                func.coalesce(ORDERS.c.region_path, case_path).label("region_path"),
            ).where(*period),
            "period_orders",
            self.dialect,
        )
        areas = (
            select(orders.c.department, self.scope.area_of(orders.c.region_path).label("area"))
            .where(self.scope.within(orders.c.region_path))
            .subquery()
        )
        query = select(areas.c.department, areas.c.area, func.count()).group_by(
            areas.c.department, areas.c.area
        )
        return [tuple(r) for r in self.session.execute(query)]


def materialized(query, name: str, dialect: str):
    """The rows as a CTE the database computes once (each row's day numbers evaluated once,
    not again in every branch of the working-day expression that reads them)."""
    cte = query.cte(name)
    if dialect != "sqlite" or sqlite3.sqlite_version_info >= (3, 35):
        cte = cte.prefix_with("MATERIALIZED")
    return cte


def fold_units(
    lights: list[tuple[str | None, str, str, int]],
    finished: list[tuple[str | None, str, int, int, int]],
    orders: list[tuple[str | None, str, int]],
    active: list[tuple[str, str, int]],
) -> tuple[dict[str, Tally], dict[str, Tally], Tally]:
    """The grouped rows folded into per-department, per-area and overall tallies."""
    departments: dict[str, Tally] = defaultdict(Tally)
    areas: dict[str, Tally] = defaultdict(Tally)
    total = Tally()
    for department, area, light, count in lights:
        for tally in (departments[department or ""], areas[area], total):
            tally.open_steps += count
            if light == YELLOW:
                tally.yellow += count
            elif light == RED:
                tally.red += count
    for department, area, count, timed, late in finished:
        for tally in (departments[department or ""], areas[area], total):
            tally.finished += count
            tally.timed += timed
            tally.late += late
    for department, area, count in orders:
        for tally in (departments[department or ""], areas[area], total):
            tally.supervised += count
    for _process, area, count in active:
        areas[area].active_cases += count
        total.active_cases += count
    return dict(departments), dict(areas), total
