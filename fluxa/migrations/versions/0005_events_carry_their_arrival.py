"""events carry their arrival (enqueued_at, task_id); the trail keeps only the exceptions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("events", sa.Column("task_id", sa.Text(), nullable=True))
    op.create_index("events_correlation_id", "events", ["correlation_id"])
    op.create_index("events_processed_at_brin", "events", ["processed_at"], postgresql_using="brin")
    # The unique constraint (event_id, stage, at) already serves lookups by event_id.
    op.drop_index("event_trail_event_id", table_name="event_trail")


def downgrade() -> None:
    op.create_index("event_trail_event_id", "event_trail", ["event_id"])
    op.drop_index("events_processed_at_brin", table_name="events")
    op.drop_index("events_correlation_id", table_name="events")
    op.drop_column("events", "task_id")
    op.drop_column("events", "enqueued_at")
