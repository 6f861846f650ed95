"""dispatch dashboard: the roll-up of finished steps per local day, backfilled from the steps

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 19:00:00
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import engine.db.types
from engine.settings import Settings

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KEY = (
    "closed_day",
    "region_path",
    "process_id",
    "task_spec",
    "department",
    "sla_state",
    "opened_day",
)


def upgrade() -> None:
    op.create_table(
        "dispatch_finished_days",
        sa.Column("closed_day", sa.Integer(), nullable=False),
        sa.Column("region_path", engine.db.types.RegionPath, nullable=False),
        sa.Column("process_id", sa.String(length=120), nullable=False),
        sa.Column("task_spec", sa.String(length=120), nullable=False),
        sa.Column("department", sa.String(length=60), nullable=False),
        sa.Column("sla_state", sa.String(length=20), nullable=False),
        sa.Column("opened_day", sa.Integer(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY),
        sqlite_with_rowid=False,
    )
    _backfill()


def _backfill() -> None:
    """The steps finished so far, counted per key in local days of the configured zone (as
    engine.services.dashboard_rollup.RollUp.rebuild does)."""
    zone = ZoneInfo(Settings().timezone)
    offset = zone.utcoffset(datetime(2026, 1, 1))
    assert offset is not None  # a ZoneInfo always knows its offset
    minutes = int(offset.total_seconds() // 60)
    if op.get_bind().dialect.name == "sqlite":
        day = f"(CAST(strftime('%s', {{0}}) AS INTEGER) + {minutes * 60}) / 86400"
    else:
        day = f"(CAST({{0}} + make_interval(mins => {minutes}) AS DATE) - DATE '1970-01-01')"
    closed, opened = day.format("completed_at"), day.format("created_at")
    op.execute(
        f"""INSERT INTO dispatch_finished_days ({", ".join(KEY)}, steps)
        SELECT closed_day, region_path, process_id, task_spec, department, sla_state,
               opened_day, count(*)
        FROM (SELECT {closed} AS closed_day, region_path, process_id, task_spec,
                     coalesce(department, '') AS department,
                     coalesce(sla_state, '') AS sla_state, {opened} AS opened_day
              FROM tasks
              WHERE state = 'done' AND completed_at IS NOT NULL) AS finished
        GROUP BY closed_day, region_path, process_id, task_spec, department, sla_state,
                 opened_day"""
    )


def downgrade() -> None:
    op.drop_table("dispatch_finished_days")
