"""Running a write endpoint under an optional `Idempotency-Key` header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from marshmallow import EXCLUDE, Schema, fields, validate

from api.services import current_services
from fluxa.idempotency import StoredResponse, fingerprint
from fluxa.idempotency.config import MAX_KEY_LENGTH
from fluxa.validation.fields import FullMatch

REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyHeadersSchema(Schema):
    """The optional `Idempotency-Key` request header."""

    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=[
            validate.Length(min=1, max=MAX_KEY_LENGTH),
            FullMatch(r"^[\x21-\x7e]+$", error="Must be printable ASCII without spaces."),
        ],
        metadata={"description": "Same key and body replays the first response (24 h)."},
    )


def run_idempotent(
    key: str | None,
    scope: str,
    operation: Callable[[], StoredResponse],
    *,
    body: Any = None,
) -> tuple[Any, int, dict[str, str]]:
    """Run `operation`, or replay its stored response when `key` was seen with this body.
    `body` stands for a body that is not JSON (what of it makes two requests the same)."""
    if key is None:
        response = operation()
        return response.body, response.status, {}
    digest = fingerprint(
        request.method,
        request.path,
        request.get_json(silent=True) if body is None else body,
        extra={"payload_sha256": request.headers.get("X-Payload-SHA256")},
    )
    response, replayed = current_services().idempotency.execute(scope, key, digest, operation)
    return response.body, response.status, {REPLAYED_HEADER: "true"} if replayed else {}
