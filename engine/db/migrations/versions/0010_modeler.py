"""modeler: diagram drafts and the saved versions of task forms

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC = engine.db.types.UTCDateTime
JSON = engine.db.types.JsonDocument


def upgrade() -> None:
    op.create_table(
        "model_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=120), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("extra_files", JSON, nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=400), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_model_drafts_process_updated", "model_drafts", ["process_id", "updated_at"])
    op.create_table(
        "form_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_key", sa.String(length=120), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("previous_sha256", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=400), nullable=False),
        sa.Column("saved_by", sa.String(length=80), nullable=False),
        sa.Column("saved_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_key", "revision"),
    )


def downgrade() -> None:
    op.drop_table("form_revisions")
    op.drop_index("ix_model_drafts_process_updated", table_name="model_drafts")
    op.drop_table("model_drafts")
