"""Processing: N events pre-queued, then drained by Fluxa's worker or by the raw loop.

Also counts, end to end (ingest included), the SQS and S3 requests (the emulator's own
request log) and database commits (pg_stat_database.xact_commit) per 1,000 events, and
samples the worker's resident memory.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa

from api.app import create_app
from bench import raw_loop
from bench.infra import Infra, rss_mb, stop
from bench.measure import Comparison
from config import Settings
from fluxa.infra.db import libpq_url, make_engine
from launcher.emulator import RequestRecording

BATCH = 100


@dataclass(frozen=True)
class ProcessingOptions:
    rounds: int
    events: int
    concurrency: int
    count_events: int


@dataclass(frozen=True)
class Drained:
    events_per_second: float
    rss_mb_start: float = 0.0
    rss_mb_end: float = 0.0


def run(infra: Infra, options: ProcessingOptions) -> list[Comparison]:
    speed = Comparison("processing, pre-queued", "events/s", True, "≥ 0.80")
    rss: list[tuple[float, float]] = []
    for _ in range(options.rounds):
        fluxa = _fluxa_round(infra, options.events, options.concurrency)
        speed.fluxa.append(fluxa.events_per_second)
        rss.append((fluxa.rss_mb_start, fluxa.rss_mb_end))
        speed.baseline.append(_raw_round(infra, options.events, options.concurrency))
    speed.extra["worker_rss_mb_start_end"] = rss
    return [speed, *_request_counts(infra, options)]


def _prepare(infra: Infra, events: int) -> tuple[dict[str, str], Settings, str]:
    """A fresh database and queues with `events` events queued through the API."""
    database = infra.fresh_database()
    env = infra.environ(database)
    settings = infra.settings(env)
    enqueue(infra, settings, events)
    return env, settings, database


def enqueue(
    infra: Infra, settings: Settings, events: int, source: str = "bench", client_ids: bool = False
) -> None:
    """`events` events through the API (in process), in batches of BATCH, from `source`;
    with `client_ids`, each with an id of the client's (else Fluxa makes them)."""
    client = create_app(settings).test_client()
    token = infra.issuer.mint("bench-client", scopes=("fluxa/events.write",))
    for n in range(events // BATCH):
        batch = [
            {"type": "trade.executed", "source": source, "occurred_at": "2026-11-01T12:00:00Z",
             "payload": {"symbol": "AAPL", "qty": 10, "price": "101.25", "n": n, "i": i}}
            for i in range(BATCH)
        ]  # fmt: skip
        for i, event in enumerate(batch if client_ids else []):
            event["event_id"] = f"{source}-{n}-{i}"
        response = client.post(
            "/v1/events/batch", json={"events": batch}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 202, response.get_json()


def _await_all(count: Callable[[], int], total: int, on_first: Callable[[], None]) -> None:
    """Wait until all `total` rows are in, calling `on_first` when the first arrive."""
    while count() == 0:
        time.sleep(0.05)
    on_first()
    while count() < total:
        time.sleep(0.05)


def _counter(
    database: str, table: str, source: str | None = None
) -> tuple[sa.Engine, Callable[[], int]]:
    engine = make_engine(database, pool_size=1)
    where = "WHERE source = :source" if source else ""

    def count() -> int:
        with engine.connect() as conn:
            query = sa.text(f"SELECT count(*) FROM {table} {where}")
            return conn.execute(query, {"source": source}).scalar_one()

    return engine, count


def source_counter(database: str, source: str) -> tuple[sa.Engine, Callable[[], int]]:
    """An engine and a count of the events of `source` stored so far."""
    return _counter(database, "events", source)


def _rate_from_commit_times(engine: sa.Engine, table: str, source: str | None = None) -> float:
    """Events per second between the first and the last message's commit (the first
    message's own events excluded: its processing time is not in the span)."""
    rows_of = f"(SELECT processed_at FROM {table} WHERE source = :source)" if source else table
    with engine.connect() as conn:
        rows, first, span = conn.execute(sa.text(
            f"SELECT count(*), count(*) FILTER (WHERE processed_at = min_at),"
            f" extract(epoch FROM max(processed_at) - min(processed_at))"
            f" FROM {rows_of} r, (SELECT min(processed_at) AS min_at FROM {rows_of} f) m"
        ), {"source": source}).one()  # fmt: skip
    return (rows - first) / float(span) if span else float("nan")


def source_rate(engine: sa.Engine, source: str) -> float:
    """The processing rate of the events of `source` (see `_rate_from_commit_times`)."""
    return _rate_from_commit_times(engine, "events", source)


def _fluxa_round(infra: Infra, events: int, concurrency: int) -> Drained:
    env, settings, database = _prepare(infra, events)
    engine, count = _counter(database, "events")
    worker = infra.worker(env, settings, concurrency)
    start_rss: list[float] = []
    try:
        _await_all(count, events, lambda: start_rss.append(rss_mb(worker.pid)))
        return Drained(_rate_from_commit_times(engine, "events"), start_rss[0], rss_mb(worker.pid))
    finally:
        stop(worker)
        engine.dispose()


def _raw_round(infra: Infra, events: int, concurrency: int) -> float:
    _, settings, database = _prepare(infra, events)
    with psycopg.connect(libpq_url(database), autocommit=True) as conn:
        conn.execute(raw_loop.CREATE)
    engine, count = _counter(database, "bench_raw_events")
    url = f"{settings.sqs_queue_url_prefix}/{settings.input_queue}"
    context = multiprocessing.get_context("spawn")
    loops = [
        context.Process(target=raw_loop.run_until_empty, args=(settings, url, libpq_url(database)))
        for _ in range(concurrency)
    ]
    for loop in loops:
        loop.start()
    try:
        _await_all(count, events, lambda: None)
        return _rate_from_commit_times(engine, "bench_raw_events")
    finally:
        for loop in loops:
            loop.join(timeout=30)
        engine.dispose()


def _request_counts(infra: Infra, options: ProcessingOptions) -> list[Comparison]:
    """Per 1,000 events end to end: SQS requests, S3 PUTs, database commits."""
    n = options.count_events
    figures = {
        side: _counted(infra, n, options.concurrency, fluxa=side == "fluxa")
        for side in ("fluxa", "baseline")
    }
    rows = []
    for name, key, target in [
        ("SQS requests per 1,000 events", "sqs", "≤ 30"),
        ("S3 PUTs per 1,000 events", "s3_puts", "≤ 10"),
        ("database commits per 1,000 events", "commits", "≤ 20"),
    ]:
        row = Comparison(name, "requests", False, target)
        row.fluxa.append(figures["fluxa"][key] * 1000 / n)
        row.baseline.append(figures["baseline"][key] * 1000 / n)
        row.extra["detail"] = {side: f["detail"] for side, f in figures.items()}
        row.extra["fluxa_start_up"] = figures["fluxa"]["start_up"]
        rows.append(row)
    return rows


def _commits(database: str) -> int:
    with psycopg.connect(libpq_url(database), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        return conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]


def _counted(infra: Infra, events: int, concurrency: int, *, fluxa: bool) -> dict:
    database = infra.fresh_database()
    env = infra.environ(database)
    settings = infra.settings(env)
    table = "events" if fluxa else "bench_raw_events"
    worker, start_up, warm_up = None, {}, 0
    if fluxa:
        # A worker's start-up requests (queue attributes, the first polls) are paid once
        # per process, not per event: a warm-up batch is counted apart.
        with RequestRecording(infra.moto) as recording:
            worker = infra.worker(env, settings, concurrency)
            warm_up = BATCH
            enqueue(infra, settings, warm_up)
            _await_rows(database, table, warm_up)
        start_up = dict(recording.counts())
    else:
        with psycopg.connect(libpq_url(database), autocommit=True) as conn:
            conn.execute(raw_loop.CREATE)
    time.sleep(1.0)  # let earlier statistics settle before the baseline reading
    before = _commits(database)
    with RequestRecording(infra.moto) as recording:
        enqueue(infra, settings, events)
        if not fluxa:
            url = f"{settings.sqs_queue_url_prefix}/{settings.input_queue}"
            worker = multiprocessing.get_context("spawn").Process(
                target=raw_loop.run_until_empty, args=(settings, url, libpq_url(database))
            )
            worker.start()
        _await_rows(database, table, warm_up + events)
        if fluxa:
            stop(worker)
        else:
            worker.join(timeout=30)
    time.sleep(1.0)  # backends flush their statistics at most once a second
    commits = _commits(database) - before - 2  # our two readings
    counts = recording.counts()
    sqs = sum(v for k, v in counts.items() if k.startswith("SQS"))
    return {"sqs": sqs, "s3_puts": counts["S3 PUT"], "commits": commits,
            "detail": dict(counts), "start_up": start_up}  # fmt: skip


def _await_rows(database: str, table: str, rows: int) -> None:
    with psycopg.connect(libpq_url(database)) as conn:  # one transaction for all the polls
        while conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] < rows:
            time.sleep(0.1)
