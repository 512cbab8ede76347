"""trades carry their initial risk or stop price (R-multiples)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(28, 10)


def upgrade() -> None:
    op.add_column("trades", sa.Column("initial_risk", MONEY, nullable=True))
    op.add_column("trades", sa.Column("stop_price", MONEY, nullable=True))


def downgrade() -> None:
    op.drop_column("trades", "stop_price")
    op.drop_column("trades", "initial_risk")
