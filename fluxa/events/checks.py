"""What a worker verifies of a message's events before it writes anything: each event's
schema again (poison input is refused here too, not only by the API) and each inline
payload's hash (fluxa.events.hashing). Pure: the unit tests call it directly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from fluxa.errors import FluxaError, HashMismatchError, SchemaValidationError
from fluxa.events.hashing import canonical_matching, sha256_hex
from fluxa.events.ids import EventKey
from fluxa.events.schemas import EventMessageSchema

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

    @property
    def key(self) -> EventKey:
        message = self.message
        return EventKey(message["event_id"], message["accepted_at"], message["id_from_client"])


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
