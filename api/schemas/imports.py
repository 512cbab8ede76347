"""Request and response schemas of the imports endpoints."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate

from fluxa.imports.formats import ImportFormat
from fluxa.imports.record import ImportRecord, ImportStatus
from fluxa.imports.service import MAX_IMPORT_BYTES
from fluxa.trades.schemas import ACCOUNT_PATTERN
from fluxa.validation.fields import FullMatch, Text, TimeZone

MAX_PAGE_SIZE = 200


class _File(Upload):
    """An uploaded file (a part with a file name), loaded as its `FileStorage`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not hasattr(value, "stream"):
            raise ValidationError("Must be a file part (with a filename).")
        return value


class ImportRequestSchema(Schema):
    """`POST /v1/imports`: multipart/form-data."""

    file = _File(
        required=True,
        metadata={"description": f"The broker's file, at most {MAX_IMPORT_BYTES} bytes."},
    )
    format = fields.String(required=True, validate=validate.OneOf([f.value for f in ImportFormat]))
    account = fields.String(
        validate=FullMatch(ACCOUNT_PATTERN),
        metadata={"description": "The account of rows that name none."},
    )
    timezone = TimeZone(
        metadata={"description": "IANA zone of times without an offset (default: the "
                  "format's; UTC, or America/New_York for ibkr-flex)."}
    )  # fmt: skip


class ImportQueuedSchema(Schema):
    import_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in ImportStatus]})


class RejectedRowSchema(Schema):
    line = fields.Integer(required=True, metadata={"description": "0: not one row's fault."})
    field = fields.String(required=True)
    reason = fields.String(required=True)


class ImportSchema(Schema):
    import_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in ImportStatus]})
    format = fields.String(required=True)
    account = fields.String(required=True)
    reason = fields.String(allow_none=True, required=True)
    fills = fields.Integer(required=True)
    trades_created = fields.Integer(required=True)
    trades_updated = fields.Integer(required=True)
    trades_deleted = fields.Integer(required=True)
    duplicates_skipped = fields.Integer(required=True)
    rejected_rows = fields.Integer(required=True)
    rejected = fields.List(fields.Nested(RejectedRowSchema), required=True)
    size = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ImportListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = Text(validate=validate.Length(min=1, max=512))


class ImportPageSchema(Schema):
    items = fields.List(fields.Nested(ImportSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


def dump_import(record: ImportRecord) -> dict[str, Any]:
    """An import as `ImportSchema` shows it."""
    counts = record.counts
    return {
        "import_id": record.id, "status": record.status.value, "format": record.format,
        "account": record.account, "reason": record.reason, "fills": counts.fills,
        "trades_created": counts.trades_created, "trades_updated": counts.trades_updated,
        "trades_deleted": counts.trades_deleted,
        "duplicates_skipped": counts.duplicates_skipped,
        "rejected_rows": counts.rejected_rows, "rejected": counts.rejected,
        "size": record.size, "created_at": record.created_at, "updated_at": record.updated_at,
    }  # fmt: skip
