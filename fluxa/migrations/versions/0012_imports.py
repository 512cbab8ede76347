"""imports and the fills they stored (broker imports)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(28, 10)
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False, server_default=""),
        sa.Column("timezone", sa.Text),
        sa.Column("object_key", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="queued"),
        sa.Column("reason", sa.Text),
        *(sa.Column(name, sa.Integer, nullable=False, server_default="0")
          for name in ("fills", "trades_created", "trades_updated", "trades_deleted",
                       "duplicates_skipped", "rejected_rows")),
        sa.Column("rejected", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="imports_status_known"
        ),
    )  # fmt: skip
    op.create_index("imports_user_created_at_id", "imports", ["user_id", "created_at", "id"])
    op.create_index(
        "imports_queued_updated_at", "imports", ["updated_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )  # fmt: skip
    op.create_table(
        "import_fills",
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("execution_id", sa.Text, nullable=False),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("fees", MONEY, nullable=False),
        sa.Column("multiplier", MONEY, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("import_id", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("ordinal", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "account", "execution_id", name="import_fills_pkey"),
        sa.CheckConstraint("action IN ('buy', 'sell')", name="import_fills_action_known"),
    )
    op.create_index(
        "import_fills_book", "import_fills",
        ["user_id", "account", "symbol", "executed_at", "ordinal"],
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("import_fills")
    op.drop_table("imports")
