"""Small keyword-only builders of events and task messages."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fluxa.events.archive import claim_key
from fluxa.events.hashing import canonical_of, payload_sha256


def event_body(
    *,
    source: str = "test-source",
    type: str = "trade.executed",
    payload: dict[str, Any] | None = None,
    event_id: str | None = None,
    occurred_at: str = "2026-11-01T12:00:00Z",
) -> dict[str, Any]:
    """A valid event as a client sends it (payload unique unless given)."""
    body: dict[str, Any] = {
        "type": type,
        "source": source,
        "occurred_at": occurred_at,
        "payload": payload if payload is not None else {"marker": uuid.uuid4().hex, "qty": 3},
    }
    if event_id:
        body["event_id"] = event_id
    return body


def event_message(
    *,
    event_id: str | None = None,
    source: str = "test-source",
    payload: dict[str, Any] | None = None,
    sha256: str | None = None,
    correlation_id: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """An event as it rides in a processing task message; `sha256` overrides the true hash."""
    payload = payload if payload is not None else {"marker": uuid.uuid4().hex}
    now = dt.datetime.now(dt.UTC).isoformat()
    message = {
        "event_id": event_id or f"evt-{uuid.uuid4().hex}",
        "type": "trade.executed",
        "source": source,
        "occurred_at": "2026-11-01T12:00:00+00:00",
        "accepted_at": now,
        "payload_sha256": sha256 or payload_sha256(payload),
        "payload": payload,
        "correlation_id": correlation_id,
    }
    message.update(overrides)
    return message


def unique_source() -> str:
    """A source name no other test uses, to scope queries to one test."""
    return f"src-{uuid.uuid4().hex[:12]}"


def pre_claims_row(payload: dict[str, Any]) -> dict[str, Any]:
    """An event row as the processor wrote it before claims were kept."""
    digest = payload_sha256(payload)
    now = dt.datetime.now(dt.UTC)
    return {
        "event_id": f"evt-{uuid.uuid4().hex}", "type": "trade.executed", "source": "upgrade",
        "occurred_at": now, "accepted_at": now, "status": "processed",
        "payload_sha256": digest, "payload_size": len(canonical_of(payload)),
        "archive_key": claim_key(digest), "archive_offset": 0, "correlation_id": None,
        "enqueued_at": now, "task_id": None,
    }  # fmt: skip
