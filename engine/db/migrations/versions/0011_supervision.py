"""supervision orders as a process: the order's case, reply, deadline, review and escalation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC = engine.db.types.UTCDateTime
COLUMNS = (
    ("issued_by", sa.String(length=80)),
    ("order_instance_id", sa.String(length=36)),
    ("reply_days", sa.Integer()),
    ("reply_due_at", UTC()),
    ("reply_text", sa.Text()),
    ("replied_at", UTC()),
    ("replied_by", sa.String(length=80)),
    ("overdue_at", UTC()),
    ("closed_by", sa.String(length=80)),
    ("parent_id", sa.Integer()),
    ("escalated_to", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("supervision_orders", schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_supervision_orders_order_instance_id"),
            ["order_instance_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_supervision_orders_department"), ["department"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("supervision_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_orders_department"))
        batch_op.drop_index(batch_op.f("ix_supervision_orders_order_instance_id"))
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
