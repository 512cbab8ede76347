"""The ingest baseline: the same WSGI server answering a bare JSON echo."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from api.request_gate import GateLimits
from api.wsgi_bridge import served


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Parse the JSON body and send it back (202, as the ingest endpoint answers)."""
    if environ["PATH_INFO"] == "/healthz":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.dumps(json.loads(environ["wsgi.input"].read(length) or b"null")).encode()
    start_response("202 Accepted", [("Content-Type", "application/json")])
    return [body]


#: The echo served as the API is (`api.asgi`): the same gate and thread pool.
asgi_app = served(app, GateLimits(max_body_bytes=16 << 20, body_seconds=30))
