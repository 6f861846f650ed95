"""督办 orders carry their case's region path, so the dashboard counts a period's orders of a
territory from one index range instead of looking up each order's case

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "supervision_orders",
        sa.Column("region_path", engine.db.types.RegionPath, nullable=True),
    )
    op.execute(
        "UPDATE supervision_orders SET region_path = (SELECT instances.region_path FROM instances"
        " WHERE instances.id = supervision_orders.instance_id)"
    )
    op.drop_index("ix_supervision_orders_dispatch", table_name="supervision_orders")
    op.create_index(
        "ix_supervision_orders_dispatch",
        "supervision_orders",
        ["created_at", "region_path", "department", "instance_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_supervision_orders_dispatch", table_name="supervision_orders")
    op.create_index(
        "ix_supervision_orders_dispatch",
        "supervision_orders",
        ["created_at", "instance_id", "department"],
    )
    op.drop_column("supervision_orders", "region_path")
