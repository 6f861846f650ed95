"""How a spot-check draw reads: its summary for lists, and in full with the candidates, the
drawn projects with the state of their check cases, and the re-run of the recorded seed."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.spot_check_tables import SpotCheckDraw
from engine.db.tables import Instance, Region
from engine.domain.spot_checks import ALGORITHM, LEVEL_NAMES, draw

from .names import NameBook


def territory_view(territory: Region, year: int) -> dict[str, Any]:
    return {
        "region": territory.code,
        "region_name": territory.name,
        "level": territory.level,
        "level_name": LEVEL_NAMES[territory.level],
        "year": year,
    }


def draw_summary(names: NameBook, row: SpotCheckDraw) -> dict[str, Any]:
    return {
        "id": row.id,
        "region": row.region_code,
        "region_name": names.region(row.region_code),
        "level": row.level,
        "level_name": LEVEL_NAMES.get(row.level, row.level),
        "year": row.year,
        "round": row.round,
        "supplementary": row.round > 1,
        "share_percent": row.share_percent,
        "seed": row.seed,
        "candidate_count": row.candidate_count,
        "drawn_count": row.drawn_count,
        "excluded_count": len(row.excluded or []),
        "reason": row.reason,
        "drawn_by": row.drawn_by,
        "drawn_by_name": names.user(row.drawn_by),
        "drawn_at": row.drawn_at.astimezone(UTC).isoformat(),
    }


def draw_view(session: Session, names: NameBook, row: SpotCheckDraw) -> dict[str, Any]:
    """The summary with the candidates, the drawn projects and where their check cases stand,
    and whether re-running the recorded seed over the recorded candidates draws exactly the
    recorded projects (`verified`)."""
    drawn = list(row.drawn or [])
    checks = {
        r.id: (r.status, (r.data or {}).get("spot_check_outcome"))
        for r in session.execute(
            select(Instance.id, Instance.status, Instance.data).where(
                Instance.id.in_([d["check_case_id"] for d in drawn])
            )
        )
    }
    rerun = [c["instance_id"] for c in draw(row.seed, row.candidates, row.drawn_count)]
    return {
        **draw_summary(names, row),
        "algorithm": ALGORITHM,
        "verified": rerun == [d["instance_id"] for d in drawn],
        "candidates": [named(names, c) for c in row.candidates],
        "drawn": [named(names, d) | check_state(checks.get(d["check_case_id"])) for d in drawn],
    }


def check_state(check: tuple[str, str | None] | None) -> dict[str, Any]:
    status, outcome = check or (None, None)
    return {"check_status": status, "check_outcome": outcome}


def named(names: NameBook, project: dict[str, Any]) -> dict[str, Any]:
    """A candidate with its region's full name (金华市婺城区白龙桥镇)."""
    return {**project, "region_name": names.region_full(project.get("region"))}
