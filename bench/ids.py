"""Event ids: inserting under time-ordered UUIDv7 keys (Fluxa) against random UUIDv4 keys
(the baseline), into an `events` table that already holds many rows, as the processor
writes them: 100 rows a transaction. A random key lands anywhere in the primary key's
B-tree, so once the index outgrows memory each insert may read a cold page; a UUIDv7 key
lands at the index's right edge. The figure is rows a second; the extra says how large
each primary key index ended."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from bench.data import copy_events
from bench.infra import Infra
from bench.measure import Comparison
from fluxa.events import repository
from fluxa.events.ids import new_event_id
from fluxa.infra.db import libpq_url, make_engine, transaction

BATCH = 100


@dataclass(frozen=True)
class IdOptions:
    rounds: int
    prefill: int
    inserts: int


def run(infra: Infra, options: IdOptions) -> list[Comparison]:
    sides: dict[str, tuple[str, Callable[[], str]]] = {
        "fluxa": (infra.fresh_database(), new_event_id),
        "baseline": (infra.fresh_database(), lambda: str(uuid.uuid4())),
    }
    for database, new_id in sides.values():
        copy_events(libpq_url(database), options.prefill, new_id)
    row = Comparison(f"event inserts into {options.prefill:,} rows, UUIDv7 vs UUIDv4 keys",
                     "rows/s", True, "≥ 1.00")  # fmt: skip
    for _ in range(options.rounds):
        for side, (database, new_id) in sides.items():
            getattr(row, side).append(_insert_rate(database, new_id, options.inserts))
    for side, (database, _) in sides.items():
        with psycopg.connect(libpq_url(database)) as conn:
            size = conn.execute(  # a partitioned index is the sum of its partitions'
                "SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree('events_pkey')"
            ).fetchone()[0]
        row.extra[f"{side} primary key MB"] = round(size / 2**20, 1)
    return [row]


def _insert_rate(database: str, new_id: Callable[[], str], count: int) -> float:
    engine = make_engine(database)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        rows = [_row(new_id(), now, n) for n in range(start, min(start + BATCH, count))]
        with transaction(engine) as conn:
            repository.insert_events(conn, rows)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return count / elapsed


def _row(event_id: str, at: dt.datetime, n: int) -> dict[str, object]:
    return {
        "event_id": event_id, "type": "trade.executed", "source": f"source-{n % 50}",
        "occurred_at": at, "accepted_at": at, "status": "processed", "payload_sha256": "0" * 64,
        "payload_size": 100, "archive_key": f"archive/bench/{n // BATCH}.jsonl",
        "archive_offset": (n % BATCH) * 101,
    }  # fmt: skip
