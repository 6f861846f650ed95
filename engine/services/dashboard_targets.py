"""Yearly indicator targets per region (table dispatch_targets): read, set, clear, and seeded
from a CSV (the demo's 金华市 2026 targets, processes/demo/dispatch_targets.csv):

    year,region,indicator,target,basis
    2026,330700,new_farmland,45000,金华市2026年目标：新增耕地4.5万亩

Seeding adds the rows that are missing and never overwrites a target someone has set."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.dispatch_tables import DispatchTarget
from engine.errors import FieldError, ValidationFailed

from .sla_views import iso

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_TARGET = 1e12
TARGET_COLUMNS = ("year", "region", "indicator", "target", "basis")


@dataclass(frozen=True)
class TargetRow:
    year: int
    region: str
    indicator: str
    target: float
    basis: str | None = None


def targets_of(session: Session, year: int, region: str) -> dict[str, DispatchTarget]:
    return {
        row.indicator: row
        for row in session.scalars(
            select(DispatchTarget).where(
                DispatchTarget.year == year, DispatchTarget.region_code == region
            )
        )
    }


def check_target(year: int, target: float | None, basis: str | None) -> None:
    errors = []
    if not MIN_YEAR <= year <= MAX_YEAR:
        errors.append(FieldError("year", f"年度应在 {MIN_YEAR}–{MAX_YEAR} 之间"))
    if target is not None and (
        not isinstance(target, (int, float))
        or isinstance(target, bool)
        or not math.isfinite(target)
        or not 0 <= target <= MAX_TARGET
    ):
        errors.append(FieldError("target", "目标值应为不小于 0 的数字"))
    if basis is not None and len(basis) > 300:
        errors.append(FieldError("basis", "依据不超过 300 字"))
    if errors:
        raise ValidationFailed("目标值无效", errors)


def put_target(
    session: Session, row: TargetRow, by: str, now: datetime, overwrite: bool = True
) -> DispatchTarget | None:
    existing = targets_of(session, row.year, row.region).get(row.indicator)
    if existing is not None and not overwrite:
        return None
    if existing is None:
        existing = DispatchTarget(year=row.year, region_code=row.region, indicator=row.indicator)
        session.add(existing)
    existing.target, existing.basis = float(row.target), row.basis
    existing.updated_by, existing.updated_at = by, now
    session.flush()
    return existing


def clear_target(session: Session, year: int, region: str, indicator: str) -> bool:
    existing = targets_of(session, year, region).get(indicator)
    if existing is None:
        return False
    session.delete(existing)
    return True


def target_view(row: DispatchTarget | None) -> dict[str, Any]:
    if row is None:
        return {"target": None, "basis": None, "updated_by": None, "updated_at": None}
    return {
        "target": row.target,
        "basis": row.basis,
        "updated_by": row.updated_by,
        "updated_at": iso(row.updated_at),
    }


def parse_targets_csv(text: str) -> list[TargetRow]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != TARGET_COLUMNS:
        raise ValueError(f"表头须为 {','.join(TARGET_COLUMNS)}")
    rows = []
    for line, row in enumerate(reader, start=2):
        try:
            rows.append(
                TargetRow(
                    int(row["year"]),
                    row["region"].strip(),
                    row["indicator"].strip(),
                    float(row["target"]),
                    (row.get("basis") or "").strip() or None,
                )
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"第 {line} 行：{exc}") from None
    return rows
