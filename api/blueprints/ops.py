"""Operations: `GET /healthz` (alive) and `GET /readyz` (dependencies reachable).

Only the broker decides readiness: ingest, the path a load balancer must keep, needs SQS
and nothing else (PostgreSQL is read for sign-outs from memory, S3 only for claim
checks). A database or storage outage is reported as `degraded` with a `200`: taking
every API task out of the load balancer would stop ingest and heal nothing.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from flask import Blueprint as FlaskBlueprint
from sqlalchemy import text

from api.services import ApiServices, current_services
from fluxa.migrations import is_at_head

blp = FlaskBlueprint("ops", __name__)
READY_TIMEOUT_SECONDS = 3.0
#: Three missed heartbeats (workers/heartbeat.py touches the file every 5 s).
STALE_HEARTBEAT_SECONDS = 15.0
_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="readyz")


def _database(services: ApiServices) -> None:
    with services.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        if not is_at_head(conn):
            raise RuntimeError("migrations are not at head: run fluxa db upgrade")


def _database_reader(services: ApiServices) -> None:
    if services.reader_engine is not services.engine:
        with services.reader_engine.connect() as conn:
            conn.execute(text("SELECT 1"))


#: A key never written, read to see S3 answer: under `archive/`, which the API may read
#: (its 404 needs s3:ListBucket too, which the API has for the same reason: PayloadMissing).
PROBE_KEY = "archive/readyz-probe"


def _storage(services: ApiServices) -> None:
    services.payload_store.exists(PROBE_KEY)


def _broker(services: ApiServices) -> None:
    settings = services.settings
    if (settings.broker_url or "").startswith("sqs://"):
        url = services.sqs.get_queue_url(QueueName=settings.input_queue)["QueueUrl"]
        services.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])


_CHECKS = {
    "database": _database,
    "database_reader": _database_reader,  # "ok" too where the writer serves the reads
    "storage": _storage,
    "broker": _broker,
}
#: The checks whose failure makes the process unready (503); the others degrade it.
_ESSENTIAL = frozenset({"broker"})


@blp.get("/healthz")
def healthz() -> Any:
    """The process is up."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz() -> Any:
    """Database, S3 and broker reachable, each checked within a bounded time: `ready`,
    `degraded` (200, a non-essential dependency down) or `unready` (503)."""
    services = current_services()
    futures = {name: _pool.submit(check, services) for name, check in _CHECKS.items()}
    checks: dict[str, str] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=READY_TIMEOUT_SECONDS)
            checks[name] = "ok"
        except FutureTimeout:
            checks[name] = "timeout"
        except Exception as exc:  # any failure of a dependency means "not ready"
            checks[name] = f"error: {type(exc).__name__}: {str(exc)[:120]}"
    ready = all(checks[name] == "ok" for name in _ESSENTIAL)
    status = "unready" if not ready else "ready" if _all_ok(checks) else "degraded"
    body: dict[str, Any] = {"status": status, "checks": checks}
    stale = services.revocations.stale_seconds
    body["sign_outs_read_seconds_ago"] = None if stale is None else round(stale, 1)
    heartbeat = services.settings.worker_heartbeat_file
    if heartbeat:  # advisory: a dead or stuck worker is shown, the API stays ready
        body["worker"] = worker_liveness(Path(heartbeat), time.time())
    return body, 200 if ready else 503


def _all_ok(checks: dict[str, str]) -> bool:
    return all(value == "ok" for value in checks.values())


def worker_liveness(heartbeat: Path, now: float) -> dict[str, Any]:
    """How long ago a worker on this machine last touched its heartbeat file."""
    try:
        age = max(0.0, now - heartbeat.stat().st_mtime)
    except FileNotFoundError:
        return {"status": "absent", "last_seen_seconds": None}
    status = "ok" if age <= STALE_HEARTBEAT_SECONDS else "stale"
    return {"status": status, "last_seen_seconds": round(age, 1)}
