"""Query: the first page against a page 1,000 pages deep (by cursor), over many rows."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import psycopg

from api.app import create_app
from bench.data import copy_events, copy_trades, trades_for
from bench.infra import Infra
from bench.measure import Comparison, percentile
from fluxa.infra.db import libpq_url
from fluxa.pagination import encode_cursor

LIMIT = 100
DEPTH = 1000  # pages
SAMPLES = 60


@dataclass(frozen=True)
class QueryOptions:
    rows: int


def run(infra: Infra, options: QueryOptions) -> list[Comparison]:
    database = infra.fresh_database()
    url = libpq_url(database)
    copy_events(url, options.rows)
    copy_trades(url, trades_for("bench-reader", options.rows, random.Random(3)))
    settings = infra.settings(infra.environ(database))
    client = create_app(settings).test_client()
    machine = infra.issuer.mint("bench-reader-client", scopes=("fluxa/events.read",))
    user = infra.issuer.mint("bench-reader")
    depth = min(DEPTH, options.rows // LIMIT - 1)
    with psycopg.connect(url) as conn:
        event = conn.execute(
            "SELECT occurred_at, event_id FROM events ORDER BY occurred_at DESC, event_id DESC"
            " OFFSET %s LIMIT 1",
            (depth * LIMIT - 1,),
        ).fetchone()
        trade = conn.execute(
            "SELECT entered_at, id FROM trades WHERE user_id = 'bench-reader'"
            " ORDER BY entered_at DESC, id DESC OFFSET %s LIMIT 1", (depth * LIMIT - 1,)
        ).fetchone()  # fmt: skip
    results = []
    for name, path, token, last in [
        ("GET /v1/events", "/v1/events", machine, event),
        ("GET /v1/trades", "/v1/trades", user, trade),
    ]:
        headers = {"Authorization": f"Bearer {token}"}
        first = f"{path}?limit={LIMIT}"
        deep = f"{first}&cursor={encode_cursor(last[0], str(last[1]))}"
        row = Comparison(f"{name}, page {depth:,} deep vs first, {options.rows:,} rows",
                         "ms (p50)", False, "≤ 1.20")  # fmt: skip
        timings: dict[str, list[float]] = {"fluxa": [], "baseline": []}
        for _ in range(SAMPLES):  # alternating deep and first
            for side, target in (("fluxa", deep), ("baseline", first)):
                began = time.perf_counter()
                response = client.get(target, headers=headers)
                timings[side].append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.get_json()
                assert len(response.get_json()["items"]) == LIMIT
        row.fluxa.append(percentile(timings["fluxa"], 50))
        row.baseline.append(percentile(timings["baseline"], 50))
        row.extra = {f"{side}_p99_ms": round(percentile(v, 99), 2) for side, v in timings.items()}
        results.append(row)
    return results
