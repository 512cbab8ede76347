"""SQS as AWS documents it, in front of an emulator that is kinder.

moto answers every short poll with what the queue holds, deletes what it is told to,
never throttles and never fails. Amazon SQS does all four:

- a short poll (`WaitTimeSeconds` 0) asks a sample of its servers, so it can come back
  empty, or with fewer messages than wait, while messages wait;
- a standard queue delivers at least once: a delete can miss a copy of the message on a
  server that was unavailable, and the message is received again later;
- any request may be throttled (`RequestThrottled`, 400) or fail with a 5xx, and a 5xx
  can come after the request took effect (a send whose answer was lost, retried by the
  client, is two messages).

`StrictSqs` is an HTTP layer that forwards SQS's JSON protocol to the emulator and plays
those rules at the rates of its `Strictness`. It is not a mock: every answer that is not
a fault is the emulator's own. Fluxa's integration, fault and end-to-end suites run
through it, and `fluxa standalone --strict-sqs` puts it in front of the standalone.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TARGET_PREFIX = "AmazonSQS."
#: Headers of this hop only: http.client sets its own (the body may be rewritten).
_HOP_HEADERS = {"host", "content-length", "connection", "keep-alive", "transfer-encoding"}
#: A lost delete brings the message back this many seconds later (AWS: "later"; soon
#: enough that a test sees the redelivery).
REDELIVER_AFTER_SECONDS = 2


@dataclass(frozen=True)
class Strictness:
    """How often each of AWS's documented behaviours happens (0 = never, 1 = always)."""

    empty_short_polls: float = 0.5  # a short poll answered empty (else from a sample)
    lost_deletes: float = 0.0  # a deleted message delivered again
    throttles: float = 0.0  # any request answered RequestThrottled
    server_errors: float = 0.0  # any request answered 500 (half of them after the effect)
    #: Of the 500s answering a receive, those after the effect: the messages stay hidden for
    #: the reader's visibility timeout (AWS does so too; a suite's reader would lose sight of
    #: them for minutes, so the suites leave it to `test_strict_sqs.py`).
    lost_receive_answers: float = 0.0
    seed: int = 20261204

    def with_rates(self, **rates: float) -> Strictness:
        return replace(self, **rates)


#: What the integration and fault suites run with. Throttles and 5xx at rates that
#: botocore's standard retry mode (3 attempts) absorbs, so that a failure reaching Fluxa's
#: code is one a test chose (`StrictSqs.rates`): 0.6% of requests fail once, 2e-7 thrice.
#: Lost deletes are played by the tests whose assertions are about effects, not copies
#: (the soak, the hostile messages: `rates(lost_deletes=…)`): elsewhere a second copy of
#: a dead letter, which AWS may make, would fail a test that counts them.
SUITE_STRICTNESS = Strictness(
    empty_short_polls=0.5, lost_deletes=0.0, throttles=0.003, server_errors=0.003
)
#: `fluxa standalone --strict-sqs` (and the end-to-end suite): every rule on.
STANDALONE_STRICTNESS = SUITE_STRICTNESS.with_rates(lost_deletes=0.01)


class StrictSqs:
    """An HTTP server on 127.0.0.1 forwarding SQS requests to `upstream` (host, port)."""

    def __init__(self, upstream: tuple[str, int], strictness: Strictness = SUITE_STRICTNESS):
        self.upstream = upstream
        self.strictness = strictness
        self.played: Counter[str] = Counter()  # what was played, by rule
        self._random = random.Random(strictness.seed)
        self._failing: dict[str, int] = {}  # operation → requests still let through
        self._lock = threading.Lock()
        self._local = threading.local()
        handler = type("Handler", (_Handler,), {"layer": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @contextlib.contextmanager
    def rates(self, **rates: float) -> Iterator[None]:
        """Play the rules at other rates while the block runs (e.g. `throttles=0.3`)."""
        before = self.strictness
        self.strictness = before.with_rates(**rates)
        try:
            yield
        finally:
            self.strictness = before

    @contextlib.contextmanager
    def failing(self, operation: str, *, after: int) -> Iterator[None]:
        """Answer `operation` (e.g. `SendMessage`) with a 500, untouched, once `after` of
        them went through, while the block runs: a dependency that dies mid-request."""
        self._failing[operation] = after
        try:
            yield
        finally:
            self._failing.pop(operation, None)

    def fails_now(self, operation: str) -> bool:
        """Whether `failing` refuses this request of `operation`."""
        with self._lock:
            if operation not in self._failing:
                return False
            if self._failing[operation] > 0:
                self._failing[operation] -= 1
                return False
            return True

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate

    def sample(self, high: int) -> int:
        with self._lock:
            return self._random.randint(1, max(1, high))

    def count(self, rule: str) -> None:
        with self._lock:
            self.played[rule] += 1

    def forward(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, bytes]:
        """Send one request to the emulator on this thread's connection."""
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(*self.upstream, timeout=60)
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.headers, response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-request (a worker stopped) is no event here


class _Handler(BaseHTTPRequestHandler):
    layer: StrictSqs
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the emulator keeps its own log

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
        try:
            status, upstream_headers, answer = _play(self.layer, operation, headers, body)
        except OSError:
            status, upstream_headers, answer = 503, {}, b""
        self.send_response(status)
        content_type = upstream_headers.get("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Type", content_type)
        for name in ("x-amzn-RequestId", "x-amzn-query-error"):
            if upstream_headers.get(name):
                self.send_header(name, upstream_headers[name])
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def _play(layer: StrictSqs, operation: str, headers: dict[str, str], body: bytes):
    """The answer to one request, with AWS's rules played at the layer's rates."""
    rates = layer.strictness
    if operation and layer.fails_now(operation):
        layer.count("failing")
        return _error(500, "InternalError", "We encountered an internal error.", sender=False)
    if operation and layer.chance(rates.throttles):
        layer.count("throttled")
        return _error(400, "RequestThrottled", "Rate exceeded", sender=True)
    if operation and layer.chance(rates.server_errors):
        layer.count("server_error")
        after_effect = rates.lost_receive_answers if operation == "ReceiveMessage" else 0.5
        if layer.chance(after_effect):  # the request took effect; only its answer is lost
            layer.count("server_error_after_effect")
            layer.forward("/", headers, body)
        return _error(500, "InternalError", "We encountered an internal error.", sender=False)
    if operation == "ReceiveMessage":
        return _receive(layer, headers, body)
    if operation in ("DeleteMessage", "DeleteMessageBatch"):
        return _delete(layer, operation, headers, body)
    return layer.forward("/", headers, body)


def _receive(layer: StrictSqs, headers: dict[str, str], body: bytes):
    request = json.loads(body or b"{}")
    if int(request.get("WaitTimeSeconds", 0)) > 0:  # a long poll asks every server
        return layer.forward("/", headers, body)
    if layer.chance(layer.strictness.empty_short_polls):
        layer.count("empty_short_poll")
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, b"{}"
    wanted = int(request.get("MaxNumberOfMessages", 1))
    if wanted > 1:  # the sampled servers hold only some of the messages
        request["MaxNumberOfMessages"] = layer.sample(wanted)
        body = json.dumps(request).encode()
    return layer.forward("/", headers, body)


def _delete(layer: StrictSqs, operation: str, headers: dict[str, str], body: bytes):
    """A delete that misses a copy: answered as done, the message comes back later."""
    rate = layer.strictness.lost_deletes
    request = json.loads(body or b"{}")
    if operation == "DeleteMessage":
        if not layer.chance(rate):
            return layer.forward("/", headers, body)
        layer.count("lost_delete")
        _come_back(layer, headers, request["QueueUrl"], [request["ReceiptHandle"]])
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, b"{}"
    entries = request.get("Entries", [])
    lost = [entry for entry in entries if layer.chance(rate)]
    if not lost:
        return layer.forward("/", headers, body)
    for _ in lost:
        layer.count("lost_delete")
    kept = [entry for entry in entries if entry not in lost]
    successful = [{"Id": entry["Id"]} for entry in lost]
    failed: list[Any] = []
    if kept:
        forwarded = json.dumps({**request, "Entries": kept}).encode()
        status, upstream_headers, answer = layer.forward("/", headers, forwarded)
        if status != 200:
            return status, upstream_headers, answer
        result = json.loads(answer or b"{}")
        successful += result.get("Successful", [])
        failed = result.get("Failed", [])
    _come_back(layer, headers, request["QueueUrl"], [entry["ReceiptHandle"] for entry in lost])
    answer = json.dumps({"Successful": successful, "Failed": failed}).encode()
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, answer


def _come_back(layer: StrictSqs, headers: dict[str, str], queue_url: str, handles: list[str]):
    """Make deleted-but-missed messages visible again soon (the emulator's own request; an
    error means the message is gone anyway)."""
    change_headers = dict(headers)
    change_headers["X-Amz-Target"] = f"{TARGET_PREFIX}ChangeMessageVisibility"
    for handle in handles:
        change = {"QueueUrl": queue_url, "ReceiptHandle": handle,
                  "VisibilityTimeout": REDELIVER_AFTER_SECONDS}  # fmt: skip
        layer.forward("/", change_headers, json.dumps(change).encode())


def _error(status: int, code: str, message: str, *, sender: bool):
    """An SQS JSON-protocol error, with the query-compatible code botocore reads first."""
    body = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": message}).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "x-amzn-query-error": f"{code};{'Sender' if sender else 'Receiver'}",
    }
    return status, headers, body
