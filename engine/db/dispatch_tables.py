"""Tables of the leadership-group office's dispatch dashboard: the yearly indicator targets per
region, and the indexes its aggregates read (on the engine's own tables, so that every figure
is an index-only scan of the office's territory)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, HumanTask, Instance, SupervisionOrder
from .types import RegionPath, UTCDateTime


class DispatchTarget(Base):
    """A yearly target of one indicator (engine.services.dashboard_indicators) for a region."""

    __tablename__ = "dispatch_targets"
    __table_args__ = (UniqueConstraint("year", "region_code", "indicator"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    indicator: Mapped[str] = mapped_column(String(60))
    target: Mapped[float] = mapped_column(Float)
    basis: Mapped[str | None] = mapped_column(String(300))  # where the figure comes from
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


_tasks = HumanTask.__table__.c
# open work of a territory: cases per step, lights per department and area, time waited so far
Index(
    "ix_tasks_dispatch_open",
    _tasks.state,
    _tasks.region_path,
    _tasks.process_id,
    _tasks.task_spec,
    _tasks.department,
    _tasks.sla_state,
    _tasks.instance_id,
    _tasks.created_at,
)
# work finished in a period: on-time rate, working days per step, indicators
Index(
    "ix_tasks_dispatch_done",
    _tasks.state,
    _tasks.completed_at,
    _tasks.region_path,
    _tasks.process_id,
    _tasks.task_spec,
    _tasks.department,
    _tasks.sla_state,
    _tasks.created_at,
    _tasks.instance_id,
)
# one step's finishes in a period: the indicators recorded at that step
Index(
    "ix_tasks_dispatch_step",
    _tasks.process_id,
    _tasks.task_spec,
    _tasks.state,
    _tasks.completed_at,
    _tasks.region_path,
    _tasks.instance_id,
)
_instances = Instance.__table__.c
# cases of a territory: active ones per process, and the case ids an order or step joins to
Index(
    "ix_instances_dispatch",
    _instances.region_path,
    _instances.status,
    _instances.process_id,
    _instances.id,
)
_orders = SupervisionOrder.__table__.c
Index(
    "ix_supervision_orders_dispatch",
    _orders.created_at,
    _orders.region_path,
    _orders.department,
    _orders.instance_id,
)


class DispatchFinishedDay(Base):
    """The roll-up of finished steps (engine.services.dashboard_rollup): how many steps of one
    step, department and region, opened on one local day and finished on another with one clock
    outcome. Day numbers count local days since 1970-01-01, so that working days are computed
    per row on the calendar of the moment; unrouted steps and steps without a clock have ''."""

    __tablename__ = "dispatch_finished_days"
    __table_args__ = ({"sqlite_with_rowid": False},)
    closed_day: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_path: Mapped[str] = mapped_column(RegionPath, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    task_spec: Mapped[str] = mapped_column(String(120), primary_key=True)
    department: Mapped[str] = mapped_column(String(60), primary_key=True)
    sla_state: Mapped[str] = mapped_column(String(20), primary_key=True)
    opened_day: Mapped[int] = mapped_column(Integer, primary_key=True)
    steps: Mapped[int] = mapped_column(Integer)


class DispatchFinishedMonth(Base):
    """The coarser roll-up (engine.services.dashboard_months): how many steps of one step,
    department and area finished in one local month, taking one number of working days on one
    calendar (`calendar`: the fingerprint of the working days it was counted on). Region paths
    are cut to the township, the deepest area a county office's dashboard splits into."""

    __tablename__ = "dispatch_finished_months"
    __table_args__ = ({"sqlite_with_rowid": False},)
    calendar: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # 202611 for November 2026
    region_path: Mapped[str] = mapped_column(RegionPath, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    task_spec: Mapped[str] = mapped_column(String(120), primary_key=True)
    department: Mapped[str] = mapped_column(String(60), primary_key=True)
    sla_state: Mapped[str] = mapped_column(String(20), primary_key=True)
    taken: Mapped[int] = mapped_column(Integer, primary_key=True)  # working days
    steps: Mapped[int] = mapped_column(Integer)


class DispatchMonthBuild(Base):
    """The calendar the month roll-up was last counted on from the day roll-up: its rows of
    that calendar hold every finished step; without a row here the dashboard reads days."""

    __tablename__ = "dispatch_month_builds"
    calendar: Mapped[str] = mapped_column(String(16), primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    day_rows: Mapped[int] = mapped_column(Integer)
