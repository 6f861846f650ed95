"""Yearly spot checks of accepted consolidation projects: the reproducible random draw, its
record, and one check case (processes/consolidation_spot_check.bpmn) per drawn project.

Who: administrators, and at a city or province the leadership-group office or the 自然资源
department (their draws are for their own region, at its level). Offices read the draws of
their territory too. Anyone else gets 403; a region or draw beyond reach does not exist (404)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import false, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.spot_check_tables import SpotCheckDraw
from engine.db.tables import Department, Region
from engine.db.types import path_prefix
from engine.domain.organisation import LEADERSHIP_OFFICE
from engine.domain.spot_checks import (
    LEVEL_NAMES,
    LEVELS,
    SEED_LIMIT,
    Share,
    draw,
    load_shares,
    new_seed,
    required_count,
)
from engine.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed

from .actor import Actor
from .instances import InstanceService
from .names import NameBook
from .recorder import record_history
from .spot_check_candidates import accepted_projects
from .spot_check_cases import start_check_case
from .spot_check_views import draw_summary, draw_view, named, territory_view
from .uow import UnitOfWork

CHECKING_DEPARTMENT = "zrzy"  # the 自然资源 department of the drawing region does the checks
FIRST_YEAR = 2000
YEARS_OFFERED = 5
NOT_FOR_YOU = "年度抽查仅供市、省两级领导小组办公室、自然资源主管部门和管理员使用"


@dataclass(frozen=True)
class DrawRequest:
    year: int
    region: str | None = None  # the territory; the drawer's own city or province if omitted
    share_percent: float | None = None  # at least the level's minimum (40 % / 15 %)
    count: int | None = None  # how many to draw, instead of the share's
    seed: int | None = None  # a fresh random seed if omitted
    supplementary: bool = False  # a further round among the projects not drawn yet
    reason: str | None = None


class SpotCheckService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        instances: InstanceService,
        names: NameBook,
        zone: tzinfo,
        processes_dir: Path,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.instances = instances
        self.names = names
        self.zone = zone
        self.processes_dir = processes_dir

    # ---- reading ---------------------------------------------------------------------------
    def options(self, actor: Actor) -> dict[str, Any]:
        """What the draw form offers this user: regions, years and each level's minimum."""
        with self.uow.read() as session:
            self._check_reader(session, actor)
            regions = self._drawing_regions(session, actor)
        shares = load_shares(self.processes_dir)
        this_year = self._this_year()
        return {
            "regions": [
                {
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "level_name": LEVEL_NAMES[r.level],
                    "min_share_percent": float(shares[r.level].min_percent),
                    "basis": shares[r.level].basis,
                }
                for r in regions
            ],
            "years": list(range(this_year, this_year - YEARS_OFFERED, -1)),
            "current_year": this_year,
        }

    def candidates(
        self, actor: Actor, year: int | None = None, region: str | None = None
    ) -> dict[str, Any]:
        """The projects a draw for `year` would choose from, and how many it must draw."""
        year = self._check_year(year or self._this_year())
        with self.uow.read() as session:
            territory = self._drawing_region(session, actor, region)
            share = load_shares(self.processes_dir)[territory.level]
            found = accepted_projects(session, territory.path, year, self.zone)
            earlier = self._rounds(session, territory, year)
            drawn = {d["instance_id"] for row in earlier for d in row.drawn}
            return {
                **territory_view(territory, year),
                "min_share_percent": float(share.min_percent),
                "basis": share.basis,
                "candidate_count": len(found),
                "required_count": required_count(share.min_percent, len(found)),
                "already_drawn_count": len(drawn),
                "draws": [draw_summary(self.names, row) for row in earlier],
                "candidates": [
                    named(self.names, c) | {"drawn": c["instance_id"] in drawn} for c in found
                ],
            }

    def list(
        self, actor: Actor, year: int | None = None, region: str | None = None
    ) -> dict[str, Any]:
        with self.uow.read() as session:
            self._check_reader(session, actor)
            query = select(SpotCheckDraw).where(self._visible(session, actor))
            if year is not None:
                query = query.where(SpotCheckDraw.year == year)
            if region:
                query = query.where(SpotCheckDraw.region_code == region)
            rows = session.scalars(
                query.order_by(SpotCheckDraw.drawn_at.desc(), SpotCheckDraw.id.desc())
            ).all()
            return {"items": [draw_summary(self.names, r) for r in rows], "total": len(rows)}

    def get(self, actor: Actor, draw_id: int) -> dict[str, Any]:
        with self.uow.read() as session:
            self._check_reader(session, actor)
            row = session.scalar(
                select(SpotCheckDraw).where(
                    SpotCheckDraw.id == draw_id, self._visible(session, actor)
                )
            )
            if row is None:
                raise NotFound(f"没有编号为 {draw_id} 的抽查抽取记录，或您无权查看")
            return draw_view(session, self.names, row)

    # ---- the draw --------------------------------------------------------------------------
    def draw(self, actor: Actor, request: DrawRequest) -> dict[str, Any]:
        year = self._check_year(request.year)
        with self.uow.write() as session:
            territory = self._drawing_region(session, actor, request.region)
            level = territory.level
            share_rule = load_shares(self.processes_dir)[level]
            share = self._share(share_rule, request.share_percent)
            accepted = accepted_projects(session, territory.path, year, self.zone)
            earlier = self._rounds(session, territory, year)
            what = f"{year}年度{territory.name}{LEVEL_NAMES[level]}抽查"
            if earlier and not request.supplementary:
                first = earlier[0]
                raise Conflict(
                    f"{what}已于{self._local(first.drawn_at)}抽取（抽取记录第{first.id}号），"
                    "不能重复抽取；如需增加抽查项目，请进行补充抽取（已抽中的项目不再参加）",
                    draw_id=first.id,
                )
            if request.supplementary and not earlier:
                raise Conflict(f"{what}尚未抽取，不能补充抽取，请先进行年度抽取")
            drawn_before = {d["instance_id"] for row in earlier for d in row.drawn}
            candidates = [c for c in accepted if c["instance_id"] not in drawn_before]
            count = self._count(request, share, accepted, drawn_before, candidates, what)
            seed = self._seed(request.seed)
            row = SpotCheckDraw(
                region_code=territory.code,
                region_path=territory.path,
                level=level,
                year=year,
                round=len(earlier) + 1,
                share_percent=float(share),
                seed=seed,
                candidate_count=len(candidates),
                drawn_count=count,
                candidates=candidates,
                drawn=[],
                excluded=sorted(drawn_before),
                reason=(request.reason or "").strip()[:400] or None,
                drawn_by=actor.username,
                drawn_at=self.clock.now(),
            )
            session.add(row)
            try:
                with session.begin_nested():
                    session.flush()
            except IntegrityError as exc:  # a concurrent draw took this round first
                raise Conflict(f"{what}刚刚已由他人抽取，请刷新后查看") from exc
            row.drawn = [
                self._start_check(session, actor, row, territory, project)
                for project in draw(seed, candidates, count)
            ]
            session.flush()
            return draw_view(session, self.names, row)

    def _start_check(
        self,
        session: Session,
        actor: Actor,
        row: SpotCheckDraw,
        territory: Region,
        project: dict[str, Any],
    ) -> dict[str, Any]:
        level_name = LEVEL_NAMES[row.level]
        said = (
            f"由{territory.name}{row.year}年度{level_name}抽查随机抽中"
            f"（抽取记录第{row.id}号{'，补充抽取' if row.round > 1 else ''}；"
            f"随机种子 {row.seed}；候选项目 {row.candidate_count} 个，抽取 {row.drawn_count} 个）"
        )
        data = {
            "project_case_id": project["instance_id"],
            "project_case_no": project["case_no"],
            "project_business_key": project["business_key"],
            "project_name": project["project_name"],
            "project_accepted_at": project["accepted_at"],
            "project_accepted_on": self._local(project["accepted_at"], "%Y-%m-%d"),
            "check_department": f"{CHECKING_DEPARTMENT}.{territory.code}",
            "draw_id": row.id,
            "draw_year": row.year,
            "draw_level": row.level,
            "draw_level_name": level_name,
            "draw_region": territory.code,
            "draw_seed": row.seed,
        }
        data = {k: v for k, v in data.items() if v is not None}
        key = project["business_key"] or project["case_no"] or project["instance_id"]
        case = start_check_case(
            session,
            self.instances,
            actor,
            session.get_one(Region, project["region"]),
            f"{key}-{row.year}{level_name}抽查"[:120],
            data,
            said,
            row.drawn_at,
        )
        record_history(
            session,
            project["instance_id"],
            row.drawn_at,
            actor,
            "spot_check_drawn",
            title="年度抽查",
            reason=f"{said}，抽查办件 {case.case_no}",
            draw_id=row.id,
            seed=row.seed,
            check_case_id=case.id,
            check_case_no=case.case_no,
        )
        return {**project, "check_case_id": case.id, "check_case_no": case.case_no}

    def _count(
        self,
        request: DrawRequest,
        share: Decimal,
        accepted: builtins.list[dict[str, Any]],
        drawn_before: set[str],
        candidates: builtins.list[dict[str, Any]],
        what: str,
    ) -> int:
        """How many this draw takes: the share of the year's accepted projects (less those
        earlier rounds drew), or the count asked for, never below the share."""
        needed = required_count(share, len(accepted)) - len(drawn_before)
        if not candidates:
            raise Conflict(f"{what}没有可供抽取的项目（当年通过联合验收且尚未抽中的项目为 0 个）")
        if request.count is None:
            if needed <= 0:
                raise Conflict(
                    f"{what}已抽中 {len(drawn_before)} 个项目，已达到抽查比例；"
                    "如需增加抽查项目，请填写补充抽取的数量"
                )
            return needed
        if not needed <= request.count <= len(candidates) or request.count < 1:
            low = max(needed, 1)
            raise ValidationFailed(
                "抽取数量无效",
                [FieldError("count", f"抽取数量应在 {low} 至 {len(candidates)} 个之间")],
            )
        return request.count

    # ---- who and what ----------------------------------------------------------------------
    def _drawing_regions(self, session: Session, actor: Actor) -> builtins.list[Region]:
        """The cities and provinces the actor draws for: every one for an administrator, else
        the regions of their leadership-group office or 自然资源 department there."""
        query = select(Region).where(Region.level.in_(LEVELS))
        if actor.is_admin:
            return list(session.scalars(query.order_by(Region.path)))
        if not actor.departments:
            return []
        rows = session.execute(
            select(Department.code, Department.dept_type, Department.region_code).where(
                Department.code.in_(actor.departments), Department.is_active
            )
        ).all()
        codes = {
            row.region_code
            for row in rows
            if row.dept_type in (LEADERSHIP_OFFICE, CHECKING_DEPARTMENT)
            or actor.has_role(row.code, "office")
        }
        if not codes:
            return []
        return list(session.scalars(query.where(Region.code.in_(codes)).order_by(Region.path)))

    def _drawing_region(self, session: Session, actor: Actor, code: str | None) -> Region:
        regions = self._drawing_regions(session, actor)
        if not regions:
            raise PermissionDenied(NOT_FOR_YOU)
        if code:
            found = next((r for r in regions if r.code == code), None)
            if found is None:
                raise NotFound(f"没有您可以组织抽查的区划 {code}")
            return found
        if len(regions) > 1:
            raise ValidationFailed("请选择抽查区划", [FieldError("region", "请选择抽查区划")])
        return regions[0]

    def _check_reader(self, session: Session, actor: Actor) -> None:
        if not (actor.is_admin or actor.territories or self._drawing_regions(session, actor)):
            raise PermissionDenied(NOT_FOR_YOU)

    def _visible(self, session: Session, actor: Actor):
        if actor.is_admin:
            return true()
        paths = set(actor.territories) | {r.path for r in self._drawing_regions(session, actor)}
        if not paths:
            return false()
        return or_(*[path_prefix(SpotCheckDraw.region_path, p) for p in sorted(paths)])

    def _rounds(
        self, session: Session, territory: Region, year: int
    ) -> builtins.list[SpotCheckDraw]:
        return list(
            session.scalars(
                select(SpotCheckDraw)
                .where(
                    SpotCheckDraw.region_code == territory.code,
                    SpotCheckDraw.year == year,
                    SpotCheckDraw.level == territory.level,
                )
                .order_by(SpotCheckDraw.round)
            )
        )

    def _this_year(self) -> int:
        return self.clock.now().astimezone(self.zone).year

    def _check_year(self, year: int) -> int:
        this_year = self._this_year()
        if not FIRST_YEAR <= year <= this_year:
            raise ValidationFailed(
                "抽查年度无效",
                [FieldError("year", f"抽查年度应在 {FIRST_YEAR} 至 {this_year} 年之间")],
            )
        return year

    @staticmethod
    def _share(rule: Share, asked: float | None) -> Decimal:
        if asked is None:
            return rule.min_percent
        try:
            share = Decimal(str(asked))
        except InvalidOperation:
            share = Decimal(-1)
        if not rule.min_percent <= share <= Decimal(100):
            raise ValidationFailed(
                "抽查比例无效",
                [
                    FieldError(
                        "share_percent",
                        f"抽查比例应在 {rule.min_percent}% 至 100% 之间"
                        + (f"（{rule.basis}）" if rule.basis else ""),
                    )
                ],
            )
        return share

    @staticmethod
    def _seed(asked: int | None) -> int:
        if asked is None:
            return new_seed()
        if not 0 <= asked < SEED_LIMIT:
            raise ValidationFailed(
                "随机种子无效",
                [FieldError("seed", f"随机种子应为 0 至 {SEED_LIMIT - 1} 之间的整数")],
            )
        return asked

    def _local(self, moment: datetime | str, pattern: str = "%Y-%m-%d %H:%M") -> str:
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return moment.astimezone(self.zone).strftime(pattern)
