"""incidents; tasks reopened by a return

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:40:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("process_id", sa.String(length=120), nullable=False),
        sa.Column("step_id", sa.String(length=36), nullable=True),
        sa.Column("element_id", sa.String(length=120), nullable=True),
        sa.Column("element_name", sa.String(length=300), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", engine.db.types.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", engine.db.types.UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=80), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incidents_status_process", "incidents", ["status", "process_id"])
    op.create_index("ix_incidents_instance", "incidents", ["instance_id", "status"])
    op.add_column("tasks", sa.Column("returned", _JSON, nullable=True))
    op.add_column("tasks", sa.Column("return_targets", _JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("tasks", "return_targets")
    op.drop_column("tasks", "returned")
    op.drop_index("ix_incidents_instance", table_name="incidents")
    op.drop_index("ix_incidents_status_process", table_name="incidents")
    op.drop_table("incidents")
