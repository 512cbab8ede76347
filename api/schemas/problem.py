"""The RFC 9457 problem document, for the OpenAPI description of error responses."""

from __future__ import annotations

from marshmallow import Schema, fields


class ProblemSchema(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    code = fields.String(metadata={"description": "Fluxa error code, e.g. SchemaValidation."})
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Each field at fault and its messages."},
    )
