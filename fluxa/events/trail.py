"""The event trail: every stage an event went through, for `fluxa trace`.

accepted → enqueued → (dead_lettered → replayed →) persisted. A persisted event's
`events` row says when it was accepted, enqueued and persisted, so the happy path
costs no trail rows; the `event_trail` table holds what departs from it: an event's
dead-lettering (written when the database lets us) and, for a replayed message, when
it was dead-lettered and replayed (written with the event itself).
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

from fluxa.events.models import events
from fluxa.infra.db import metadata

#: Where each stage falls in an event's life, to order stages recorded at one instant.
STAGE_ORDER = {"accepted": 0, "enqueued": 1, "dead_lettered": 2, "replayed": 3, "persisted": 4}

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
    Index("event_trail_correlation_id", "correlation_id"),
    Index("event_trail_stage_at", "stage", "at"),
    Index("event_trail_at", "at"),  # purged by age (fluxa.infra.purge)
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
                envelope.get("replayed_at") or dt.datetime.now(dt.UTC),
                delivery,
                replay_count=envelope.get("replay_count", 0),
            )
        )
    return rows


def replay_rows(persisted: Iterable[dict[str, Any]], delivery: Delivery) -> list[dict[str, Any]]:
    """For events persisted from a replayed message: when they were dead-lettered and
    replayed. Nothing otherwise: the `events` row tells the rest."""
    if not delivery.dead_letter:
        return []
    return [
        row
        for event in persisted
        for row in arrival_rows(event, delivery)
        if row["stage"] in ("dead_lettered", "replayed")
    ]


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
    recorded = select(event_trail).where(
        or_(event_trail.c.event_id == identifier, event_trail.c.correlation_id == identifier)
    )
    persisted = select(events).where(
        or_(events.c.event_id == identifier, events.c.correlation_id == identifier)
    )
    rows = [dict(row._mapping) for row in conn.execute(recorded)]
    rows += [stage for row in conn.execute(persisted) for stage in implied_rows(row._mapping)]
    unique = {(row["event_id"], row["stage"], row["at"]): row for row in rows}
    return sorted(
        unique.values(), key=lambda r: (r["event_id"], r["at"], STAGE_ORDER.get(r["stage"], 9))
    )


def implied_rows(event: Any) -> list[dict[str, Any]]:
    """The stages a persisted event's `events` row records."""
    stages = [("accepted", event["accepted_at"]), ("enqueued", event["enqueued_at"])]
    stages.append(("persisted", event["processed_at"]))
    return [
        {
            "id": None,
            "event_id": event["event_id"],
            "correlation_id": event["correlation_id"],
            "stage": stage,
            "at": at,
            "error_code": None,
            "task_id": event["task_id"],
            "detail": None,
        }
        for stage, at in stages
        if at is not None
    ]
