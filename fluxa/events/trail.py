"""The event trail: every stage an event went through, recorded by Fluxa, for `fluxa trace`.

accepted → enqueued → (dead_lettered → replayed →) persisted. Rows of a persisted
event are written in the same transaction as the event itself; a dead letter's rows
are written when the database lets us (and rebuilt from the envelope on replay).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Table,
    Text,
    UniqueConstraint,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, insert

from fluxa.db import metadata

event_trail = Table(
    "event_trail",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", Text, nullable=False),
    Column("correlation_id", Text),
    Column("stage", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("error_code", Text),
    Column("task_id", Text),
    Column("detail", JSONB),
    UniqueConstraint("event_id", "stage", "at", name="event_trail_once"),
    Index("event_trail_event_id", "event_id"),
    Index("event_trail_correlation_id", "correlation_id"),
    Index("event_trail_stage_at", "stage", "at"),
)


@dataclass(frozen=True)
class Delivery:
    """What the task message says about how this delivery came to be."""

    task_id: str | None
    correlation_id: str | None
    enqueued_at: dt.datetime | None
    dead_letter: dict[str, Any] | None  # the envelope, on a replayed message


def _row(event: dict[str, Any], stage: str, at: Any, delivery: Delivery, **extra: Any):
    return {
        "event_id": event["event_id"],
        "correlation_id": event.get("correlation_id") or delivery.correlation_id,
        "stage": stage,
        "at": at,
        "task_id": delivery.task_id,
        "error_code": extra.pop("error_code", None),
        "detail": extra or None,
    }


def arrival_rows(event: dict[str, Any], delivery: Delivery) -> list[dict[str, Any]]:
    """accepted, enqueued, and — for a replayed message — dead_lettered and replayed."""
    rows = [_row(event, "accepted", event["accepted_at"], delivery)]
    if delivery.enqueued_at:
        rows.append(_row(event, "enqueued", delivery.enqueued_at, delivery))
    envelope = delivery.dead_letter
    if envelope and envelope.get("last_failed_at"):
        rows.append(
            _row(
                event,
                "dead_lettered",
                envelope["last_failed_at"],
                delivery,
                error_code=envelope.get("error_code"),
                attempts=envelope.get("attempts"),
            )
        )
        rows.append(
            _row(
                event,
                "replayed",
                dt.datetime.now(dt.UTC),
                delivery,
                replay_count=envelope.get("replay_count", 0),
            )
        )
    return rows


def persisted_rows(events: Iterable[dict[str, Any]], delivery: Delivery) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        rows += arrival_rows(event, delivery)
        rows.append(_row(event, "persisted", dt.datetime.now(dt.UTC), delivery))
    return rows


def dead_letter_rows(event: dict[str, Any], delivery: Delivery, code: str) -> list[dict[str, Any]]:
    rows = [r for r in arrival_rows(event, delivery) if r["stage"] != "replayed"]
    rows.append(_row(event, "dead_lettered", dt.datetime.now(dt.UTC), delivery, error_code=code))
    return rows


def record(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store trail rows; a stage already recorded at the same moment is kept once."""
    if rows:
        conn.execute(insert(event_trail).on_conflict_do_nothing(), rows)


def read(conn: Connection, identifier: str) -> list[dict[str, Any]]:
    """Every stage of an event id, or of every event of a correlation id, in time order."""
    query = (
        select(event_trail)
        .where(
            or_(event_trail.c.event_id == identifier, event_trail.c.correlation_id == identifier)
        )
        .order_by(event_trail.c.event_id, event_trail.c.at, event_trail.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]
