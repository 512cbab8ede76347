"""Schemas of the events endpoints' responses and query strings."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.problem import ProblemSchema
from fluxa.events.schemas import NAME_PATTERN
from fluxa.validation.fields import FullMatch, Moment, Text

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
    payload = fields.Dict(
        required=True, allow_none=True, metadata={"description": "null when payload_problem"}
    )
    payload_problem = fields.Nested(
        ProblemSchema,
        metadata={"description": "Present when the payload cannot be read (e.g. missing)."},
    )


class EventPageSchema(Schema):
    items = fields.List(fields.Nested(EventMetadataSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class EventListQuerySchema(Schema):
    type = fields.String(validate=FullMatch(NAME_PATTERN))
    source = fields.String(validate=FullMatch(NAME_PATTERN))
    since = Moment()
    until = Moment()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = Text(validate=validate.Length(min=1, max=512))
