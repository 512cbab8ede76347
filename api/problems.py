"""RFC 9457 problem+json responses, one handler set for the whole app."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from api.blueprints.base import PROBLEM_JSON
from fluxa.errors import ErrorCode, FluxaError
from fluxa.validation import flatten_errors

log = logging.getLogger("fluxa.api")

RETRY_AFTER_SECONDS = 5

_CODE_BY_STATUS = {
    400: ErrorCode.SCHEMA_VALIDATION,
    404: ErrorCode.NOT_FOUND,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.SCHEMA_VALIDATION,
}

#: The locations webargs names in its messages.
_LOCATIONS = {"json", "query", "headers", "path", "multipart"}


def problem(
    status: int,
    title: str,
    *,
    code: str | None = None,
    detail: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response; `errors` maps each field at fault to its messages."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if code:
        body["code"] = code
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body["instance"] = request.path
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def _webargs_errors(exc: HTTPException) -> dict[str, list[str]] | None:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if messages is None:
        return None
    # webargs nests by location (`_LOCATIONS`); the field name is what helps.
    if isinstance(messages, dict) and set(messages) <= _LOCATIONS:
        merged: dict[str, list[str]] = {}
        for location_messages in messages.values():
            merged.update(flatten_errors(location_messages))
        return merged
    return flatten_errors(messages)


def _from_fluxa_error(exc: FluxaError) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.retryable else {}
    if exc.http_status == 401:
        headers["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="{exc.message}"'
        )
    if exc.http_status >= 500:
        log.warning(
            "dependency unavailable", extra={"error_code": exc.code.value, "status": "error"}
        )
    return problem(
        exc.http_status,
        HTTPStatus(exc.http_status).phrase,
        code=exc.code.value,
        detail=exc.message,
        errors=exc.details or None,
        headers=headers,
    )


def _from_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    errors = _webargs_errors(exc)
    detail = exc.description if errors is None else "The request has invalid fields."
    code = _CODE_BY_STATUS.get(status)
    headers = dict(exc.get_headers()) if status == 405 else None
    allow = {"Allow": headers["Allow"]} if headers and "Allow" in headers else None
    return problem(
        status,
        exc.name,
        code=code.value if code else None,
        detail=detail,
        errors=errors,
        headers=allow,
    )


def _from_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error", extra={"error_code": ErrorCode.UNHANDLED.value})
    return problem(500, "Internal Server Error", code=ErrorCode.UNHANDLED.value)


def register_problem_handlers(app: Flask) -> None:
    """Every error the app can answer with becomes problem+json."""
    app.register_error_handler(FluxaError, _from_fluxa_error)
    app.register_error_handler(HTTPException, _from_http_exception)
    app.register_error_handler(Exception, _from_unexpected)
