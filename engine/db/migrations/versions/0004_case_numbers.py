"""case numbers, matters and applicants

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_counters",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("instances") as table:
        table.add_column(sa.Column("case_no", sa.String(length=40), nullable=True))
        table.add_column(sa.Column("title", sa.String(length=300), nullable=True))
        table.add_column(sa.Column("applicant", sa.String(length=200), nullable=True))
        table.create_unique_constraint("uq_instances_case_no", ["case_no"])


def downgrade() -> None:
    with op.batch_alter_table("instances") as table:
        table.drop_constraint("uq_instances_case_no", type_="unique")
        table.drop_column("applicant")
        table.drop_column("title")
        table.drop_column("case_no")
    op.drop_table("case_counters")
