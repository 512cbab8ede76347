"""Accepting events: hash, assign ids, claim-check large payloads, and enqueue in few messages.

The API calls `EventIngestor.ingest` with already-validated events. Nothing here
touches the database: ingest needs only S3 (for claim checks) and the broker.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from fluxa.errors import (
    BrokerUnavailableError,
    FluxaError,
    HashMismatchError,
    PartlyEnqueuedError,
)
from fluxa.events.archive import claim_key
from fluxa.events.hashing import canonical_of, legacy_payload_sha256, sha256_hex
from fluxa.events.ids import new_event_id
from fluxa.infra.storage import S3ObjectStore
from fluxa.messages.tasks import CORRELATION_HEADER, ENQUEUED_AT_HEADER, TaskName, TaskPublisher

T = TypeVar("T")

# Room left in each SQS message for the Celery/kombu envelope and headers.
MESSAGE_OVERHEAD_BYTES = 8 * 1024


@dataclass(frozen=True)
class IngestLimits:
    """Size limits that decide claim checks and message splitting."""

    claim_check_bytes: int
    max_message_bytes: int

    @property
    def message_budget(self) -> int:
        """Bytes of events one task message may carry."""
        return self.max_message_bytes - MESSAGE_OVERHEAD_BYTES


@dataclass(frozen=True)
class PreparedEvent:
    """An accepted event in the form it rides in a task message, plus its canonical payload."""

    message: dict[str, Any]
    canonical_payload: bytes
    #: The client declared the payload's pre-RFC 8785 hash (accepted while in transition).
    declared_legacy_hash: bool = False

    @property
    def event_id(self) -> str:
        return self.message["event_id"]

    @property
    def payload_sha256(self) -> str:
        return self.message["payload_sha256"]

    @cached_property
    def size(self) -> int:
        """Bytes this event adds to a task message (computed once)."""
        return message_size(self.message)


def prepare_event(
    event: dict[str, Any],
    *,
    declared_sha256: str | None,
    correlation_id: str,
    accepted_at: dt.datetime,
    accept_legacy_hash: bool = True,
) -> PreparedEvent:
    """Hash `event`'s payload (RFC 8785), check a declared hash, and give it an id.

    A declared hash of the pre-RFC 8785 form is accepted when `accept_legacy_hash`; the
    event is still hashed and kept in the RFC 8785 form. Raises `HashMismatchError`
    (field `payload_sha256`) when a declared hash matches neither.
    """
    canonical = canonical_of(event["payload"])
    digest = sha256_hex(canonical)
    legacy = False
    for declared in (declared_sha256, event.get("payload_sha256")):
        if declared is None or declared.lower() == digest:
            continue
        is_legacy = declared.lower() == legacy_payload_sha256(event["payload"])
        if is_legacy and accept_legacy_hash:
            legacy = True
            continue
        raise HashMismatchError(
            "payload does not match its declared SHA-256",
            details={"payload_sha256": [_mismatch(digest, is_legacy)]},
        )
    message = {
        "event_id": event.get("event_id") or new_event_id(),
        "id_from_client": bool(event.get("event_id")),
        "type": event["type"],
        "source": event["source"],
        "occurred_at": event["occurred_at"].isoformat(),
        "accepted_at": accepted_at.isoformat(),
        "payload_sha256": digest,
        "payload": event["payload"],
        "correlation_id": correlation_id,
    }
    return PreparedEvent(message=message, canonical_payload=canonical, declared_legacy_hash=legacy)


def _mismatch(digest: str, is_legacy: bool) -> str:
    expected = f"Expected {digest}, the SHA-256 of the payload's RFC 8785 (JCS) form."
    if is_legacy:
        return expected + " The declared one is of the form used before RFC 8785 (docs/events.md)."
    return expected


def message_size(event_message: dict[str, Any]) -> int:
    """Bytes `event_message` adds to a task message, exactly.

    Celery writes the task's arguments as ASCII JSON (non-ASCII as \\u escapes), and kombu
    puts that text as a JSON string into its envelope, where each `"` and `\\` gains a
    backslash; the event also brings its `, ` separator. An emoji is thus 14 bytes.
    """
    text = json.dumps(event_message)
    return len(text) + text.count('"') + text.count("\\") + 2


def needs_claim_check(event: PreparedEvent, limits: IngestLimits) -> bool:
    """Whether the payload must go to S3 first and travel as a reference."""
    return (
        len(event.canonical_payload) > limits.claim_check_bytes
        or event.size > limits.message_budget
    )


def as_claim_checked(event: PreparedEvent) -> PreparedEvent:
    """`event` with its payload replaced by a reference to the claim object."""
    message = dict(event.message, payload=None)
    message["payload_ref"] = {
        "key": claim_key(event.payload_sha256),
        "size": len(event.canonical_payload),
    }
    return PreparedEvent(message=message, canonical_payload=event.canonical_payload)


def split_messages(
    events: Sequence[T], budget: int, size: Callable[[T], int] = message_size
) -> list[list[T]]:
    """Group events, in order, into as few task messages as fit `budget` bytes each
    (`size`: the bytes an event adds; by default that of an event message dict)."""
    groups: list[list[T]] = []
    current: list[T] = []
    used = 0
    for event in events:
        size_of_event = size(event)
        if current and used + size_of_event > budget:
            groups.append(current)
            current, used = [], 0
        current.append(event)
        used += size_of_event
    if current:
        groups.append(current)
    return groups


class EventIngestor:
    """Claim-checks large payloads and publishes events to the input queue."""

    def __init__(
        self,
        publisher: TaskPublisher,
        store: S3ObjectStore,
        *,
        queue: str,
        limits: IngestLimits,
    ) -> None:
        self._publisher = publisher
        self._store = store
        self._queue = queue
        self.limits = limits

    def enqueue(self, events: Iterable[PreparedEvent], correlation_id: str) -> int:
        """Publish `events`; return the number of task messages sent.

        Raises `StorageUnavailable` or `BrokerUnavailable` when nothing was sent: every
        event of this call is then not accepted. When a send fails after others went,
        raises `PartlyEnqueuedError` naming the events that were sent.
        """
        ready = []
        for event in events:
            if needs_claim_check(event, self.limits):
                event = as_claim_checked(event)
                self._store.put(event.message["payload_ref"]["key"], event.canonical_payload)
            ready.append(event)
        groups = split_messages(ready, self.limits.message_budget, size=lambda e: e.size)
        sent: set[str] = set()
        for group in groups:
            try:
                self._send(group, correlation_id)
            except Exception as exc:
                if not sent:
                    raise
                cause = exc if isinstance(exc, FluxaError) else BrokerUnavailableError(repr(exc))
                raise PartlyEnqueuedError(sent, cause) from exc
            sent.update(event.event_id for event in group)
        return len(groups)

    def _send(self, group: list[PreparedEvent], correlation_id: str) -> None:
        self._publisher.publish(
            TaskName.PROCESS_EVENTS,
            {"events": [event.message for event in group]},
            queue=self._queue,
            headers={
                CORRELATION_HEADER: correlation_id,
                ENQUEUED_AT_HEADER: dt.datetime.now(dt.UTC).isoformat(),
            },
        )
