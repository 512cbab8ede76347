"""Schemas of the events endpoints' responses and query strings."""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate

from fluxa.events.schemas import NAME_PATTERN

MAX_PAGE_SIZE = 500


class EventAcceptedSchema(Schema):
    event_id = fields.String(required=True)
    correlation_id = fields.String(required=True)
    payload_sha256 = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["accepted"]})


class BatchItemResultSchema(Schema):
    index = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["accepted", "rejected"]})
    event_id = fields.String()
    payload_sha256 = fields.String()
    code = fields.String(metadata={"description": "Error code of a rejected item."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Field → messages, for a rejected item."},
    )


class BatchAcceptedSchema(Schema):
    correlation_id = fields.String(required=True)
    accepted = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    results = fields.List(fields.Nested(BatchItemResultSchema), required=True)


class EventMetadataSchema(Schema):
    event_id = fields.String(required=True)
    type = fields.String(required=True)
    source = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    accepted_at = fields.DateTime(required=True)
    processed_at = fields.DateTime(required=True)
    status = fields.String(required=True, metadata={"enum": ["processed"]})
    payload_sha256 = fields.String(required=True)
    payload_size = fields.Integer(required=True)
    correlation_id = fields.String(allow_none=True)


class EventDetailSchema(EventMetadataSchema):
    payload = fields.Dict(required=True)


class EventPageSchema(Schema):
    items = fields.List(fields.Nested(EventMetadataSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class EventListQuerySchema(Schema):
    type = fields.String(validate=validate.Regexp(NAME_PATTERN))
    source = fields.String(validate=validate.Regexp(NAME_PATTERN))
    since = fields.AwareDateTime(default_timezone=dt.UTC)
    until = fields.AwareDateTime(default_timezone=dt.UTC)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(validate=validate.Length(min=1, max=512))
