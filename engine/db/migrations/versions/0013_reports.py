"""dispatch reports as immutable snapshots: the report and its files

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC = engine.db.types.UTCDateTime
PATH = engine.db.types.RegionPath


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("region_code", sa.String(length=20), nullable=False),
        sa.Column("region_path", PATH, nullable=False),
        sa.Column("region_name", sa.String(length=100), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("issued_at", UTC(), nullable=False),
        sa.Column("issued_by", sa.String(length=80), nullable=False),
        sa.Column("trigger", sa.String(length=12), nullable=False),
        sa.Column("figures_json", sa.Text(), nullable=False),
        sa.Column("figures_sha256", sa.String(length=64), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("html_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "region_code", "since", "until", "version"),
    )
    op.create_index("ix_reports_region_path_issued", "reports", ["region_path", "issued_at"])
    op.create_table(
        "report_files",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("report_id", "format"),
    )


def downgrade() -> None:
    op.drop_table("report_files")
    op.drop_index("ix_reports_region_path_issued", table_name="reports")
    op.drop_table("reports")
