"""work_trail: the stages of a trade write's correlation id; stats_outbox.published_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_trail",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("correlation_id", sa.Text(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("clock_timestamp()"),
        ),
        sa.Column("detail", postgresql.JSONB(), nullable=True),
    )
    op.create_index("work_trail_correlation_id", "work_trail", ["correlation_id"])
    op.create_index("work_trail_subject_stage_at", "work_trail", ["subject", "stage", "at"])
    op.add_column(
        "stats_outbox", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("stats_outbox", "published_at")
    op.drop_table("work_trail")
