"""trades carry their account, contract multiplier and currency

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

Columns with constant defaults are added without rewriting the table; the multiplier's
check is validated without blocking writes, and the account index is built CONCURRENTLY.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(28, 10)


def upgrade() -> None:
    op.add_column("trades", sa.Column("account", sa.Text, nullable=False, server_default=""))
    op.add_column("trades", sa.Column("multiplier", MONEY, nullable=False, server_default="1"))
    op.add_column("trades", sa.Column("currency", sa.Text, nullable=False, server_default=""))
    op.execute(
        "ALTER TABLE trades ADD CONSTRAINT trades_multiplier_positive CHECK (multiplier > 0)"
        " NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE trades VALIDATE CONSTRAINT trades_multiplier_positive")
        op.create_index(
            "trades_user_account_entered_at_id",
            "trades",
            ["user_id", "account", "entered_at", "id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "trades_user_account_entered_at_id",
            table_name="trades",
            postgresql_concurrently=True,
            if_exists=True,
        )
    op.drop_constraint("trades_multiplier_positive", "trades")
    op.drop_column("trades", "currency")
    op.drop_column("trades", "multiplier")
    op.drop_column("trades", "account")
