"""The leadership-group office's dispatch dashboard (调度看板): open work, timeliness, working
days per step and indicators against yearly targets, for the office's territory or a region in
it and a period; the cases behind every number; the process heatmap; and the targets.

Only leadership-group offices and administrators have one (others: PermissionDenied). Every
read is one transaction; every figure one grouped SQL statement (engine.services.
dashboard_metrics), so the cost follows the number of groups, not of cases; work finished in a
period is read from the roll-ups of finished steps: whole months from the month roll-up
(engine.services.dashboard_months), the rest per day (engine.services.dashboard_rollup), so a
year costs little more than a month."""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.domain.calendar import WorkCalendar
from engine.domain.sla import local_day
from engine.errors import FieldError, NotFound, ValidationFailed

from .access import Access
from .actor import SYSTEM, Actor
from .calendar import CalendarService
from .dashboard_diagrams import DiagramBook
from .dashboard_drilldown import UNROUTED, DrillDown, case_ids, list_cases
from .dashboard_heatmap import heatmap_view
from .dashboard_indicators import IndicatorCatalog, indicator_totals
from .dashboard_metrics import Metrics, fold_units
from .dashboard_months import MonthRollUp, workdays_of
from .dashboard_rollup import RollUp
from .dashboard_scope import Scope, regions_in_reach, resolve_scope
from .dashboard_targets import (
    TargetRow,
    check_target,
    clear_target,
    parse_targets_csv,
    put_target,
    target_view,
    targets_of,
)
from .dashboard_views import (
    UNROUTED_NAME,
    area_views,
    department_views,
    indicator_views,
    merge_steps,
    process_views,
    scope_view,
    step_view,
)
from .dashboard_workdays import WorkdayIndex, day_number
from .names import NameBook
from .uow import UnitOfWork

LOOKBACK_DAYS = 3 * 366  # steps opened earlier than this before the period count from there
Opened = tuple[Scope, Metrics, date]


class DashboardService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        access: Access,
        calendar: CalendarService,
        names: NameBook,
        zone: tzinfo,
        processes_dir: Path,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.calendar = calendar
        self.names = names
        self.zone = zone
        self.catalog = IndicatorCatalog(processes_dir)
        self.diagrams = DiagramBook()
        self._index: WorkdayIndex | None = None
        self._index_key: tuple[Any, ...] | None = None
        # every flush of a task row keeps the roll-ups of finished steps (per day, and per
        # month in working days) in step, in its transaction (engine.services.dashboard_rollup)
        self.months = MonthRollUp(uow, clock, calendar.current_in)
        self.rollup = RollUp(zone, self.months)
        self.rollup.watch(*uow.session_factories())
        calendar.listeners.append(self.months.calendar_changed)

    def rebuild_rollup(self) -> int:
        """Recount the roll-ups of finished steps from the steps (after a bulk load that went
        around the ORM); returns the day roll-up's rows."""
        with self.uow.write() as session:
            rows = self.rollup.rebuild(session.connection())
            self.months.rebuild_in(session)
            return rows

    # ---- the dashboard -----------------------------------------------------------------------
    def dashboard(
        self,
        actor: Actor,
        region: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> dict[str, Any]:
        with self.uow.read() as session:
            return self.dashboard_in(session, actor, region, since, until)

    def dashboard_in(
        self,
        session: Session,
        actor: Actor,
        region: str | None = None,
        since: date | None = None,
        until: date | None = None,
        opened: Opened | None = None,
    ) -> dict[str, Any]:
        """Every figure of the page, in the caller's transaction (a report issues it inside
        its own; `opened` is what open_in gave it, to share the scope and the metrics)."""
        scope, metrics, today = opened or self.open_in(session, actor, region, since, until)
        active = metrics.active_cases()
        finished_units, finished_steps = metrics.finished()
        departments, areas, total = fold_units(
            metrics.open_lights(), finished_units, metrics.supervision(), active
        )
        steps = merge_steps(metrics.open_steps(day_number(today)), finished_steps)
        diagrams = self.diagrams.latest(session)
        step_names = {p: d.steps for p, d in diagrams.items()}
        process_names = {p: d.name for p, d in diagrams.items()}
        indicators = self.catalog.all()
        totals, year_totals = indicator_totals(session, scope, indicators)
        targets = targets_of(session, scope.year, scope.region) if scope.region else {}
        step_list = [
            {
                **step_view(figures, step_names.get(process, {}).get(step, step)),
                "process_name": process_names.get(process, process),
            }
            for (process, step), figures in steps.items()
        ]
        step_list.sort(
            key=lambda s: (
                -(s["avg_workdays"] if s["avg_workdays"] is not None else -1),
                -(s["p90_workdays"] or 0),
                s["process_id"],
                s["step"],
            )
        )
        return {
            "scope": scope_view(scope),
            "totals": total.view(),
            "processes": process_views(active, steps, process_names, step_names),
            "areas": area_views(scope, areas),
            "departments": department_views(departments, self.names),
            "steps": step_list,
            "indicators": indicator_views(indicators, totals, year_totals, targets),
        }

    def heatmap(
        self,
        actor: Actor,
        process_id: str,
        region: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> dict[str, Any]:
        """Per user task of the process's newest diagram: average and p90 working days and the
        share finished late in the period, and what stands open there now."""
        with self.uow.read() as session:
            scope, metrics, today = self.open_in(session, actor, region, since, until)
            diagram = self.diagrams.latest(session).get(process_id)
            if diagram is None:
                raise NotFound(f"没有流程 {process_id}" if process_id else "请选择一个流程")
            steps = merge_steps(
                metrics.open_steps(day_number(today), process_id),
                metrics.finished(process_id)[1],
            )
            return {"scope": scope_view(scope), **heatmap_view(diagram, steps)}

    def cases(
        self,
        actor: Actor,
        drill: DrillDown,
        region: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """The cases behind one number of the dashboard, newest first."""
        with self.uow.read() as session:
            scope = self._scope(session, actor, region, since, until)
            listed = list_cases(session, case_ids(scope, drill, self.catalog), limit, offset)
            return {
                "scope": scope_view(scope),
                "labels": self._labels(session, scope, drill),
                **listed,
            }

    def choices(self, actor: Actor) -> dict[str, Any]:
        """The regions the user may pick (down to townships) and the processes by name."""
        self.access.require_office(actor)
        with self.uow.read() as session:
            regions = regions_in_reach(session, actor)
            diagrams = self.diagrams.latest(session)
        return {
            "regions": [{"code": c, "name": n, "level": lvl} for c, n, lvl in regions],
            "processes": [{"process_id": p, "name": d.name} for p, d in diagrams.items()],
            "indicators": [
                {"key": i.key, "name": i.name, "unit": i.unit} for i in self.catalog.all()
            ],
        }

    # ---- targets -----------------------------------------------------------------------------
    def targets(
        self, actor: Actor, year: int | None = None, region: str | None = None
    ) -> dict[str, Any]:
        """A region's yearly targets (default: the office's own region, this year)."""
        with self.uow.read() as session:
            scope = self._scope(session, actor, region, None, None)
            year = year or scope.until.year
            if scope.region is None:
                raise NotFound("请选择一个区划查看其年度目标")
            rows = targets_of(session, year, scope.region)
            return {
                "year": year,
                "region": scope.region,
                "region_name": scope.region_name,
                "items": [
                    {
                        "indicator": i.key,
                        "name": i.name,
                        "unit": i.unit,
                        **target_view(rows.get(i.key)),
                    }
                    for i in self.catalog.all()
                ],
            }

    def set_target(
        self,
        actor: Actor,
        year: int,
        region: str,
        indicator: str,
        target: float | None,
        basis: str | None = None,
    ) -> dict[str, Any]:
        """Set (or, with None, clear) a region's yearly target of one indicator: the region's
        own office, an office above it, or an administrator."""
        self.access.require_office(actor)
        check_target(year, target, basis)
        known = self.catalog.get(indicator)
        if known is None:
            raise ValidationFailed("目标值无效", [FieldError("indicator", f"没有指标 {indicator}")])
        with self.uow.write() as session:
            scope = self._scope(session, actor, region, None, None)
            if scope.region is None:
                raise NotFound(f"您的辖区内没有区划 {region}")
            if target is None:
                clear_target(session, year, scope.region, indicator)
                row = None
            else:
                row = put_target(
                    session,
                    TargetRow(year, scope.region, indicator, target, basis),
                    actor.username,
                    self.clock.now(),
                )
            return {
                "year": year,
                "region": scope.region,
                "indicator": indicator,
                "name": known.name,
                "unit": known.unit,
                **target_view(row),
            }

    def seed_targets(self, path: Path) -> int:
        """Add the targets of a CSV file that are not set yet (the demo's 金华市 2026 figures)."""
        if not path.is_file():
            return 0
        rows = parse_targets_csv(path.read_text(encoding="utf-8"))
        added = 0
        with self.uow.write() as session:
            for row in rows:
                if put_target(session, row, SYSTEM.username, self.clock.now(), overwrite=False):
                    added += 1
        return added

    # ---- internals ---------------------------------------------------------------------------
    def _labels(self, session: Session, scope: Scope, drill: DrillDown) -> dict[str, str]:
        """The drill-down's filters by name, for a heading (婺城区 · 红灯 …)."""
        labels: dict[str, str] = {}
        if drill.area:
            area = scope.area(drill.area)
            labels["area"] = area.name if area else drill.area
        if drill.process:
            diagram = self.diagrams.latest(session).get(drill.process)
            labels["process"] = diagram.name if diagram else drill.process
            if drill.step:
                labels["step"] = (
                    diagram.steps.get(drill.step, drill.step) if diagram else drill.step
                )
        if drill.department:
            labels["department"] = (
                UNROUTED_NAME
                if drill.department == UNROUTED
                else self.names.department(drill.department)
            )
        if drill.indicator:
            known = self.catalog.get(drill.indicator)
            labels["indicator"] = known.name if known else drill.indicator
        return labels

    def _scope(
        self,
        session: Session,
        actor: Actor,
        region: str | None,
        since: date | None,
        until: date | None,
    ) -> Scope:
        self.access.require_office(actor)
        today = local_day(self.clock.now(), self.zone)
        return resolve_scope(session, actor, region, since, until, today, self.zone)

    def open_in(
        self,
        session: Session,
        actor: Actor,
        region: str | None,
        since: date | None,
        until: date | None,
    ) -> Opened:
        """The scope the actor may see, its metrics and today (PermissionDenied for users
        without a dashboard)."""
        scope = self._scope(session, actor, region, since, until)
        today = local_day(self.clock.now(), self.zone)
        first = min(scope.since, today) - timedelta(days=LOOKBACK_DAYS)
        calendar = self.calendar.current_in(session)
        index = self._workdays(calendar, first, max(scope.until, today))
        metrics = Metrics(session, scope, index, self.zone, workdays_of(calendar))
        return scope, metrics, today

    def _workdays(self, calendar: WorkCalendar, first: date, last: date) -> WorkdayIndex:
        key = (first, last, calendar)  # the calendar service hands out a new one on a change
        if self._index is None or self._index_key is None or not _same(self._index_key, key):
            self._index, self._index_key = WorkdayIndex.build(calendar, first, last), key
        return self._index


def _same(known: tuple[Any, ...], wanted: tuple[Any, ...]) -> bool:
    return known[:2] == wanted[:2] and known[2] is wanted[2]
