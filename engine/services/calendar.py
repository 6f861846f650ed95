"""The working-day calendar as data: seeded from the `chinese-calendar` package, importable from
the State Council notice (CSV or JSON), editable day by day, with a change history. Every
change re-computes the open SLA clocks.

The calendar handed out is provisional: a year without official data counts on the estimated
holidays of the `holidays` package, and each such year used raises one admin alert."""

from __future__ import annotations

import csv
import functools
import io
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import AdminAlert, CalendarChange, CalendarDay, CalendarYear
from engine.domain.calendar import WorkCalendar, estimated_holidays
from engine.errors import FieldError, ValidationFailed

from .access import Access
from .actor import Actor
from .notify.audience import admins
from .notify.outbox import Outbox
from .uow import UnitOfWork

CACHE_SECONDS = 5.0
KINDS = ("holiday", "workday")
ChangeListener = Callable[[Session, Actor], None]


class CalendarService:
    def __init__(self, uow: UnitOfWork, clock: Clock, access: Access, *, outbox: Outbox) -> None:
        self.outbox = outbox
        self.uow = uow
        self.clock = clock
        self.access = access
        self.listeners: list[ChangeListener] = []
        self._lock = threading.Lock()
        self._cached: WorkCalendar | None = None
        self._version: tuple[int, int] | None = None
        self._checked = 0.0
        self._provisional_years: set[int] = set()  # years counted on estimates since start

    # ---- the calendar in use ---------------------------------------------------------------
    def current_in(self, session: Session) -> WorkCalendar:
        """The calendar as the command's own transaction sees it (cached while unchanged)."""
        with self._lock:
            if self._cached is not None and time.monotonic() - self._checked < CACHE_SECONDS:
                return self._cached
        version = _version(session)
        with self._lock:
            if self._cached is None or version != self._version:
                self._cached, self._version = self._provisional(_load(session)), version
            self._checked = time.monotonic()
            return self._cached

    def current(self) -> WorkCalendar:
        """The calendar, cached; re-read when another process changed it (checked every few
        seconds) or when this process did."""
        with self._lock:
            if self._cached is not None and time.monotonic() - self._checked < CACHE_SECONDS:
                return self._cached
            with self.uow.read() as session:
                version = _version(session)
                if self._cached is None or version != self._version:
                    self._cached, self._version = self._provisional(_load(session)), version
            self._checked = time.monotonic()
            return self._cached

    def invalidate(self) -> None:
        with self._lock:
            self._cached, self._checked = None, 0.0

    def alert_provisional_years(self, session: Session, now: datetime) -> list[int]:
        """One admin alert per year that a deadline or a diagram function counted on estimated
        holidays; returns the years newly alerted. Runs inside the caller's command."""
        calendar = self.current_in(session)
        years = sorted(y for y in self._provisional_years if not calendar.is_official(y))
        if not years:
            return []
        keys = {f"calendar_missing:{y}": y for y in years}
        known = {
            a.key: a for a in session.scalars(select(AdminAlert).where(AdminAlert.key.in_(keys)))
        }
        raised = []
        for key, year in keys.items():
            alert = known.get(key)
            if alert is not None and alert.resolved_at is None:
                continue
            message = (
                f"{year} 年尚无国务院办公厅放假安排：跨入该年度的期限暂按周末和估计的法定节假日"
                f"计算（暂定）。请在通知发布后导入 {year} 年放假安排，系统将重新计算相关期限。"
            )
            if alert is None:
                session.add(AdminAlert(key=key, message=message, created_at=now))
            else:
                alert.message, alert.created_at, alert.resolved_at = message, now, None
            self.outbox.emit(
                session,
                "calendar_missing",
                admins(session),
                now,
                payload={"year": year},
                key=f"calendar_missing:{year}:{now.isoformat()}",
            )
            raised.append(year)
        return raised

    def alerts(self, actor: Actor) -> list[dict[str, Any]]:
        """Admin alerts, newest first (e.g. a year without the State Council notice)."""
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

    def _provisional(self, calendar: WorkCalendar) -> WorkCalendar:
        return calendar.provisional(estimated_holidays, self._provisional_years)

    # ---- administration ---------------------------------------------------------------------
    def seed_from_package(self) -> int:
        """Load the package's official data for each year the database does not know yet."""
        days = _package_days()
        wanted = set(range(min(days), max(days) + 1))
        with self.uow.read() as session:  # the usual start: every year is known already
            if wanted <= set(session.scalars(select(CalendarYear.year)).all()):
                return 0
        with self.uow.write() as session:
            _seed_lock(session)
            known = set(session.scalars(select(CalendarYear.year)).all())
            missing = sorted(wanted - known)
            now = self.clock.now()
            for year in missing:
                session.add(
                    CalendarYear(year=year, source="chinese-calendar package", updated_at=now)
                )
                for day, kind, name in days.get(year, []):
                    session.add(
                        CalendarDay(day=day, kind=kind, name=name, source="package", updated_at=now)
                    )
            if missing:
                session.add(
                    CalendarChange(
                        at=now, actor="system", action="seed", details={"years": missing}
                    )
                )
        self.invalidate()
        return len(missing)

    def import_notice(self, actor: Actor, text: str, fmt: str, source: str) -> dict[str, Any]:
        """Replace one year's arrangement with the State Council notice's."""
        self.access.require_admin(actor)
        year, entries = parse_notice(text, fmt)
        with self.uow.write() as session:
            now = self.clock.now()
            before = _year_days(session, year)
            session.execute(
                delete(CalendarDay).where(
                    CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
                )
            )
            for day, kind, name in entries:
                session.add(
                    CalendarDay(day=day, kind=kind, name=name, source="import", updated_at=now)
                )
            row = session.get(CalendarYear, year) or CalendarYear(year=year)
            row.source, row.updated_at = source, now
            session.add(row)
            session.add(
                CalendarChange(
                    at=now,
                    actor=actor.username,
                    action="import",
                    details={
                        "year": year,
                        "source": source,
                        "before": before,
                        "after": _entries(entries),
                    },
                )
            )
            resolved = _resolve_alerts(session, year, now)
            self._provisional_years.discard(year)
            self._changed(session, actor)
        return {"year": year, "days": len(entries), "resolved_alerts": resolved}

    def set_day(self, actor: Actor, day: date, kind: str | None, name: str = "") -> dict:
        """Mark one day a holiday or a make-up workday, or (kind None) make it ordinary."""
        self.access.require_admin(actor)
        if kind is not None and kind not in KINDS:
            raise ValidationFailed("日期类型无效", [FieldError("kind", "应为 holiday 或 workday")])
        with self.uow.write() as session:
            if session.get(CalendarYear, day.year) is None:
                raise ValidationFailed(
                    "该年度尚无日历", [FieldError("day", f"先导入 {day.year} 年的放假安排")]
                )
            now = self.clock.now()
            row = session.get(CalendarDay, day)
            before = {"kind": row.kind, "name": row.name} if row else None
            if kind is None:
                if row is not None:
                    session.delete(row)
            else:
                row = row or CalendarDay(day=day)
                row.kind, row.name, row.source, row.updated_at = kind, name, "admin", now
                session.add(row)
            session.add(
                CalendarChange(
                    at=now,
                    actor=actor.username,
                    action="edit",
                    details={
                        "day": day.isoformat(),
                        "before": before,
                        "after": {"kind": kind, "name": name} if kind else None,
                    },
                )
            )
            self._changed(session, actor)
        return {"day": day.isoformat(), "kind": kind, "name": name}

    def year(self, year: int) -> dict[str, Any]:
        with self.uow.read() as session:
            known = session.get(CalendarYear, year)
            view: dict[str, Any] = {
                "year": year,
                "covered": known is not None,
                "source": known.source if known else None,
                "days": _year_days(session, year),
            }
        if known is None and 1990 <= year <= 2100:
            # what deadlines into this year count on until the notice is imported (暂定)
            view["provisional_holidays"] = [
                d.isoformat() for d in sorted(estimated_holidays(year)) if d.weekday() < 5
            ]
        return view

    def years(self) -> list[dict[str, Any]]:
        with self.uow.read() as session:
            return [
                {"year": y.year, "source": y.source, "updated_at": y.updated_at.isoformat()}
                for y in session.scalars(select(CalendarYear).order_by(CalendarYear.year))
            ]

    def history(self, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            rows = session.scalars(
                select(CalendarChange).order_by(CalendarChange.id.desc()).limit(limit)
            )
            return [
                {"at": r.at.isoformat(), "actor": r.actor, "action": r.action, "details": r.details}
                for r in rows
            ]

    def _changed(self, session: Session, actor: Actor) -> None:
        session.flush()
        self.invalidate()
        calendar = self._provisional(_load(session))
        with self._lock:
            self._cached, self._version = calendar, _version(session)
            self._checked = time.monotonic()
        for listener in self.listeners:
            listener(session, actor)


def parse_notice(text: str, fmt: str) -> tuple[int, list[tuple[date, str, str]]]:
    """CSV `date,kind,name` rows (kind: holiday | workday), or JSON
    {"year": 2027, "holidays": [{"name": "元旦", "days": ["2027-01-01"]}],
     "workdays": [{"name": "春节调休", "days": ["2027-02-07"]}]}."""
    try:
        if fmt == "json":
            entries = _from_json(json.loads(text))
        elif fmt == "csv":
            entries = [
                (
                    date.fromisoformat(r["date"].strip()),
                    r["kind"].strip(),
                    (r.get("name") or "").strip(),
                )
                for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
            ]
        else:
            raise ValidationFailed("格式无效", [FieldError("format", "应为 csv 或 json")])
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ValidationFailed("放假安排无法读取", [FieldError("file", str(exc))]) from exc
    errors = [
        FieldError(d.isoformat(), f"类型应为 holiday 或 workday：{k}")
        for d, k, _ in entries
        if k not in KINDS
    ]
    years = {d.year for d, _, _ in entries}
    if len(years) != 1:
        errors.append(FieldError("file", "一个文件只能包含一个年度的安排"))
    if errors:
        raise ValidationFailed("放假安排无效", errors)
    return years.pop(), entries


def _from_json(document: dict[str, Any]) -> list[tuple[date, str, str]]:
    entries = []
    for key, kind in (("holidays", "holiday"), ("workdays", "workday")):
        for group in document.get(key, []):
            if isinstance(group, str):
                entries.append((date.fromisoformat(group), kind, ""))
            else:
                entries.extend(
                    (date.fromisoformat(d), kind, group.get("name", "")) for d in group["days"]
                )
    year = document.get("year")
    if year is not None and any(d.year != year for d, _, _ in entries):
        raise ValueError(f"所有日期都须在 {year} 年内")
    return entries


@functools.lru_cache(maxsize=1)
def _package_days() -> dict[int, list[tuple[date, str, str]]]:
    """The official days of the `chinese-calendar` package, per year."""
    import chinese_calendar

    days: dict[int, list[tuple[date, str, str]]] = {}
    for day, name in chinese_calendar.holidays.items():
        if day.weekday() < 5:
            days.setdefault(day.year, []).append((day, "holiday", _name(name)))
    for day, name in chinese_calendar.workdays.items():
        days.setdefault(day.year, []).append((day, "workday", _name(name)))
    return days


def _load(session: Session) -> WorkCalendar:
    days = session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
    return WorkCalendar.build(
        (d for d, k in days if k == "holiday"),
        (d for d, k in days if k == "workday"),
        session.scalars(select(CalendarYear.year)).all(),
    )


def _version(session: Session) -> tuple[int, int]:
    count, newest = session.execute(select(func.count(), func.max(CalendarChange.id))).one()
    return count, newest or 0


def _year_days(session: Session, year: int) -> list[dict[str, str]]:
    rows = session.scalars(
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    )
    return [{"day": r.day.isoformat(), "kind": r.kind, "name": r.name} for r in rows]


def _entries(entries: list[tuple[date, str, str]]) -> list[dict[str, str]]:
    return [{"day": d.isoformat(), "kind": k, "name": n} for d, k, n in sorted(entries)]


def _resolve_alerts(session: Session, year: int, now) -> int:
    alerts = session.scalars(
        select(AdminAlert).where(
            AdminAlert.key == f"calendar_missing:{year}", AdminAlert.resolved_at.is_(None)
        )
    ).all()
    for alert in alerts:
        alert.resolved_at = now
    return len(alerts)


def _name(holiday: Any) -> str:
    return getattr(holiday, "value", None) or str(holiday)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


SEED_LOCK_KEY = 0x4C46_4341  # "LFCA"


def _seed_lock(session: Session) -> None:
    """Seeding processes take turns (two servers, or a server and a worker, starting on a new
    database): on PostgreSQL a transaction advisory lock, on SQLite the write lock the
    transaction already holds. The second one then finds the years known and adds nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sql("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK_KEY})
