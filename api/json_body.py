"""Request bodies decoded as JSON within `REQUEST_LIMITS` (see fluxa/validation/json_limits.py).

Flask's `request.get_json`, webargs and the idempotency fingerprint all read bodies
through the app's JSON provider, so this is the one door; a body past a limit is a
400 naming the limit and the field, never a RecursionError.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Request
from flask.json.provider import DefaultJSONProvider

from fluxa.errors import SchemaValidationError
from fluxa.validation import REQUEST_LIMITS, JsonLimitExceededError, loads_bounded


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider whose `loads` enforces the request limits."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_bounded(s, REQUEST_LIMITS)


class BoundedRequest(Request):
    """A request whose undecodable JSON body is a 400 problem naming why."""

    def on_json_loading_failed(self, e: ValueError | None) -> NoReturn:
        if isinstance(e, JsonLimitExceededError):
            field = e.field or "_body"
            raise SchemaValidationError(
                f"the JSON body is {e.message}", details={field: [f"JSON body: {e.message}."]}
            ) from e
        if e is None:  # not JSON at all: Flask's 415
            super().on_json_loading_failed(e)
        raise SchemaValidationError(
            "the body is not valid JSON", details={"_body": [f"Invalid JSON: {e}"]}
        ) from e
