"""Requests read whole on the event loop before a thread runs Flask.

Under gunicorn's threads, a client that sent its body a byte every few seconds held a
thread for as long as it liked: a hundred such clients and nobody else was answered. Here
(an ASGI middleware in front of the WSGI app, `api.asgi`) a request's body is read by the
event loop, where a slow client costs a coroutine, and the app's thread starts only once
the whole body is in:

- a body must arrive within `body_seconds` (`408`);
- it may not exceed `max_body_bytes`, whether it declares its length or is chunked: the
  count is kept as it streams, and the request is refused (`413`) the moment it passes
  the limit, before the rest is read;
- bodies above `large_body_bytes` are read and handled a few at a time
  (`large_bodies_at_once` per process), so that a burst of large bodies cannot take the
  process's memory: the others wait, costing nothing but their connection; when the
  last of a burst is done, freed memory is given back to the system (`api.memory`).

Every refusal is an RFC 9457 problem document, as the app's own are.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from api.memory import release_freed_memory
from fluxa.errors import ErrorCode

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROBLEM_JSON = b"application/problem+json"


@dataclass(frozen=True)
class GateLimits:
    max_body_bytes: int
    body_seconds: float
    large_body_bytes: int = 256 * 1024  # above what one SQS message carries
    large_bodies_at_once: int = 2


class Refused(Exception):
    """A request the gate answers itself."""

    def __init__(self, status: int, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


class Disconnected(Exception):
    """The client went away before its body was in."""


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, if it gives one that is a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.strip().isdigit() else None
    return None


def too_large(limit: int) -> Refused:
    return Refused(413, ErrorCode.PAYLOAD_TOO_LARGE, f"the body exceeds {limit} bytes")


def problem_messages(refusal: Refused, path: str) -> tuple[Message, Message]:
    """The ASGI messages of a problem+json answer to `refusal`."""
    body = json.dumps({
        "type": "about:blank",
        "title": HTTPStatus(refusal.status).phrase,
        "status": refusal.status,
        "code": refusal.code.value,
        "detail": refusal.detail,
        "instance": path,
    }).encode()  # fmt: skip
    start = {
        "type": "http.response.start",
        "status": refusal.status,
        "headers": [
            (b"content-type", PROBLEM_JSON),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),  # the rest of a refused body is never read
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class LargeBodies:
    """The process's slots for requests with large bodies, and who holds one."""

    def __init__(self, at_once: int) -> None:
        self._slots = asyncio.Semaphore(at_once)
        self.in_flight = 0  # holding a slot or waiting for one

    async def acquire(self) -> None:
        self.in_flight += 1
        try:
            await self._slots.acquire()
        except BaseException:
            self.in_flight -= 1
            raise

    def release(self) -> None:
        self._slots.release()
        self.in_flight -= 1
        if self.in_flight == 0:  # the burst is over: give its memory back
            asyncio.get_running_loop().run_in_executor(None, release_freed_memory)


class LargeBodySlot:
    """One request's claim on a slot for large bodies, taken at most once."""

    def __init__(self, large: LargeBodies) -> None:
        self._large = large
        self._held = False

    async def take(self) -> None:
        if not self._held:
            await self._large.acquire()
            self._held = True

    def give_back(self) -> None:
        if self._held:
            self._large.release()
            self._held = False


class RequestGate:
    """ASGI middleware: reads each HTTP request's body whole, within the limits, then
    hands the request to `app` with its body in one message."""

    def __init__(self, app: ASGIApp, limits: GateLimits) -> None:
        self._app = app
        self._limits = limits
        self._large = LargeBodies(limits.large_bodies_at_once)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await _lifespan(receive, send)
        if scope["type"] != "http":
            return await self._app(scope, receive, send)
        slot = LargeBodySlot(self._large)
        try:
            declared = declared_length(scope)
            if declared is not None and declared > self._limits.max_body_bytes:
                raise too_large(self._limits.max_body_bytes)
            if declared is not None and declared > self._limits.large_body_bytes:
                await slot.take()  # before the deadline starts: waiting costs the client nothing
            body = await self._read_in_time(receive, slot)
            await self._app(scope, _replay(body, receive), send)
        except Refused as refusal:
            for message in problem_messages(refusal, scope.get("path", "")):
                await send(message)
        except Disconnected:
            return None
        finally:
            slot.give_back()

    async def _read_in_time(self, receive: Receive, slot: LargeBodySlot) -> bytes:
        try:
            async with asyncio.timeout(self._limits.body_seconds):
                return await self._read(receive, slot)
        except TimeoutError:
            raise Refused(408, ErrorCode.REQUEST_TIMEOUT,
                          f"the body did not arrive within {self._limits.body_seconds:g} s"
                          ) from None  # fmt: skip

    async def _read(self, receive: Receive, slot: LargeBodySlot) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._limits.max_body_bytes:
                raise too_large(self._limits.max_body_bytes)
            if size > self._limits.large_body_bytes:
                await slot.take()  # a chunked body that turned out large
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` once, then waits for the client's disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop: the WSGI app is built at import."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
