"""The request gate (api/request_gate.py) and the WSGI bridge (api/wsgi_bridge.py), driven
with ASGI messages directly."""

from __future__ import annotations

import asyncio
import json

from api.request_gate import GateLimits, RequestGate, declared_length
from api.wsgi_bridge import Stream, run_wsgi, wsgi_environ

LIMITS = GateLimits(max_body_bytes=100, body_seconds=0.2, large_body_bytes=50)


def scope(headers: list[tuple[bytes, bytes]] = ()) -> dict:
    return {"type": "http", "method": "POST", "path": "/v1/events", "headers": list(headers)}


class Inner:
    """The app behind the gate: keeps what it receives, answers 202."""

    def __init__(self) -> None:
        self.received: list[dict] = []

    async def __call__(self, scope, receive, send):
        self.received.append(await receive())
        await send({"type": "http.response.start", "status": 202, "headers": []})


def gate() -> RequestGate:
    return RequestGate(Inner(), LIMITS)


def drive(gate: RequestGate, request_scope: dict, chunks: list[bytes], *, stall: bool = False):
    """Run `gate` on a request whose body comes in `chunks` (then stalls, with `stall`);
    what the inner app received, and what was sent back."""
    sent: list[dict] = []
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1 or stall}
        for i, c in enumerate(chunks)
    ]

    async def receive():
        if pending:
            return pending.pop(0)
        await asyncio.sleep(10)  # a client that sends nothing more
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    inner = gate._app
    seen = len(inner.received)
    asyncio.run(gate(request_scope, receive, send))
    return inner.received[seen:], sent


def status_and_problem(sent: list[dict]) -> tuple[int, dict]:
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_the_app_gets_the_whole_body_in_one_message():
    received, sent = drive(gate(), scope(), [b"ab", b"cd", b"e"])
    assert received == [{"type": "http.request", "body": b"abcde", "more_body": False}]
    assert sent[0]["status"] == 202


def test_a_chunked_body_over_the_limit_is_refused_413_without_reaching_the_app():
    received, sent = drive(gate(), scope(), [b"x" * 60, b"x" * 60, b"x"])
    status, problem = status_and_problem(sent)
    assert (status, problem["code"], received) == (413, "PayloadTooLarge", [])


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    headers = [(b"content-length", b"101")]
    received, sent = drive(gate(), scope(headers), [b"x"], stall=True)
    assert status_and_problem(sent)[0] == 413 and received == []


def test_a_body_that_stalls_is_refused_408():
    received, sent = drive(gate(), scope(), [b"{"], stall=True)
    status, problem = status_and_problem(sent)
    assert status == 408 and "0.2 s" in problem["detail"] and received == []


def test_large_bodies_give_their_slot_back_whatever_happens():
    shared = gate()
    drive(shared, scope(), [b"x" * 60])  # large, handled
    drive(shared, scope(), [b"x" * 60, b"x" * 60])  # large, refused
    assert shared._large.in_flight == 0


def test_declared_length_reads_only_numbers():
    assert declared_length(scope([(b"content-length", b"12")])) == 12
    assert declared_length(scope([(b"content-length", b"-1")])) is None
    assert declared_length(scope()) is None


def test_wsgi_environ_of_an_asgi_request():
    environ = wsgi_environ(
        {
            "type": "http", "method": "GET", "path": "/v1/événements", "query_string": b"a=1",
            "headers": [(b"content-type", b"application/json"), (b"x-tag", b"a"),
                        (b"x-tag", b"b")],
            "server": ("127.0.0.1", 8000), "client": ("10.0.0.1", 5000), "scheme": "https",
        },
        b"{}",
    )  # fmt: skip
    assert environ["PATH_INFO"] == "/v1/événements".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1" and environ["CONTENT_TYPE"] == "application/json"
    assert environ["HTTP_X_TAG"] == "a,b" and environ["CONTENT_LENGTH"] == "2"
    assert environ["wsgi.input"].read() == b"{}" and environ["wsgi.url_scheme"] == "https"
    assert environ["REMOTE_ADDR"] == "10.0.0.1"


def test_run_wsgi_collects_the_whole_response():
    def app(environ, start_response):
        write = start_response(
            "201 Created", [("Content-Type", "text/plain"), ("Content-Length", "3")]
        )
        write(b"a")
        return [b"b", b"c"]

    headers = [(b"content-type", b"text/plain"), (b"content-length", b"3")]
    assert run_wsgi(app, {}) == (201, headers, b"abc")


def test_a_response_of_no_length_streams_a_chunk_at_a_time_and_is_closed():
    made, closed = [], []

    class Body:
        def __iter__(self):
            for n in range(3):
                made.append(n)
                yield f"{n},".encode()

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/csv")])
        return Body()

    status, _headers, stream = run_wsgi(app, {})
    assert status == 200 and isinstance(stream, Stream) and made == []
    assert stream.next_chunk() == b"0," and made == [0]  # made when taken, not before
    assert [stream.next_chunk(), stream.next_chunk(), stream.next_chunk()] == [b"1,", b"2,", None]
    stream.close()
    assert closed == [True]
