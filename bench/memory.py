"""Memory: the worker's and the API's resident memory over a long run (100,000 events).

Events go through the API server over HTTP while a Celery worker drains them, as in
production. The sender stays at most `AHEAD` events ahead of what is persisted, because
the emulator slows with queue depth. Memory is read once warm (after `WARM_SHARE` of the
events: imports done, pools and caches filled) and again at the end; the ratio is the
growth between the two.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import requests
import sqlalchemy as sa

from bench.infra import Infra, rss_mb, stop
from bench.measure import Comparison
from fluxa.infra.db import make_engine

BATCH = 100
AHEAD = 3_000
WARM_SHARE = 0.1


@dataclass(frozen=True)
class MemoryOptions:
    events: int
    concurrency: int
    server_workers: int


def _body(n: int) -> bytes:
    events = [
        {"type": "trade.executed", "source": "bench-memory", "occurred_at": "2026-11-01T12:00:00Z",
         "payload": {"symbol": "AAPL", "qty": 10, "price": "101.25", "n": n, "i": i,
                     "id": uuid.uuid4().hex}}
        for i in range(BATCH)
    ]  # fmt: skip
    return json.dumps({"events": events}).encode()


def run(infra: Infra, options: MemoryOptions) -> list[Comparison]:
    """Send `options.events` through the API while the worker drains them; RSS warm and end."""
    database = infra.fresh_database()
    env = infra.environ(database)
    settings = infra.settings(env)
    api, url = infra.api_server("api.asgi:app", env, options.server_workers)
    worker = infra.worker(env, settings, options.concurrency)
    engine = make_engine(database, pool_size=1)
    token = infra.issuer.mint("bench-client", scopes=("fluxa/events.write",), ttl_seconds=7200)
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    warm: dict[str, float] = {}
    began = time.monotonic()
    try:
        for n in range(options.events // BATCH):
            sent = n * BATCH
            _wait_for(engine, sent - AHEAD)
            if not warm and sent >= options.events * WARM_SHARE:
                _wait_for(engine, sent)  # drained, so both sides are read at rest
                warm = {"worker": rss_mb(worker.pid), "api": rss_mb(api.pid)}
            response = session.post(f"{url}/v1/events/batch", data=_body(n), timeout=60)
            if response.status_code != 202:
                raise RuntimeError(
                    f"ingest refused a batch: {response.status_code} {response.text}"
                )
        _wait_for(engine, options.events)
        end = {"worker": rss_mb(worker.pid), "api": rss_mb(api.pid)}
    finally:
        stop(worker)
        stop(api)
        engine.dispose()
    seconds = time.monotonic() - began
    return [_growth(side, options, warm[side], end[side], seconds) for side in ("worker", "api")]


def _growth(
    side: str, options: MemoryOptions, warm: float, end: float, seconds: float
) -> Comparison:
    name = f"{side} RSS, end vs warm, {options.events:,} events"
    result = Comparison(name, "MiB", False, "≤ 1.10")
    result.fluxa.append(end)
    result.baseline.append(warm)  # the figure compared against: the same processes, warm
    result.extra["seconds"] = round(seconds, 1)
    return result


def _wait_for(engine: sa.Engine, persisted: int) -> None:
    """Until at least `persisted` events are in the table (checked every 50 ms)."""
    if persisted <= 0:
        return
    while True:
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() >= persisted:
                return
        time.sleep(0.05)
