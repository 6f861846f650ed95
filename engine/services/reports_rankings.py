"""Rankings (晾晒) of counties and departments: each measure ranks the units that have a value
for it, best first, with competition ranking — units with equal values share a rank and the
next rank skips as many places (1, 2, 2, 4). Values are compared as they are shown (rates to
0.01 %, working days to 0.1), so two units that read the same share a rank."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measure:
    key: str
    name: str
    descending: bool  # a higher value is better


ON_TIME = Measure("on_time_rate", "按期办结率", True)
AVG_DAYS = Measure("avg_workdays", "平均办理工作日", False)
OVERDUE = Measure("late", "逾期办结数", False)
SUPERVISION = Measure("supervision_in_time_rate", "督办按时反馈率", True)


def competition_ranks(values: dict[str, float | int | None], descending: bool) -> dict[str, int]:
    """Rank of each unit with a value (units without one are not ranked)."""
    ranked = {unit: value for unit, value in values.items() if value is not None}
    ordered = sorted(ranked.values(), reverse=descending)
    first_place: dict[float | int, int] = {}
    for place, value in enumerate(ordered, 1):
        first_place.setdefault(value, place)
    return {unit: first_place[value] for unit, value in ranked.items()}


def ranking_rows(
    units: list[dict[str, Any]], measures: tuple[Measure, ...]
) -> list[dict[str, Any]]:
    """Each unit with, per measure, its value and rank; ordered by the first measure's rank
    (unranked last), then by the others, then by code."""
    ranks = {
        m.key: competition_ranks({u["code"]: u[m.key] for u in units}, m.descending)
        for m in measures
    }
    rows = [
        {
            "code": u["code"],
            "name": u["name"],
            **{m.key: u[m.key] for m in measures},
            **{f"{m.key}_rank": ranks[m.key].get(u["code"]) for m in measures},
        }
        for u in units
    ]
    big = len(rows) + 1
    rows.sort(
        key=lambda r: (
            *[r[f"{m.key}_rank"] or big for m in measures],
            r["code"],
        )
    )
    return rows
