"""tamper-evident audit log with its chain head; sign-in throttling counters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UTC = engine.db.types.UTCDateTime
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("action_at", UTC(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("on_behalf_of", sa.String(length=80), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("history_id", BIG_ID, nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_audit_log_instance_id", "audit_log", ["instance_id"])
    op.create_index("ix_audit_log_history_id", "audit_log", ["history_id"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", BIG_ID, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started", UTC(), nullable=False),
        sa.Column("locked_until", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("sign_in_throttle")
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_history_id", table_name="audit_log")
    op.drop_index("ix_audit_log_instance_id", table_name="audit_log")
    op.drop_table("audit_log")
