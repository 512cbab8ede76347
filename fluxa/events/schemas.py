"""Marshmallow schemas for events, shared by the API (requests) and the processor (messages)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from fluxa.events.hashing import CanonicalPayload, NotCanonicalizableError
from fluxa.validation import PAYLOAD_LIMITS, JsonLimitExceededError, check_structure
from fluxa.validation.compiled import CompiledLoad
from fluxa.validation.fields import FullMatch, Moment, Text

MAX_BATCH_EVENTS = 500
# `batch` is reserved: /v1/events/batch is the batch endpoint, never an event.
EVENT_ID_PATTERN = r"^(?!batch$)[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"


class PayloadField(fields.Dict):
    """A JSON object within `PAYLOAD_LIMITS` that has a canonical encoding."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        try:  # before anything recursive (the Dict field's copy, the encoder) sees it
            check_structure(value, PAYLOAD_LIMITS)
        except JsonLimitExceededError as exc:
            where = f" (at {exc.field})" if exc.field else ""
            raise ValidationError(f"Payload {exc.message}{where}.") from exc
        result = super()._deserialize(value, attr, data, **kwargs)
        try:
            return CanonicalPayload(result)  # the encoding is kept for hashing
        except NotCanonicalizableError as exc:
            raise ValidationError(f"Payload has no canonical JSON form: {exc}.") from exc


class EventSchema(CompiledLoad, Schema):
    """One event as a client sends it."""

    event_id = fields.String(
        validate=FullMatch(EVENT_ID_PATTERN, error="Must be 1-128 characters [A-Za-z0-9._:-]."),
        metadata={
            "description": "Client-chosen id; generated (a time-ordered UUIDv7) when absent."
        },
    )
    type = fields.String(
        required=True,
        validate=FullMatch(NAME_PATTERN, error="Must be 1-128 characters [A-Za-z0-9._:/-]."),
    )
    source = fields.String(
        required=True,
        validate=FullMatch(NAME_PATTERN, error="Must be 1-128 characters [A-Za-z0-9._:/-]."),
    )
    occurred_at = Moment(required=True)
    payload = PayloadField(
        required=True,
        metadata={
            "description": (
                f"Any JSON object, nested at most {PAYLOAD_LIMITS.max_depth} levels (itself"
                f" included), at most {PAYLOAD_LIMITS.max_items} keys or items per object or"
                f" array, strings up to {PAYLOAD_LIMITS.max_string_chars} characters,"
                f" integers up to {PAYLOAD_LIMITS.max_number_digits} digits."
            )
        },
    )
    payload_sha256 = fields.String(
        validate=FullMatch(SHA256_PATTERN, error="Must be a hex SHA-256 digest."),
        metadata={"description": "Optional: the SHA-256 of the canonical payload, checked."},
    )


class BatchSchema(Schema):
    """A batch request. Items are validated one by one, so one bad item rejects only itself."""

    events = fields.List(
        fields.Raw(metadata={"type": "object"}),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH_EVENTS),
        metadata={"description": f"1 to {MAX_BATCH_EVENTS} events (each an Event)."},
    )


class PayloadRefSchema(Schema):
    """Where a claim-checked payload lives in the payload bucket."""

    key = Text(required=True, validate=validate.Length(min=1, max=1024))
    size = fields.Integer(required=True, validate=validate.Range(min=0))


class EventMessageSchema(CompiledLoad, Schema):
    """One event inside a processing task message (what the processor re-validates)."""

    event_id = fields.String(required=True, validate=FullMatch(EVENT_ID_PATTERN))
    type = fields.String(required=True, validate=FullMatch(NAME_PATTERN))
    source = fields.String(required=True, validate=FullMatch(NAME_PATTERN))
    occurred_at = Moment(required=True)
    accepted_at = Moment(required=True)
    payload_sha256 = fields.String(required=True, validate=FullMatch(SHA256_PATTERN))
    payload = PayloadField(allow_none=True, load_default=None)
    payload_ref = fields.Nested(PayloadRefSchema, allow_none=True, load_default=None)
    correlation_id = Text(allow_none=True, load_default=None, validate=validate.Length(max=200))
    # Absent from messages enqueued before the field was: taken as the client's, the safe side.
    id_from_client = fields.Boolean(load_default=True)

    @validates_schema
    def _exactly_one_payload(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("payload") is None) == (data.get("payload_ref") is None):
            raise ValidationError("Exactly one of payload and payload_ref is required.", "payload")
