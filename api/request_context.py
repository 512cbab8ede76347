"""Per-request context: correlation id in and out, JSON bodies (multipart/form-data only
where a view says it takes files), one access log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import UnsupportedMediaType

from fluxa import logcontext
from fluxa.logcontext import CORRELATION_HEADER

log = logging.getLogger("fluxa.api.access")

_BODY_METHODS = {"POST", "PUT", "PATCH"}
F = TypeVar("F", bound=Callable[..., Any])


def correlation_id() -> str:
    """The current request's correlation id."""
    return g.correlation_id


def _begin() -> None:
    g.started = time.monotonic()
    g.correlation_id = (
        logcontext.valid_correlation_id(request.headers.get(CORRELATION_HEADER))
        or logcontext.new_correlation_id()
    )
    logcontext.clear()
    logcontext.bind(correlation_id=g.correlation_id)
    if request.method in _BODY_METHODS and _has_body() and not _accepted_body():
        raise UnsupportedMediaType("Send the body as application/json.")


def takes_multipart(view: F) -> F:
    """Mark a view that takes a multipart/form-data body (an upload) besides JSON."""
    view.takes_multipart = True  # type: ignore[attr-defined]
    return view


def _accepted_body() -> bool:
    if request.is_json or request.routing_exception is not None:
        return True  # no route: routing's 404 or 405 says more than a 415
    view = current_app.view_functions.get(request.endpoint or "")
    return request.mimetype == "multipart/form-data" and getattr(view, "takes_multipart", False)


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def _finish(response: Response) -> Response:
    response.headers[CORRELATION_HEADER] = g.get("correlation_id", "")
    started = g.get("started")
    log.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status_code": response.status_code,
            "latency_ms": round((time.monotonic() - started) * 1000, 2) if started else None,
        },
    )
    return response


def register_request_context(app: Flask) -> None:
    """Install the hooks on `app`."""
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(lambda _exc: logcontext.clear())
