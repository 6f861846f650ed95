"""What a dashboard figure covers: a region inside the office's territory (everything for an
administrator), split into areas one level down (a city office sees its counties, a county
office its townships; cases at the region itself form the area 本级), and a period of local
days. Whether the user has a dashboard at all is Access.require_office's to say."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import case, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.db.tables import Region
from engine.db.types import path_prefix
from engine.errors import BadRequest, NotFound

from .actor import Actor

MAX_PERIOD_DAYS = 3 * 366
OWN_AREA_SUFFIX = "本级"
NO_AREA = "-"  # a case whose region lies outside every area (an inconsistent tree)


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    path: str
    own: bool = False  # the region itself, not a region below it


@dataclass(frozen=True)
class Scope:
    region: str | None  # None: every region (administrators)
    region_name: str
    path: str  # '' for every region
    areas: tuple[Area, ...]
    since: date
    until: date  # inclusive
    zone: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min, self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.until + timedelta(days=1), time.min, self.zone)

    @property
    def year(self) -> int:
        """The year whose targets the period is compared with: the year of its last day."""
        return self.until.year

    def within(self, region_path: ColumnElement) -> ColumnElement:
        return path_prefix(region_path, self.path) if self.path else true()

    def area_of(self, region_path: ColumnElement) -> ColumnElement:
        """The area code of a row, from its region path (one CASE, evaluated by the database)."""
        whens = [
            (region_path == a.path, a.code) if a.own else (path_prefix(region_path, a.path), a.code)
            for a in self.areas
        ]
        return case(*whens, else_=NO_AREA) if whens else case((true(), NO_AREA))

    def area(self, code: str) -> Area | None:
        return next((a for a in self.areas if a.code == code), None)

    def area_filter(self, region_path: ColumnElement, code: str) -> ColumnElement:
        area = self.area(code)
        if area is None:
            raise BadRequest(f"区域 {code} 不在所选区划之下")
        return region_path == area.path if area.own else path_prefix(region_path, area.path)


def resolve_scope(
    session: Session,
    actor: Actor,
    region: str | None,
    since: date | None,
    until: date | None,
    today: date,
    zone: tzinfo,
) -> Scope:
    until = until or today
    since = since or until.replace(day=1)  # the month so far: the 月调度 view
    if since > until:
        raise BadRequest("统计期间的开始日期不能晚于结束日期")
    if (until - since).days >= MAX_PERIOD_DAYS:
        raise BadRequest("统计期间不能超过三年")
    code = region or default_region(actor)
    if code is None:
        provinces = session.execute(
            select(Region.code, Region.name, Region.path)
            .where(Region.parent_code.is_(None))
            .order_by(Region.code)
        ).all()
        areas = tuple(Area(r.code, r.name, r.path) for r in provinces)
        return Scope(None, "全部区划", "", areas, since, until, zone)
    row = session.execute(
        select(Region.code, Region.name, Region.path).where(Region.code == code)
    ).first()
    if row is None or not (actor.is_admin or actor.watches(row.path)):
        raise NotFound(f"您的辖区内没有区划 {code}")
    children = session.execute(
        select(Region.code, Region.name, Region.path)
        .where(Region.parent_code == row.code)
        .order_by(Region.code)
    ).all()
    areas = tuple(Area(c.code, c.name, c.path) for c in children)
    own = Area(row.code, row.name + OWN_AREA_SUFFIX, row.path, own=True)
    return Scope(row.code, row.name, row.path, (*areas, own), since, until, zone)


def default_region(actor: Actor) -> str | None:
    """An office's own region (the first, if it has several); None for an administrator."""
    if actor.territories:
        return actor.territories[0].rstrip("/").rsplit("/", 1)[-1]
    return None


def regions_in_reach(session: Session, actor: Actor) -> list[tuple[str, str, str]]:
    """(code, name, level) of the regions the user may choose, down to the townships, in
    tree order (an office's territory; every region for an administrator)."""
    query = select(Region.code, Region.name, Region.level, Region.path).where(
        Region.level != "village"
    )
    if not actor.is_admin:
        query = query.where(or_(*[path_prefix(Region.path, t) for t in actor.territories]))
    return [(r.code, r.name, r.level) for r in session.execute(query.order_by(Region.path))]
