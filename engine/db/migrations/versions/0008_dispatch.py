"""dispatch dashboard: yearly indicator targets per region, indexes for its aggregates

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC = engine.db.types.UTCDateTime
OPEN_COLUMNS = [
    "state",
    "region_path",
    "process_id",
    "task_spec",
    "department",
    "sla_state",
    "instance_id",
    "created_at",
]
DONE_COLUMNS = [
    "state",
    "completed_at",
    "region_path",
    "process_id",
    "task_spec",
    "department",
    "sla_state",
    "created_at",
    "instance_id",
]
STEP_COLUMNS = ["process_id", "task_spec", "state", "completed_at", "region_path", "instance_id"]


def upgrade() -> None:
    op.create_table(
        "dispatch_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=20), nullable=False),
        sa.Column("indicator", sa.String(length=60), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("basis", sa.String(length=300), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "region_code", "indicator"),
    )
    op.create_index("ix_dispatch_targets_region_code", "dispatch_targets", ["region_code"])
    op.create_index("ix_tasks_dispatch_open", "tasks", OPEN_COLUMNS)
    op.create_index("ix_tasks_dispatch_done", "tasks", DONE_COLUMNS)
    op.create_index("ix_tasks_dispatch_step", "tasks", STEP_COLUMNS)
    op.create_index(
        "ix_instances_dispatch", "instances", ["region_path", "status", "process_id", "id"]
    )
    op.create_index(
        "ix_supervision_orders_dispatch",
        "supervision_orders",
        ["created_at", "instance_id", "department"],
    )


def downgrade() -> None:
    op.drop_index("ix_supervision_orders_dispatch", table_name="supervision_orders")
    op.drop_index("ix_instances_dispatch", table_name="instances")
    op.drop_index("ix_tasks_dispatch_step", table_name="tasks")
    op.drop_index("ix_tasks_dispatch_done", table_name="tasks")
    op.drop_index("ix_tasks_dispatch_open", table_name="tasks")
    op.drop_index("ix_dispatch_targets_region_code", table_name="dispatch_targets")
    op.drop_table("dispatch_targets")
