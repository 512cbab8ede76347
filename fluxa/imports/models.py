"""The `imports` and `import_fills` tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from fluxa.infra.db import metadata

MONEY = Numeric(28, 10)

#: One uploaded file and what its import did.
imports = Table(
    "imports",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("account", Text, nullable=False, server_default=""),
    Column("timezone", Text),
    Column("object_key", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("status", Text, nullable=False, server_default="queued"),
    Column("reason", Text),
    Column("fills", Integer, nullable=False, server_default="0"),
    Column("trades_created", Integer, nullable=False, server_default="0"),
    Column("trades_updated", Integer, nullable=False, server_default="0"),
    Column("trades_deleted", Integer, nullable=False, server_default="0"),
    Column("duplicates_skipped", Integer, nullable=False, server_default="0"),
    Column("rejected_rows", Integer, nullable=False, server_default="0"),
    Column("rejected", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "status IN ('queued', 'running', 'done', 'failed')", name="imports_status_known"
    ),
    Index("imports_user_created_at_id", "user_id", "created_at", "id"),
    Index("imports_queued_updated_at", "updated_at", postgresql_where=text("status = 'queued'")),
)

#: Every fill a user imported, once per (user, account, execution id): what makes a
#: second import of the same fill a duplicate, also when two imports run at once.
import_fills = Table(
    "import_fills",
    metadata,
    Column("user_id", Text, nullable=False),
    Column("account", Text, nullable=False),
    Column("execution_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("executed_at", DateTime(timezone=True), nullable=False),
    Column("action", Text, nullable=False),
    Column("quantity", MONEY, nullable=False),
    Column("price", MONEY, nullable=False),
    Column("fees", MONEY, nullable=False),
    Column("multiplier", MONEY, nullable=False),
    Column("currency", Text, nullable=False),
    Column("import_id", Text, nullable=False),
    Column("line", Integer, nullable=False),
    #: Fills of one instant keep the order they were read in (files, then lines).
    Column("ordinal", BigInteger, Identity(always=True), nullable=False),
    PrimaryKeyConstraint("user_id", "account", "execution_id", name="import_fills_pkey"),
    CheckConstraint("action IN ('buy', 'sell')", name="import_fills_action_known"),
    Index("import_fills_book", "user_id", "account", "symbol", "executed_at", "ordinal"),
)
