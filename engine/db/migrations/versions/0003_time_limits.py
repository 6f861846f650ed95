"""time-limit rules as data, cases accepted by law, provisional clocks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "time_limit_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=120), nullable=False),
        sa.Column("task_spec", sa.String(length=120), nullable=False),
        sa.Column("region_prefix", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("limit_text", sa.String(length=10), nullable=False),
        sa.Column("yellow_rule", sa.String(length=10), nullable=True),
        sa.Column("max_extension", sa.Integer(), nullable=True),
        sa.Column("basis", sa.String(length=300), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", engine.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_id", "task_spec", "region_prefix", "kind"),
    )
    op.create_table(
        "legal_acceptances",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("notice_deadline", sa.Date(), nullable=False),
        sa.Column("accepted_at", engine.db.types.UTCDateTime(), nullable=False),
        sa.Column("basis", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    op.add_column(
        "sla_clocks",
        sa.Column("provisional", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("sla_clocks", sa.Column("max_extension", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sla_clocks") as batch:
        batch.drop_column("max_extension")
        batch.drop_column("provisional")
    op.drop_table("legal_acceptances")
    op.drop_table("time_limit_rules")
