"""events partitioned by day of arrival; the rows of before become events_history

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Online: the existing table is not rewritten. Writes go on while a CHECK constraint that
bounds its `accepted_at` is validated and a unique index on (event_id, accepted_at) is
built CONCURRENTLY; then one short transaction renames it `events_history`, creates the
partitioned `events` and attaches the old table as its first partition, whose bound the
validated constraint proves without a scan, and whose indexes the new table's adopt.
An empty table (a new installation) is simply replaced.
"""

import datetime as dt
import time

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from fluxa.events.partition_repository import make_partitions
from fluxa.events.partitions import HISTORY, day_start, days_ahead

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: The old table's rows, and those that arrive until this many days from now, form the
#: history partition: time enough for the constraint and index builds on a large table.
HISTORY_DAYS_AHEAD = 7
#: index name on the old table → its name once the table is `events_history`.
INDEXES = [
    "events_occurred_at_id",
    "events_type_occurred_at_id",
    "events_source_occurred_at_id",
    "events_correlation_id",
    "events_processed_at_brin",
]
SWAP_ATTEMPTS = 30


def upgrade() -> None:
    bind = op.get_bind()
    today = dt.datetime.now(dt.UTC).date()
    if _replaced_if_empty(bind, today):
        return
    cutoff = day_start(today + dt.timedelta(days=HISTORY_DAYS_AHEAD))
    with op.get_context().autocommit_block():
        _bound_and_index_online(bind, cutoff)
        _swap(bind, cutoff, today)


def _replaced_if_empty(bind: Connection, today: dt.date) -> bool:
    has_rows = text("SELECT EXISTS (SELECT FROM events)")
    if bind.execute(has_rows).scalar():
        return False  # no lock taken: a busy table is moved online
    bind.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
    if bind.execute(has_rows).scalar():
        return False
    op.drop_table("events")
    _create_partitioned()
    make_partitions(bind, days_ahead(today))
    return True


def _bound_and_index_online(bind: Connection, cutoff: dt.datetime) -> None:
    """Outside any transaction: neither step blocks inserts or reads."""
    bind.execute(text("ALTER TABLE events DROP CONSTRAINT IF EXISTS events_history_range"))
    bind.execute(
        text(
            "ALTER TABLE events ADD CONSTRAINT events_history_range"
            f" CHECK (accepted_at < '{cutoff.isoformat()}') NOT VALID"
        )
    )
    bind.execute(text("ALTER TABLE events VALIDATE CONSTRAINT events_history_range"))
    # An interrupted earlier run may have left the index invalid: build it anew.
    bind.execute(text("DROP INDEX CONCURRENTLY IF EXISTS events_history_pkey_candidate"))
    bind.execute(
        text(
            "CREATE UNIQUE INDEX CONCURRENTLY events_history_pkey_candidate"
            " ON events (event_id, accepted_at)"
        )
    )


def _swap(bind: Connection, cutoff: dt.datetime, today: dt.date) -> None:
    """The one transaction that locks `events`, briefly; retried while the lock waits on
    a long query rather than queueing every insert behind it."""
    for attempt in range(SWAP_ATTEMPTS):
        bind.execute(text("BEGIN"))
        try:
            bind.execute(text("SET LOCAL lock_timeout = '2s'"))
            bind.execute(text(f"ALTER TABLE events RENAME TO {HISTORY}"))
            bind.execute(text(f"ALTER TABLE {HISTORY} DROP CONSTRAINT events_pkey"))
            # The key the partitioned table's adopts (an index alone would be built anew).
            bind.execute(
                text(
                    f"ALTER TABLE {HISTORY} ADD CONSTRAINT {HISTORY}_pkey"
                    " PRIMARY KEY USING INDEX events_history_pkey_candidate"
                )
            )
            for index in INDEXES:
                renamed = index.replace("events_", f"{HISTORY}_", 1)
                bind.execute(text(f"ALTER INDEX {index} RENAME TO {renamed}"))
            _create_partitioned()
            bind.execute(
                text(
                    f"ALTER TABLE events ATTACH PARTITION {HISTORY}"
                    f" FOR VALUES FROM (MINVALUE) TO ('{cutoff.isoformat()}')"
                )
            )
            bind.execute(text(f"ALTER TABLE {HISTORY} DROP CONSTRAINT events_history_range"))
            make_partitions(bind, days_ahead(today))
            bind.execute(text("COMMIT"))
            return
        except OperationalError as exc:
            bind.execute(text("ROLLBACK"))
            if getattr(exc.orig, "sqlstate", None) != "55P03" or attempt + 1 == SWAP_ATTEMPTS:
                raise
            time.sleep(1)


def _create_partitioned() -> None:
    op.create_table(
        "events",
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("status", sa.Text, nullable=False, server_default="processed"),
        sa.Column("payload_sha256", sa.Text, nullable=False),
        sa.Column("payload_size", sa.Integer, nullable=False),
        sa.Column("archive_key", sa.Text, nullable=False),
        sa.Column("archive_offset", sa.BigInteger, nullable=False),
        sa.Column("correlation_id", sa.Text),
        sa.Column("enqueued_at", sa.DateTime(timezone=True)),
        sa.Column("task_id", sa.Text),
        sa.PrimaryKeyConstraint("event_id", "accepted_at", name="events_pkey"),
        sa.CheckConstraint("status IN ('processed')", name="events_status_known"),
        postgresql_partition_by="RANGE (accepted_at)",
    )
    op.create_index("events_occurred_at_id", "events", ["occurred_at", "event_id"])
    op.create_index("events_type_occurred_at_id", "events", ["type", "occurred_at", "event_id"])
    op.create_index("events_source_occurred_at_id", "events", ["source", "occurred_at", "event_id"])
    op.create_index("events_correlation_id", "events", ["correlation_id"])
    op.create_index("events_processed_at_brin", "events", ["processed_at"], postgresql_using="brin")


def downgrade() -> None:
    raise NotImplementedError(
        "events stays partitioned: going back would rewrite every row under lock"
        " (restore a backup taken before the upgrade instead)"
    )
