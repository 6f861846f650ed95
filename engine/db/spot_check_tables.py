"""The yearly spot-check draws of accepted land-consolidation projects (DOMAIN.md §5): who drew,
when, for which territory, year and level, with which share and seed, over which candidates,
and which projects were drawn (each with the check case it started)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base
from .types import JsonDocument, RegionPath, UTCDateTime


class SpotCheckDraw(Base):
    """One draw. Round 1 is the year's draw; later rounds are supplementary draws among the
    projects no earlier round drew. The unique round keeps a concurrent second draw out."""

    __tablename__ = "spot_check_draws"
    __table_args__ = (
        UniqueConstraint("region_code", "year", "level", "round"),
        Index("ix_spot_check_draws_region_path_year", "region_path", "year"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))  # the territory
    region_path: Mapped[str] = mapped_column(RegionPath)
    level: Mapped[str] = mapped_column(String(12))  # city | province
    year: Mapped[int] = mapped_column(Integer)  # the year the projects were accepted in
    round: Mapped[int] = mapped_column(Integer)
    share_percent: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(BigInteger)
    candidate_count: Mapped[int] = mapped_column(Integer)
    drawn_count: Mapped[int] = mapped_column(Integer)
    # the candidates in the order the draw indexes them (by 办件编号), and the drawn ones
    candidates: Mapped[list[Any]] = mapped_column(JsonDocument)
    drawn: Mapped[list[Any]] = mapped_column(JsonDocument)
    excluded: Mapped[list[Any]] = mapped_column(JsonDocument)  # drawn by earlier rounds
    reason: Mapped[str | None] = mapped_column(String(400))
    drawn_by: Mapped[str] = mapped_column(String(80))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
