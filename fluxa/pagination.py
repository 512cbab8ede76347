"""Opaque keyset cursors: a (timestamp, id) position, base64url JSON."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from fluxa.errors import SchemaValidationError


def encode_cursor(occurred_at: dt.datetime, event_id: str) -> str:
    """The cursor that resumes a listing after (`occurred_at`, `event_id`)."""
    raw = json.dumps([occurred_at.isoformat(), event_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """Invert `encode_cursor`; a malformed cursor is a `SchemaValidationError` on `cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        occurred_at, event_id = json.loads(raw)
        moment = dt.datetime.fromisoformat(occurred_at)
        if moment.tzinfo is None or not isinstance(event_id, str):
            raise ValueError("bad cursor fields")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise SchemaValidationError(
            "invalid cursor", details={"cursor": ["Not a cursor returned by this API."]}
        ) from exc
    return moment, event_id
