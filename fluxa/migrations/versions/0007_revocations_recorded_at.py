"""token_revocations.recorded_at: API processes read new sign-outs incrementally

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "token_revocations",
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("clock_timestamp()"),
        ),
    )
    op.create_index("token_revocations_recorded_at", "token_revocations", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("token_revocations_recorded_at", table_name="token_revocations")
    op.drop_column("token_revocations", "recorded_at")
