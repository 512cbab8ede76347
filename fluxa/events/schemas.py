"""Marshmallow schemas for events, shared by the API (requests) and the processor (messages)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from fluxa.events.hashing import CanonicalPayload, NotCanonicalizable

MAX_BATCH_EVENTS = 500
EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"


class PayloadField(fields.Dict):
    """A JSON object that has a canonical encoding (no NaN or infinities)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = super()._deserialize(value, attr, data, **kwargs)
        try:
            return CanonicalPayload(result)  # the encoding is kept for hashing
        except NotCanonicalizable as exc:
            raise ValidationError("Payload must be JSON without NaN or Infinity.") from exc


class EventSchema(Schema):
    """One event as a client sends it."""

    event_id = fields.String(
        validate=validate.Regexp(
            EVENT_ID_PATTERN, error="Must be 1-128 characters [A-Za-z0-9._:-]."
        ),
        metadata={"description": "Client-chosen id; generated (UUID) when absent."},
    )
    type = fields.String(
        required=True,
        validate=validate.Regexp(NAME_PATTERN, error="Must be 1-128 characters [A-Za-z0-9._:/-]."),
    )
    source = fields.String(
        required=True,
        validate=validate.Regexp(NAME_PATTERN, error="Must be 1-128 characters [A-Za-z0-9._:/-]."),
    )
    occurred_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    payload = PayloadField(required=True, metadata={"description": "Any JSON object."})
    payload_sha256 = fields.String(
        validate=validate.Regexp(SHA256_PATTERN, error="Must be a hex SHA-256 digest."),
        metadata={"description": "Optional: the SHA-256 of the canonical payload, checked."},
    )

    @validates("occurred_at")
    def _not_absurd(self, value: dt.datetime, **_: Any) -> None:
        if (
            not dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
            <= value
            <= dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
        ):
            raise ValidationError("Must be between 1970 and 9000.")


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

    key = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    size = fields.Integer(required=True, validate=validate.Range(min=0))


class EventMessageSchema(Schema):
    """One event inside a processing task message (what the processor re-validates)."""

    event_id = fields.String(required=True, validate=validate.Regexp(EVENT_ID_PATTERN))
    type = fields.String(required=True, validate=validate.Regexp(NAME_PATTERN))
    source = fields.String(required=True, validate=validate.Regexp(NAME_PATTERN))
    occurred_at = fields.AwareDateTime(required=True)
    accepted_at = fields.AwareDateTime(required=True)
    payload_sha256 = fields.String(required=True, validate=validate.Regexp(SHA256_PATTERN))
    payload = PayloadField(allow_none=True, load_default=None)
    payload_ref = fields.Nested(PayloadRefSchema, allow_none=True, load_default=None)
    correlation_id = fields.String(allow_none=True, load_default=None)

    @validates_schema
    def _exactly_one_payload(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("payload") is None) == (data.get("payload_ref") is None):
            raise ValidationError("Exactly one of payload and payload_ref is required.", "payload")
