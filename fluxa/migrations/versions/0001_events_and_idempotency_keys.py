"""events and idempotency_keys

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("event_id", sa.Text, primary_key=True),
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
        sa.CheckConstraint("status IN ('processed')", name="events_status_known"),
    )
    op.create_index("events_occurred_at_id", "events", ["occurred_at", "event_id"])
    op.create_index("events_type_occurred_at_id", "events", ["type", "occurred_at", "event_id"])
    op.create_index("events_source_occurred_at_id", "events", ["source", "occurred_at", "event_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_status", sa.Integer),
        sa.Column("response_body", JSONB),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("scope", "key", name="idempotency_keys_pkey"),
    )
    op.create_index("idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("events")
