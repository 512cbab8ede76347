"""Scale (issue 26): Fluxa with `rows` events already stored (spread over the last `days`
days, one partition a day, as under a retention of that many days) against Fluxa with an
empty `events`, in one run. "fluxa" is the full database, "baseline" the empty one.

- processing: events pre-queued through the API, drained by a real worker, with ids
  Fluxa makes and with client-chosen ones (checked over a week of partitions, locked);
- ingest: batches through the API in process (the API never reads `events`: the
  figure shows what else grows with it, and that nothing does);
- reads: `GET /v1/events/{id}` (a UUIDv7 id: its day's partition) and a list page;
- retention: one partition detached and dropped while a writer inserts as the
  processor does: the time it took, the writer's failures and the rows lost;
- size: bytes of table and indexes per million events;
- partitioned against unpartitioned: the same rows copied into a plain table with the
  same indexes (`events_flat`): insert rate and lookup by id on each.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import threading
import time
import uuid
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from uuid_utils import uuid7

from api.app import create_app
from bench.infra import Infra, stop
from bench.measure import Comparison, percentile
from bench.processing import enqueue, source_counter, source_rate
from fluxa.events import repository
from fluxa.events.ids import EventKey
from fluxa.events.partition_repository import list_partitions, make_partitions_now
from fluxa.events.partitions import days_ahead
from fluxa.events.retention import maintain
from fluxa.infra.db import libpq_url, make_engine, transaction

BATCH = 100
SAMPLES = 200
COLUMNS = ["event_id", "type", "source", "occurred_at", "accepted_at", "processed_at",
           "payload_sha256", "payload_size", "archive_key", "archive_offset"]  # fmt: skip


@dataclass(frozen=True)
class ScaleOptions:
    rounds: int
    rows: int
    days: int
    events: int
    concurrency: int


def run(infra: Infra, options: ScaleOptions) -> list[Comparison]:
    full, empty = infra.fresh_database(), infra.fresh_database()
    ids = prefill(full, options.rows, options.days)
    small = prefill(empty, 10_000, 1)  # full pages to read back, of every source
    label = f"{options.rows:,} rows vs empty"
    results = [
        _processing(infra, full, empty, options, label, client_ids=False),
        _processing(infra, full, empty, options, label, client_ids=True),
        _ingest(infra, full, empty, options, label),
        *_reads(infra, {"fluxa": (full, ids), "baseline": (empty, small)}, label),
        _sizes(full, options.rows),
        *_flat_against_partitioned(full, ids, options),
        _retention_while_writing(full, options),
    ]
    return results


def prefill(database: str, rows: int, days: int) -> list[str]:
    """COPY `rows` processed events in, arriving evenly over the last `days` days, with
    UUIDv7 ids of their arrival; a sample of 1,000 of their ids."""
    end = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    start = end - dt.timedelta(days=days)
    engine = make_engine(database, pool_size=1)
    make_partitions_now(engine, [(start + dt.timedelta(days=d)).date() for d in range(days + 1)])
    engine.dispose()
    step, sample, every = (end - start) / rows, [], max(rows // 1000, 1)
    statement = f"COPY events ({', '.join(COLUMNS)}) FROM STDIN"
    with psycopg.connect(libpq_url(database)) as conn, conn.cursor().copy(statement) as copy:
        for n in range(rows):
            at = start + step * n
            event_id = str(uuid7(nanoseconds=int(at.timestamp() * 1e9)))
            if n % every == 0:
                sample.append(event_id)
            archive = f"archive/{n // 100}.jsonl"
            copy.write_row([event_id, "trade.executed", f"source-{n % 50}", at, at, at,
                            "0" * 64, 100, archive, (n % 100) * 101])  # fmt: skip
    with psycopg.connect(libpq_url(database), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE events")  # as autovacuum would have, over the days
    return sample


def _processing(
    infra: Infra, full: str, empty: str, options: ScaleOptions, label: str, client_ids: bool
) -> Comparison:
    ids = "client-chosen ids" if client_ids else "ids Fluxa makes"
    row = Comparison(f"processing, pre-queued, {ids}, {label}", "events/s", True, "≥ 0.90")
    for _ in range(options.rounds):
        for side, database in (("fluxa", full), ("baseline", empty)):
            env = infra.environ(database)
            settings = infra.settings(env)
            source = f"bench-{uuid.uuid4().hex[:8]}"
            enqueue(infra, settings, options.events, source=source, client_ids=client_ids)
            engine, count = source_counter(database, source)
            worker = infra.worker(env, settings, options.concurrency)
            try:
                while count() < options.events:
                    time.sleep(0.1)
                getattr(row, side).append(source_rate(engine, source))
            finally:
                stop(worker)
                engine.dispose()
    return row


def _ingest(infra: Infra, full: str, empty: str, options: ScaleOptions, label: str) -> Comparison:
    row = Comparison(f"ingest (API in process, batches of 100), {label}", "events/s", True,
                     "≥ 0.90")  # fmt: skip
    token = infra.issuer.mint("bench-client", scopes=("fluxa/events.write",))
    headers = {"Authorization": f"Bearer {token}"}
    clients = {}
    for side, database in (("fluxa", full), ("baseline", empty)):
        clients[side] = create_app(infra.settings(infra.environ(database))).test_client()
    batch = {"events": [
        {"type": "trade.executed", "source": "bench", "occurred_at": "2026-11-01T12:00:00Z",
         "payload": {"symbol": "AAPL", "qty": 10, "i": i}} for i in range(BATCH)
    ]}  # fmt: skip
    for _ in range(options.rounds):
        for side, client in clients.items():
            started = time.perf_counter()
            for _ in range(20):
                response = client.post("/v1/events/batch", json=batch, headers=headers)
                assert response.status_code == 202
            getattr(row, side).append(20 * BATCH / (time.perf_counter() - started))
    return row


def _reads(infra: Infra, sides: dict[str, tuple[str, list[str]]], label: str) -> list[Comparison]:
    token = infra.issuer.mint("bench-reader-client", scopes=("fluxa/events.read",))
    headers = {"Authorization": f"Bearer {token}"}
    clients = {
        side: (create_app(infra.settings(infra.environ(database))).test_client(), ids)
        for side, (database, ids) in sides.items()
    }
    rows = {
        kind: Comparison(f"{name}, {label}", "ms (p50)", False, "≤ 1.20")
        for kind, name in (
            ("one", "GET /v1/events/{id}"),
            ("page", "GET /v1/events?limit=100"),
            ("source", "GET /v1/events?source=…&limit=100"),
        )
    }
    timings: dict[tuple[str, str], list[float]] = {}
    for n in range(SAMPLES):
        for side, (client, ids) in clients.items():
            for kind, path in (
                ("one", f"/v1/events/{ids[n % len(ids)]}"),
                ("page", "/v1/events?limit=100"),
                ("source", f"/v1/events?source=source-{n % 50}&limit=100"),
            ):
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                timings.setdefault((kind, side), []).append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.get_json())
    for (kind, side), values in timings.items():
        getattr(rows[kind], side).append(percentile(values, 50))
        rows[kind].extra[f"{side} p95 ms"] = round(percentile(values, 95), 2)
    return list(rows.values())


def _sizes(database: str, rows: int) -> Comparison:
    row = Comparison("database bytes per million events (table + indexes)", "MB", False,
                     "reported")  # fmt: skip
    with psycopg.connect(libpq_url(database)) as conn:
        total = conn.execute(
            "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('events')"
        ).fetchone()[0]
        indexes = conn.execute(
            "SELECT sum(pg_indexes_size(relid)) FROM pg_partition_tree('events')"
        ).fetchone()[0]
    row.fluxa.append(total / rows)  # MB per million rows is bytes per row
    row.extra["of which indexes, MB per million"] = round(indexes / rows, 1)
    return row


def _flat_against_partitioned(
    database: str, ids: list[str], options: ScaleOptions
) -> list[Comparison]:
    """The same rows in a plain table with the same indexes: insert and lookup by id."""
    with psycopg.connect(libpq_url(database), autocommit=True) as conn:
        conn.execute("CREATE TABLE events_flat (LIKE events INCLUDING ALL)")
        conn.execute("INSERT INTO events_flat SELECT * FROM events")
        conn.execute("VACUUM ANALYZE events_flat")
    inserts = Comparison(f"inserts, partitioned vs one table, {options.rows:,} rows",
                         "rows/s", True, "≥ 0.90")  # fmt: skip
    lookups = Comparison(f"lookup by UUIDv7 id, partitioned vs one table, {options.rows:,} rows",
                         "ms (p50)", False, "≤ 1.20")  # fmt: skip
    engine = make_engine(database)
    for _ in range(options.rounds):
        for side, table in (("fluxa", "events"), ("baseline", "events_flat")):
            getattr(inserts, side).append(_insert_rate(engine, table, 20_000))
    for side, table in (("fluxa", "events"), ("baseline", "events_flat")):
        getattr(lookups, side).append(_lookup_p50(engine, table, ids))
    engine.dispose()
    return [inserts, lookups]


def _insert_rate(engine: sa.Engine, table: str, count: int) -> float:
    statement = sa.text(
        f"INSERT INTO {table} SELECT * FROM"
        f" jsonb_populate_recordset(NULL::{table}, CAST(:rows AS jsonb)) ON CONFLICT DO NOTHING"
    )
    started = time.perf_counter()
    for _ in range(count // BATCH):
        now = dt.datetime.now(dt.UTC).isoformat()
        rows = [_row(now) for _ in range(BATCH)]
        with transaction(engine) as conn:
            conn.execute(statement, {"rows": _json(rows)})
    return count / (time.perf_counter() - started)


def _lookup_p50(engine: sa.Engine, table: str, ids: list[str]) -> float:
    if table == "events":  # what repository.get_event does
        lookup = lambda conn, event_id: repository.get_event(conn, event_id)  # noqa: E731
    else:
        query = sa.text(
            f"SELECT * FROM {table} WHERE event_id = :id ORDER BY accepted_at DESC LIMIT 1"
        )  # get_event's query, less its time range (one table has nothing to prune)
        lookup = lambda conn, event_id: conn.execute(query, {"id": event_id}).first()  # noqa: E731
    timings = []
    with engine.connect() as conn:
        for n in range(SAMPLES * 5):
            started = time.perf_counter()
            assert lookup(conn, ids[n % len(ids)]) is not None
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _retention_while_writing(database: str, options: ScaleOptions) -> Comparison:
    """Drop the oldest day while a writer inserts 100-row batches as the processor does."""
    row = Comparison("retention: one partition dropped while a writer inserts", "s", False,
                     "< 1 s, 0 failed, 0 lost")  # fmt: skip
    engine = make_engine(database)
    make_partitions_now(engine, days_ahead(dt.datetime.now(dt.UTC).date()))
    writer = _Writer(engine)
    writer.start()
    while writer.batches < 20:
        time.sleep(0.05)
    with engine.connect() as conn:
        oldest = list_partitions(conn)[0]
    # A retention whose cutoff falls just after the oldest day's end: that day alone goes.
    now = dt.datetime.now(dt.UTC)
    retention = (now - oldest.upper).days
    started = time.perf_counter()
    report = maintain(engine, retention, now=now)
    row.fluxa.append(time.perf_counter() - started)
    time.sleep(1)
    writer.stop.set()
    writer.join()
    with engine.connect() as conn:
        stored = set(repository.existing_ids(conn, writer.keys))
    row.extra.update({
        "dropped": report.dropped,
        "writer batches": writer.batches,
        "writer failures": writer.failures,
        "rows lost": len(writer.keys) - len(stored),
        "slowest writer batch ms during the run": round(writer.slowest * 1000, 1),
    })  # fmt: skip
    engine.dispose()
    return row


class _Writer(threading.Thread):
    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(daemon=True)
        self.engine, self.stop = engine, threading.Event()
        self.batches, self.failures, self.slowest, self.keys = 0, 0, 0.0, []

    def run(self) -> None:
        while not self.stop.is_set():
            now = dt.datetime.now(dt.UTC)
            rows = [{**_row(now), "accepted_at": now, "processed_at": now} for _ in range(BATCH)]
            started = time.perf_counter()
            try:
                with transaction(self.engine) as conn:
                    repository.insert_events(conn, rows)
            except Exception:  # counted: the figure is how many
                self.failures += 1
                continue
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self.batches += 1
            self.keys += [EventKey(r["event_id"], now, False) for r in rows]


def _row(at: dt.datetime | str) -> dict[str, object]:
    moment = at if isinstance(at, str) else at.isoformat()
    return {
        "event_id": str(uuid7()), "type": "trade.executed", "source": "bench-writer",
        "occurred_at": moment, "accepted_at": moment, "processed_at": moment,
        "status": "processed", "payload_sha256": "0" * 64, "payload_size": 100,
        "archive_key": "archive/bench.jsonl", "archive_offset": 0,
    }  # fmt: skip


def _json(rows: list[dict[str, object]]) -> str:
    return json.dumps(rows, default=str)
