"""Stats freshness: how long after a trade write `GET /v1/stats` is current again, against
the rebuild alone; and how many rebuilds a burst of writes costs (the coalescing).

Where the time goes comes from the work trail: the throttle's delay recorded with the
publish, and publish → rebuilt (the queue and the worker's poll, plus the rebuild).
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass

import requests
from sqlalchemy import select

from bench.infra import Infra, stop
from bench.measure import Comparison
from fluxa.infra.db import make_engine
from fluxa.stats.rebuild import rebuild_user
from fluxa.trades.trail import work_trail

TRADE = {
    "symbol": "AAPL", "side": "long", "quantity": "10", "entry_price": "100",
    "entered_at": "2026-11-20T14:30:00Z", "exit_price": "105",
    "exited_at": "2026-11-20T16:00:00Z", "fees": "1",
}  # fmt: skip


@dataclass(frozen=True)
class FreshnessOptions:
    rounds: int
    burst: int = 40


def run(infra: Infra, options: FreshnessOptions) -> list[Comparison]:
    database = infra.fresh_database()
    env = infra.environ(database)
    settings = infra.settings(env)
    api, url = infra.api_server("api.asgi:app", env, workers=2)
    worker = infra.worker(env, settings, concurrency=2)
    engine = make_engine(database, pool_size=2)
    fresh = Comparison("stats fresh after a trade write", "s", False, "< 1 s")
    try:
        for _ in range(max(options.rounds, 5)):
            user = f"fresh-{uuid.uuid4().hex[:8]}"
            fresh.fluxa.append(_write_until_fresh(infra, url, user))
            started = time.perf_counter()
            rebuild_user(engine, user)  # already current: the snapshot and watermark check
            fresh.baseline.append(time.perf_counter() - started)
        fresh.extra |= _breakdown(engine)
        fresh.extra |= _burst(infra, url, engine, options.burst)
    finally:
        stop(worker)
        stop(api)
    return [fresh]


def _headers(infra: Infra, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {infra.issuer.mint(user, ttl_seconds=3600)}"}


def _current(url: str, headers: dict[str, str]) -> bool:
    stats = requests.get(f"{url}/v1/stats", headers=headers, timeout=10).json()
    return bool(stats["computed_at"]) and not stats["stale"]


def _write_until_fresh(infra: Infra, url: str, user: str, timeout: float = 30) -> float:
    headers = _headers(infra, user)
    response = requests.post(f"{url}/v1/trades", json=TRADE, headers=headers, timeout=10)
    response.raise_for_status()
    answered = time.perf_counter()
    while time.perf_counter() - answered < timeout:
        if _current(url, headers):
            return time.perf_counter() - answered
        time.sleep(0.01)
    raise TimeoutError(f"stats of {user} not current after {timeout}s")


def _breakdown(engine) -> dict[str, float]:
    """Medians over every write so far: throttle delay, write → publish, publish → rebuilt."""
    with engine.connect() as conn:
        rows = conn.execute(select(work_trail).order_by(work_trail.c.at)).all()
    by_id: dict[str, dict[str, object]] = {}
    for row in rows:
        by_id.setdefault(row.correlation_id, {})[row.stage] = row
    spans = [
        (stages["stats_rebuild_published"], stages["trade_written"], stages["stats_rebuilt"])
        for stages in by_id.values()
        if {"trade_written", "stats_rebuild_published", "stats_rebuilt"} <= stages.keys()
    ]
    if not spans:
        return {}
    median = statistics.median
    return {
        "throttle_delay_s": median(p.detail["delay_seconds"] for p, _, _ in spans),
        "write_to_publish_s": median((p.at - w.at).total_seconds() for p, w, _ in spans),
        "publish_to_rebuilt_s": median((r.at - p.at).total_seconds() for p, _, r in spans),
    }


def _burst(infra: Infra, url: str, engine, writes: int) -> dict[str, float]:
    """`writes` updates of one trade back to back: how long, and how many rebuilds ran."""
    user = f"burst-{uuid.uuid4().hex[:8]}"
    headers = _headers(infra, user)
    trade = requests.post(f"{url}/v1/trades", json=TRADE, headers=headers, timeout=10).json()
    started = time.perf_counter()
    for version in range(1, writes + 1):
        requests.patch(
            f"{url}/v1/trades/{trade['id']}",
            json={"notes": f"n{version}", "version": version},
            headers=headers,
            timeout=10,
        ).raise_for_status()
    burst_seconds = time.perf_counter() - started
    while not _current(url, headers):
        time.sleep(0.05)
    settled = time.perf_counter() - started
    with engine.connect() as conn:
        rebuilds = conn.execute(
            select(work_trail.c.id).where(
                work_trail.c.subject == user, work_trail.c.stage == "stats_rebuilt"
            )
        ).all()
    return {
        "burst_writes": writes + 1,
        "burst_seconds": round(burst_seconds, 2),
        "burst_rebuilds": len(rebuilds),
        "burst_fresh_after_last_write_s": round(settled - burst_seconds, 2),
    }
