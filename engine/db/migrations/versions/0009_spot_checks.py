"""spot checks: the yearly draws of accepted consolidation projects

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = engine.db.types.UTCDateTime
JSON = engine.db.types.JsonDocument
PATH = engine.db.types.RegionPath


def upgrade() -> None:
    op.create_table(
        "spot_check_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=20), nullable=False),
        sa.Column("region_path", PATH, nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("share_percent", sa.Float(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("candidate_count", sa.Integer(), nullable=False),
        sa.Column("drawn_count", sa.Integer(), nullable=False),
        sa.Column("candidates", JSON, nullable=False),
        sa.Column("drawn", JSON, nullable=False),
        sa.Column("excluded", JSON, nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=True),
        sa.Column("drawn_by", sa.String(length=80), nullable=False),
        sa.Column("drawn_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("region_code", "year", "level", "round"),
    )
    op.create_index(
        "ix_spot_check_draws_region_path_year", "spot_check_draws", ["region_path", "year"]
    )


def downgrade() -> None:
    op.drop_index("ix_spot_check_draws_region_path_year", table_name="spot_check_draws")
    op.drop_table("spot_check_draws")
