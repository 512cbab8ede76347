"""Processing a task message of events: verify, archive to S3, persist once.

What is checked lives in `fluxa.events.checks`, what is written in `fluxa.events.writes`;
this module does the I/O. Effects are idempotent: archives are content-addressed, rows
are inserted with `ON CONFLICT DO NOTHING`, and events already persisted are neither
archived nor inserted again, so a redelivered, retried or replayed message changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from fluxa.errors import (
    DBConnectionError,
    HashMismatchError,
    NotFoundError,
    PayloadMissingError,
)
from fluxa.events import repository, trail
from fluxa.events.checks import CheckedEvent, RejectedEvent, partition, verify_hash
from fluxa.events.partition_repository import make_partitions_now, partition_missing
from fluxa.events.partitions import days_of
from fluxa.events.trail import Delivery
from fluxa.events.writes import ObjectsToWrite, event_row, objects_to_write
from fluxa.infra.db import transaction, translated_errors
from fluxa.infra.storage import S3ObjectStore


@dataclass
class ProcessResult:
    """What one message's processing did."""

    inserted: list[CheckedEvent] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    rejected: list[RejectedEvent] = field(default_factory=list)


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
            present = repository.existing_ids(conn, (e.key for e in checked))
        result = ProcessResult(already_present=sorted(present), rejected=rejected)
        fresh = [e for e in checked if e.event_id not in present]
        fresh = self._load_claimed_payloads(fresh, result.rejected)
        if not fresh:
            return result
        objects = objects_to_write(fresh)
        rows = [event_row(event, delivery, *objects.positions[event.event_id]) for event in fresh]
        try:
            inserted_ids = self._store_and_insert(objects, fresh, rows, delivery)
        except IntegrityError as exc:
            if not partition_missing(exc):
                raise
            # Beat makes partitions a week ahead; a message that arrives where none is
            # (beat down that long, a replay of a day that retention since dropped) makes
            # its own rather than fail.
            with translated_errors():
                make_partitions_now(self._engine, days_of(e.key.accepted_at for e in fresh))
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
                rows = self._unclaimed(conn, fresh, rows)
                inserted_ids = repository.insert_events(conn, rows)
                persisted = [e.message for e in fresh if e.event_id in inserted_ids]
                trail.record(conn, trail.replay_rows(persisted, delivery))
                if upload is not None:
                    upload.result()  # raises what a write raised: the insert rolls back
        finally:
            if upload is not None:
                wait([upload])  # no write outlives its attempt
        return inserted_ids

    @staticmethod
    def _unclaimed(
        conn: Connection, fresh: list[CheckedEvent], rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """`rows` less those whose client-chosen id another message stored meanwhile.

        The key (id, arrival) keeps a redelivered message from storing its rows twice;
        one id sent twice arrives twice, and only this check under `lock_ids` sees it.
        """
        chosen = [event.key for event in fresh if event.key.from_client]
        if not chosen:
            return rows
        repository.lock_ids(conn, (key.event_id for key in chosen))
        taken = repository.existing_ids(conn, chosen)
        return [row for row in rows if row["event_id"] not in taken]

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
