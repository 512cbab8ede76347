"""The `trade_stats` and `stats_outbox` tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

from fluxa.infra.db import metadata

#: One row per user: the stats and the outbox version (watermark) they were computed at.
trade_stats = Table(
    "trade_stats",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("watermark", BigInteger, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Column("stats", JSONB, nullable=False),
)

#: The transactional outbox, coalesced per user: every trade write bumps `dirty_version`
#: in its own transaction; `queued_at` is set while a rebuild message is on its way.
stats_outbox = Table(
    "stats_outbox",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("dirty_version", BigInteger, nullable=False, server_default="0"),
    Column("queued_at", DateTime(timezone=True)),
    Column("published_at", DateTime(timezone=True)),  # the last claim, for the throttle
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("stats_outbox_queued_at", "queued_at"),
)
