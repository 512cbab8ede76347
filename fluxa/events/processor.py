"""Processing a task message of events: verify, archive to S3, persist once.

Effects are idempotent: archives are content-addressed, rows are inserted with
`ON CONFLICT DO NOTHING`, and events already persisted are neither archived nor
inserted again, so a redelivered, retried or replayed message changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from fluxa.errors import (
    DBConnectionError,
    FluxaError,
    HashMismatchError,
    NotFoundError,
    PayloadMissingError,
    SchemaValidationError,
)
from fluxa.events import repository, trail
from fluxa.events.archive import Archive, build_archive, kept_claim_key
from fluxa.events.hashing import canonical_matching, sha256_hex
from fluxa.events.schemas import EventMessageSchema
from fluxa.events.trail import Delivery
from fluxa.infra.db import transaction, translated_errors
from fluxa.infra.storage import S3ObjectStore

_message_schema = EventMessageSchema()


@dataclass(frozen=True)
class RejectedEvent:
    """An event that can never be processed as sent, with the reason."""

    raw: Any
    error: FluxaError

    @property
    def event_id(self) -> str | None:
        return self.raw.get("event_id") if isinstance(self.raw, dict) else None


@dataclass(frozen=True)
class CheckedEvent:
    """A schema-valid event message; `canonical` is None until a claim-checked payload is read."""

    message: dict[str, Any]
    canonical: bytes | None

    @property
    def event_id(self) -> str:
        return self.message["event_id"]


@dataclass
class ProcessResult:
    """What one message's processing did."""

    inserted: list[CheckedEvent] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    rejected: list[RejectedEvent] = field(default_factory=list)


def check_event(raw: Any) -> CheckedEvent:
    """Re-validate one event message and verify an inline payload's hash.

    Raises `SchemaValidationError` or `HashMismatchError`.
    """
    if not isinstance(raw, dict):
        raise SchemaValidationError(
            "event is not an object", details={"_schema": ["Not an object."]}
        )
    try:
        message = _message_schema.load(raw)
    except ValidationError as exc:
        raise SchemaValidationError("event fails its schema", details=exc.messages_dict) from exc
    canonical = None
    if message["payload"] is not None:
        # RFC 8785, or the form of a message enqueued before it (fluxa.events.hashing).
        canonical = canonical_matching(message["payload"], message["payload_sha256"])
        if canonical is None:
            raise HashMismatchError(
                f"payload does not hash to the declared {message['payload_sha256']}",
                details={"payload_sha256": ["Does not match the payload."]},
            )
    return CheckedEvent(message=message, canonical=canonical)


def verify_hash(canonical: bytes, expected: str) -> None:
    """Raise `HashMismatchError` unless `canonical` hashes to `expected`."""
    actual = sha256_hex(canonical)
    if actual != expected.lower():
        raise HashMismatchError(
            f"payload hash {actual} does not match declared {expected}",
            details={"payload_sha256": ["Does not match the payload."]},
        )


def partition(raw_events: Sequence[Any]) -> tuple[list[CheckedEvent], list[RejectedEvent]]:
    """Split a message's events into checked ones (first of each id) and rejected ones."""
    checked: dict[str, CheckedEvent] = {}
    rejected: list[RejectedEvent] = []
    for raw in raw_events:
        try:
            event = check_event(raw)
        except (SchemaValidationError, HashMismatchError) as exc:
            rejected.append(RejectedEvent(raw, exc))
            continue
        checked.setdefault(event.event_id, event)
    return list(checked.values()), rejected


class EventProcessor:
    """Persists events: one archive object and one database transaction per message."""

    def __init__(self, engine: Engine, store: S3ObjectStore) -> None:
        self._engine = engine
        self._store = store
        # The archive's PUT runs beside the insert (`_store_and_insert`); one at a time.
        self._uploads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-put")

    def process(self, raw_events: Sequence[Any], delivery: Delivery) -> ProcessResult:
        """Process a message's events.

        Invalid events are returned as rejected; the rest are persisted. Raises
        `DBConnectionError` or `StorageUnavailable` for the caller to retry the
        whole message, which is safe.
        """
        checked, rejected = partition(raw_events)
        with translated_errors(), self._engine.connect() as conn:
            present = repository.existing_ids(conn, (e.event_id for e in checked))
        result = ProcessResult(already_present=sorted(present), rejected=rejected)
        fresh = [e for e in checked if e.event_id not in present]
        fresh = self._load_claimed_payloads(fresh, result.rejected)
        if not fresh:
            return result
        objects = _objects_to_write(fresh)
        rows = [_row(event, delivery, *objects.positions[event.event_id]) for event in fresh]
        inserted_ids = self._store_and_insert(objects, fresh, rows, delivery)
        result.inserted = [e for e in fresh if e.event_id in inserted_ids]
        result.already_present += sorted(
            e.event_id for e in fresh if e.event_id not in inserted_ids
        )
        return result

    def _store_and_insert(
        self,
        objects: ObjectsToWrite,
        fresh: list[CheckedEvent],
        rows: list[dict[str, Any]],
        delivery: Delivery,
    ) -> set[str]:
        """Insert the rows while their objects are stored; the ids inserted.

        Keys come from content, so the rows can name objects before they are written:
        the writes run beside the insert, and the transaction commits only once they
        succeeded. No committed row lacks its object; a failed write rolls the insert
        back and the message is retried. A replay's trail rows share the transaction.
        """
        upload = self._uploads.submit(self._write, objects) if objects else None
        try:
            with transaction(self._engine) as conn:
                inserted_ids = repository.insert_events(conn, rows)
                persisted = [e.message for e in fresh if e.event_id in inserted_ids]
                trail.record(conn, trail.replay_rows(persisted, delivery))
                if upload is not None:
                    upload.result()  # raises what a write raised: the insert rolls back
        finally:
            if upload is not None:
                wait([upload])  # no write outlives its attempt
        return inserted_ids

    def _write(self, objects: ObjectsToWrite) -> None:
        """The writes of `objects` (on the upload thread)."""
        if objects.archive is not None:
            archive = objects.archive
            self._store.put(archive.key, archive.body, content_type="application/x-ndjson")
        for claim, kept in objects.kept_claims:
            self._store.copy(claim, kept)

    def record_dead_letters(self, rejected: Sequence[RejectedEvent], delivery: Delivery) -> None:
        """Best effort: the trail of events that went to the DLQ (skipped if the DB is down)."""
        rows = [
            row
            for r in rejected
            if isinstance(r.raw, dict) and "event_id" in r.raw and "accepted_at" in r.raw
            for row in trail.dead_letter_rows(r.raw, delivery, r.error.code.value)
        ]
        if not rows:
            return
        try:
            with transaction(self._engine) as conn:
                trail.record(conn, rows)
        except (DBConnectionError, DBAPIError):
            pass

    def _load_claimed_payloads(
        self, events: list[CheckedEvent], rejected: list[RejectedEvent]
    ) -> list[CheckedEvent]:
        loaded = []
        for event in events:
            if event.canonical is not None:
                loaded.append(event)
                continue
            ref = event.message["payload_ref"]
            try:
                canonical = self._store.get(ref["key"])
                verify_hash(canonical, event.message["payload_sha256"])
            except HashMismatchError as exc:
                rejected.append(RejectedEvent(event.message, exc))
                continue
            except NotFoundError as exc:
                lost = PayloadMissingError(f"claim-checked payload lost: {exc}")
                rejected.append(RejectedEvent(event.message, lost))
                continue
            loaded.append(CheckedEvent(event.message, canonical))
        return loaded


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


def _objects_to_write(events: list[CheckedEvent]) -> ObjectsToWrite:
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


def _row(event: CheckedEvent, delivery: Delivery, archive_key: str, offset: int) -> dict[str, Any]:
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
