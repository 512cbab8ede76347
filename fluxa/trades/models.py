"""The `trades` table."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    Numeric,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from fluxa.infra.db import metadata

MONEY = Numeric(28, 10)

trades = Table(
    "trades",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("quantity", MONEY, nullable=False),
    Column("entry_price", MONEY, nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("fees", MONEY, nullable=False, server_default="0"),
    Column("account", Text, nullable=False, server_default=""),
    Column("multiplier", MONEY, nullable=False, server_default="1"),
    Column("currency", Text, nullable=False, server_default=""),
    Column("initial_risk", MONEY),
    Column("stop_price", MONEY),
    Column("exit_price", MONEY),
    Column("exited_at", DateTime(timezone=True)),
    Column("partial_closes", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("notes", Text, nullable=False, server_default=""),
    Column("images", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("status", Text, nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("side IN ('long', 'short')", name="trades_side_known"),
    CheckConstraint("status IN ('open', 'closed')", name="trades_status_known"),
    CheckConstraint("quantity > 0", name="trades_quantity_positive"),
    CheckConstraint("multiplier > 0", name="trades_multiplier_positive"),
    Index("trades_user_entered_at_id", "user_id", "entered_at", "id"),
    Index("trades_user_symbol_entered_at_id", "user_id", "symbol", "entered_at", "id"),
    Index("trades_images", "images", postgresql_using="gin"),
    Index("trades_user_account_entered_at_id", "user_id", "account", "entered_at", "id"),
)
