"""read marks on notifications, provisional tasks, case search text

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:00:00
"""

import json

import sqlalchemy as sa
from alembic import op

import engine.db.types
from engine.domain.case_search import search_text

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    op.add_column(
        "notifications", sa.Column("read_at", engine.db.types.UTCDateTime(), nullable=True)
    )
    op.add_column(
        "tasks",
        sa.Column("sla_provisional", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("instances", sa.Column("search_text", sa.Text(), nullable=True))
    op.execute(
        "UPDATE tasks SET sla_provisional = EXISTS (SELECT 1 FROM sla_clocks c "
        "WHERE c.task_id = tasks.id AND c.provisional AND c.stopped_at IS NULL)"
    )
    _fill_search_text()


def _fill_search_text() -> None:
    bind = op.get_bind()
    regions = {
        code: (name, path)
        for code, name, path in bind.execute(sa.text("SELECT code, name, path FROM regions"))
    }
    rows = bind.execute(
        sa.text("SELECT id, region, case_no, title, business_key, applicant, data FROM instances")
    ).all()
    update = sa.text("UPDATE instances SET search_text = :text WHERE id = :id")
    for start in range(0, len(rows), BATCH):
        batch = []
        for row in rows[start : start + BATCH]:
            data = json.loads(row.data) if isinstance(row.data, str) else row.data
            path = regions.get(row.region, ("", ""))[1]
            names = [regions.get(c, (c, ""))[0] for c in path.strip("/").split("/") if c]
            text = search_text(row.case_no, row.title, row.business_key, row.applicant, names, data)
            batch.append({"id": row.id, "text": text})
        if batch:
            bind.execute(update, batch)


def downgrade() -> None:
    with op.batch_alter_table("instances") as table:
        table.drop_column("search_text")
    with op.batch_alter_table("tasks") as table:
        table.drop_column("sla_provisional")
    with op.batch_alter_table("notifications") as table:
        table.drop_column("read_at")
