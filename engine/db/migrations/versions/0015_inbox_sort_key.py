"""inbox keyset paging: the tasks' non-null sort key and the indexes each scope walks

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 19:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SORT_DUE_SQL = "coalesce(due_at, '9999-12-31 00:00:00.000000')"
NEW = {
    "ix_tasks_assignee_state_sort": ["assignee", "state", "sort_due", "id"],
    "ix_tasks_department_state_sort": ["department", "state", "sort_due", "id", "assignee"],
    "ix_tasks_owner_state_sort": ["owner", "state", "sort_due", "id"],
    "ix_tasks_state_sort": ["state", "sort_due", "id", "region_path"],
}
OLD = {
    "ix_tasks_assignee_state_due": ["assignee", "state", "due_at"],
    "ix_tasks_department_state_due": ["department", "state", "due_at"],
    "ix_tasks_state_due": ["state", "due_at"],
    "ix_tasks_owner": ["owner"],
}


def upgrade() -> None:
    # virtual on SQLite (ALTER TABLE cannot add a stored one), stored on PostgreSQL
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    op.add_column(
        "tasks",
        sa.Column(
            "sort_due",
            engine.db.types.UTCDateTime(),
            sa.Computed(SORT_DUE_SQL, persisted=stored),
        ),
    )
    for name in OLD:
        op.drop_index(name, table_name="tasks")
    for name, columns in NEW.items():
        op.create_index(name, "tasks", columns)
    op.create_index("ix_instances_created", "instances", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_instances_created", table_name="instances")
    for name in NEW:
        op.drop_index(name, table_name="tasks")
    for name, columns in OLD.items():
        op.create_index(name, "tasks", columns)
    op.drop_column("tasks", "sort_due")
