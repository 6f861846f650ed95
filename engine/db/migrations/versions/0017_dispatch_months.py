"""dispatch dashboard: the roll-up of finished steps per month in working days, and the
calendar it was last counted on (built by the `rollup` job a worker arms at start)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

KEY = (
    "calendar",
    "month",
    "region_path",
    "process_id",
    "task_spec",
    "department",
    "sla_state",
    "taken",
)


def upgrade() -> None:
    op.create_table(
        "dispatch_finished_months",
        sa.Column("calendar", sa.String(length=16), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("region_path", engine.db.types.RegionPath, nullable=False),
        sa.Column("process_id", sa.String(length=120), nullable=False),
        sa.Column("task_spec", sa.String(length=120), nullable=False),
        sa.Column("department", sa.String(length=60), nullable=False),
        sa.Column("sla_state", sa.String(length=20), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "dispatch_month_builds",
        sa.Column("calendar", sa.String(length=16), nullable=False),
        sa.Column("built_at", engine.db.types.UTCDateTime(), nullable=False),
        sa.Column("day_rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("calendar"),
    )


def downgrade() -> None:
    op.drop_table("dispatch_month_builds")
    op.drop_table("dispatch_finished_months")
