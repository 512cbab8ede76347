"""gunicorn settings for the API (`gunicorn -c python:api.gunicorn_conf api.wsgi:app`).

gunicorn answers what never reaches Flask itself — a request line too long (414),
a malformed request line or header (400), header fields too large (431) — through
`gunicorn.util.write_error`, as an HTML page. Every error of this API is an RFC 9457
problem document, so each worker replaces that writer after it forks.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util

from fluxa.errors import ErrorCode

PROBLEM_CODES = {status: ErrorCode.SCHEMA_VALIDATION for status in (400, 414, 431)}

# Threads, so that concurrent requests of one process can share a task message
# (fluxa.events.coalesce). 32 by measurement (docs/benchmarks.md): against 16, 64
# clients of single events gave 0.50 of the echo instead of 0.33, and 0.10 SQS sends
# per event instead of 0.15; 48 and 64 threads did no better. `--threads` /
# `--worker-class` on the command line override.
worker_class = "gthread"
threads = 32


def problem_bytes(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 response carrying a problem+json document."""
    problem: dict[str, Any] = {"type": "about:blank", "title": reason, "status": status}
    if status in PROBLEM_CODES:
        problem["code"] = PROBLEM_CODES[status].value
    if detail:
        problem["detail"] = detail[:500]
    body = json.dumps(problem).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _write_problem(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    util.write_nonblock(sock, problem_bytes(status_int, reason, mesg))


def post_fork(server: Any, worker: Any) -> None:  # gunicorn hook
    util.write_error = _write_problem
