"""Issued dispatch reports (周报, 月调度, 季度分析, 年度总结, 不定期通报) as immutable snapshots:
the figures as canonical JSON, the rendered HTML and the files (xlsx, pdf), each with its
sha256. A row is written once when the report is issued and never updated; issuing the same
kind, region and period again makes the next version."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base
from .types import RegionPath, UTCDateTime


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("kind", "region_code", "since", "until", "version"),
        Index("ix_reports_region_path_issued", "region_path", "issued_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(12)
    )  # weekly | monthly | quarterly | annual | bulletin
    region_code: Mapped[str] = mapped_column(String(20))
    region_path: Mapped[str] = mapped_column(RegionPath)
    region_name: Mapped[str] = mapped_column(String(100))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date] = mapped_column(Date)  # inclusive
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(80))
    trigger: Mapped[str] = mapped_column(String(12))  # manual | schedule
    figures_json: Mapped[str] = mapped_column(Text)  # canonical JSON, sorted keys
    figures_sha256: Mapped[str] = mapped_column(String(64))
    html: Mapped[str] = mapped_column(Text)  # the report's body as issued
    html_sha256: Mapped[str] = mapped_column(String(64))


class ReportFile(Base):
    """A file of a report as issued: its workbook (xlsx) and its PDF."""

    __tablename__ = "report_files"
    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    format: Mapped[str] = mapped_column(String(8), primary_key=True)  # xlsx | pdf
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
