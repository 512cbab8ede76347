"""event_trail.at and work_trail.at indexed: the trails are purged by age

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: Built without locking out writes (CONCURRENTLY, outside a transaction): the trails
#: take a row per stage of every trade write and every dead-lettered event.
INDEXES = {"event_trail_at": "event_trail", "work_trail_at": "work_trail"}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table in INDEXES.items():
            op.create_index(name, table, ["at"], postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table in INDEXES.items():
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
