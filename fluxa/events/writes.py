"""What one message's events write, computed before any I/O: the archive objects of their
payloads (inline ones share one; a claim-checked one is kept under `archive/`) and the rows
that name them. Pure: the processor does the writing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fluxa.events.archive import Archive, build_archive, kept_claim_key
from fluxa.events.checks import CheckedEvent
from fluxa.events.trail import Delivery


@dataclass(frozen=True)
class ObjectsToWrite:
    """The S3 writes one message's fresh events need, and where each payload will be.

    Inline payloads share one archive object. A claim-checked payload is copied from
    `claims/` (in transit, expired by a lifecycle rule) to `archive/` (kept with the
    rows): a row never names an object that a lifecycle rule may expire while it is kept.
    """

    archive: Archive | None
    kept_claims: list[tuple[str, str]]  # (claim key, kept key)
    positions: dict[str, tuple[str, int]]  # event id → (key, offset)

    def __bool__(self) -> bool:
        return self.archive is not None or bool(self.kept_claims)


def objects_to_write(events: list[CheckedEvent]) -> ObjectsToWrite:
    """The archive of `events`' inline payloads, and a kept copy of each claimed one."""
    inline = [e for e in events if e.message["payload_ref"] is None]
    positions: dict[str, tuple[str, int]] = {}
    archive = None
    if inline:
        day = min(e.message["accepted_at"] for e in inline).astimezone(dt.UTC).date()
        archive = build_archive([(e.event_id, e.canonical or b"") for e in inline], day)
        positions = {entry.event_id: (archive.key, entry.offset) for entry in archive.entries}
    kept_claims = []
    for event in events:
        ref = event.message["payload_ref"]
        if ref is not None:
            day = event.message["accepted_at"].astimezone(dt.UTC).date()
            kept = kept_claim_key(event.message["payload_sha256"].lower(), day)
            kept_claims.append((ref["key"], kept))
            positions[event.event_id] = (kept, 0)
    return ObjectsToWrite(archive, kept_claims, positions)


def event_row(
    event: CheckedEvent, delivery: Delivery, archive_key: str, offset: int
) -> dict[str, Any]:
    message = event.message
    return {
        "event_id": message["event_id"],
        "type": message["type"],
        "source": message["source"],
        "occurred_at": message["occurred_at"],
        "accepted_at": message["accepted_at"],
        "status": "processed",
        "payload_sha256": message["payload_sha256"].lower(),
        "payload_size": len(event.canonical or b""),
        "archive_key": archive_key,
        "archive_offset": offset,
        "correlation_id": message["correlation_id"],
        "enqueued_at": delivery.enqueued_at,
        "task_id": delivery.task_id,
    }
