"""trades, trade_stats, stats_outbox, leases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "stats_outbox",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("dirty_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index("stats_outbox_queued_at", "stats_outbox", ["queued_at"], unique=False)
    op.create_table(
        "trade_stats",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("watermark", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stats", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "trades",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=28, scale=10), nullable=False),
        sa.Column("entry_price", sa.Numeric(precision=28, scale=10), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fees", sa.Numeric(precision=28, scale=10), server_default="0", nullable=False),
        sa.Column("exit_price", sa.Numeric(precision=28, scale=10), nullable=True),
        sa.Column("exited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "partial_closes",
            postgresql.JSONB(astext_type=Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "tags", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "images", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("side IN ('long', 'short')", name="trades_side_known"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="trades_status_known"),
        sa.CheckConstraint("quantity > 0", name="trades_quantity_positive"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("trades_images", "trades", ["images"], unique=False, postgresql_using="gin")
    op.create_index(
        "trades_user_entered_at_id", "trades", ["user_id", "entered_at", "id"], unique=False
    )
    op.create_index(
        "trades_user_symbol_entered_at_id",
        "trades",
        ["user_id", "symbol", "entered_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    for table in ("trades", "trade_stats", "stats_outbox", "leases"):
        op.drop_table(table)
