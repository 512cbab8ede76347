"""The WSGI app run from ASGI on a pool of threads, one hop per request.

`api.request_gate` hands over each request with its whole body, so the app's thread
never waits on a client: it builds the response whole (Flask's are built in memory
anyway), and the event loop sends it. a2wsgi's bridge, which streams both ways, cost
12% of single-event ingest throughput by measurement (docs/benchmarks.md); this one
makes a single thread hop per request.

A response that declares no length (a Flask response from a generator: a trade export)
is streamed instead: each chunk is made on a thread and sent by the event loop, so no
thread waits on a slow reader between chunks and memory holds one chunk at a time.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from api.request_gate import GateLimits, Receive, RequestGate, Scope, Send

#: Threads running the app per process: concurrent requests of one process share a task
#: message (fluxa.events.coalesce). 32 by measurement (docs/benchmarks.md).
THREADS = 32

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Response = tuple[int, list[tuple[bytes, bytes]], "bytes | Stream"]
#: How long a streamed response waits for a reader to take a chunk before giving up.
SEND_TIMEOUT = 60.0


class Stream:
    """The rest of a streamed response: its chunks, taken one at a time, then closed."""

    def __init__(self, first: list[bytes], result: Iterable[bytes]) -> None:
        self._pending = first
        self._result = result
        self._chunks = iter(result)

    def next_chunk(self) -> bytes | None:
        """The next chunk (on a thread: the app makes it), None at the end."""
        if self._pending:
            return self._pending.pop(0)
        return next(self._chunks, None)

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


def wsgi_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ of an ASGI HTTP `scope` with its whole `body`."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin-1"),
        # PEP 3333: the path as bytes, decoded as latin-1 (what the client sent, unquoted).
        "PATH_INFO": scope["path"].encode().decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[name] = value
            continue
        key = f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ.setdefault("CONTENT_LENGTH", str(len(body)))
    return environ


def run_wsgi(app: WSGIApp, environ: dict[str, Any]) -> Response:
    """Call `app` and collect its whole response (in the app's thread)."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return lambda data: chunks.append(data)  # the legacy write() callable

    chunks: list[bytes] = []
    result = app(environ, start_response)
    status, headers = started
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    code = int(status.split(" ", 1)[0])
    if not any(name == b"content-length" for name, _ in encoded):
        return code, encoded, Stream(chunks, result)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return code, encoded, b"".join(chunks)


class ThreadedWSGI:
    """ASGI app running `app` on `threads` threads; requests arrive with their whole body."""

    def __init__(self, app: WSGIApp, threads: int) -> None:
        self._app = app
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="fluxa-api")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        environ = wsgi_environ(scope, message.get("body", b""))
        loop = asyncio.get_running_loop()
        status, headers, body = await loop.run_in_executor(self._pool, run_wsgi, self._app, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if isinstance(body, bytes):
            await send({"type": "http.response.body", "body": body})
            return
        try:
            while (chunk := await loop.run_in_executor(self._pool, body.next_chunk)) is not None:
                message = {"type": "http.response.body", "body": chunk, "more_body": True}
                await asyncio.wait_for(send(message), SEND_TIMEOUT)
            await send({"type": "http.response.body", "body": b""})
        finally:
            await loop.run_in_executor(self._pool, body.close)


def served(app: WSGIApp, limits: GateLimits) -> RequestGate:
    """`app` as the API serves it: requests read whole within `limits`, then run on
    `THREADS` threads."""
    return RequestGate(ThreadedWSGI(app, THREADS), limits)
