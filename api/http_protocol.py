"""uvicorn's HTTP protocol (httptools) with the limits a public server needs on the request
head, and problem+json for what never reaches the app.

uvicorn reads a request head for as long as a client takes and as large as it sends.
Here a head must be complete within `HEAD_SECONDS` of its first byte (or of the
connection, for the first request: a client that connects and says nothing is closed
too), its request target may not exceed `MAX_TARGET_BYTES` (`414`) and the whole head
`MAX_HEAD_BYTES` (`431`): gunicorn's limits, which the API kept before. A malformed
request is a `400`. Every one of these answers is an RFC 9457 problem document, like the
app's own, and closes the connection.

Selected with `uvicorn --http api.http_protocol:FluxaHttpProtocol` (`api.serving`).
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from fluxa.errors import ErrorCode

HEAD_SECONDS = 10.0
MAX_TARGET_BYTES = 4094
MAX_HEAD_BYTES = 64 * 1024


def problem_response(status: int, detail: str) -> bytes:
    """A complete HTTP/1.1 response carrying a problem+json document; it closes."""
    reason = HTTPStatus(status).phrase
    code = ErrorCode.REQUEST_TIMEOUT if status == 408 else ErrorCode.SCHEMA_VALIDATION
    body = json.dumps({
        "type": "about:blank", "title": reason, "status": status,
        "code": code.value, "detail": detail,
    }).encode()  # fmt: skip
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class HeadRefused(ValueError):
    """Why a head is refused. Raised from a parser callback, httptools turns it into a
    parser error, which uvicorn answers through `send_400_response` (which reads it)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class FluxaHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline and size limits on request heads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refusal: HeadRefused | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and self.transport is not None and not self.transport.is_closing():
            # Everything fed while the head is still incomplete belongs to the head.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(HeadRefused(431, f"the request head exceeds {MAX_HEAD_BYTES} bytes"))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_head:  # the next request on a kept-alive connection
            self._start_head()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_TARGET_BYTES:
            self._refusal = HeadRefused(414, f"the request target exceeds {MAX_TARGET_BYTES} bytes")
            raise self._refusal

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._stop_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        refusal = self._refusal
        status, detail = (refusal.status, refusal.detail) if refusal else (400, msg)
        self._stop_head_timer()
        self.transport.write(problem_response(status, detail))
        self.transport.close()

    def _start_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and self.transport is not None and not self.transport.is_closing():
            self._refuse(HeadRefused(408, f"the request head took over {HEAD_SECONDS:g} s"))

    def _refuse(self, refusal: HeadRefused) -> None:
        self._refusal = refusal
        self.send_400_response(refusal.detail)
