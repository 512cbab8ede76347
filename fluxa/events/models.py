"""The `events` table, partitioned by day of arrival (fluxa.events.partitions).

The primary key holds the partition key, as PostgreSQL requires: an id is unique within
its arrival time, and the processor keeps client-chosen ids unique across days
(fluxa.events.processor)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    Table,
    Text,
    func,
)

from fluxa.infra.db import metadata

events = Table(
    "events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("type", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status", Text, nullable=False, server_default="processed"),
    Column("payload_sha256", Text, nullable=False),
    Column("payload_size", Integer, nullable=False),
    Column("archive_key", Text, nullable=False),
    Column("archive_offset", BigInteger, nullable=False),
    Column("correlation_id", Text),
    # With accepted_at and processed_at, an event's happy path for `fluxa trace`; the
    # event_trail table records only what departs from it (dead letters, replays).
    Column("enqueued_at", DateTime(timezone=True)),
    Column("task_id", Text),
    CheckConstraint("status IN ('processed')", name="events_status_known"),
    Index("events_occurred_at_id", "occurred_at", "event_id"),
    Index("events_type_occurred_at_id", "type", "occurred_at", "event_id"),
    Index("events_source_occurred_at_id", "source", "occurred_at", "event_id"),
    Index("events_correlation_id", "correlation_id"),
    Index("events_processed_at_brin", "processed_at", postgresql_using="brin"),
    postgresql_partition_by="RANGE (accepted_at)",
)
