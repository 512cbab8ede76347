"""Imports: a 10 MiB fluxa-csv file of fills, from `POST /v1/imports` to `done` through
the API server, S3, the stats queue and a worker (Fluxa), against the floor of that work
in one process (the baseline): read the same file, walk its fills into trades, insert
them in one transaction — no upload, no queue, no fills table, no duplicate check."""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from dataclasses import dataclass

import requests

from bench.infra import Infra, stop
from bench.measure import Comparison
from fluxa.imports.formats import read_fills
from fluxa.imports.positions import trades_from_fills
from fluxa.imports.service import MAX_IMPORT_BYTES
from fluxa.infra.db import make_engine, transaction
from fluxa.trades import repository as trades_repository
from launcher.waiting import wait_until

HEADER = "executed_at,account,symbol,side,quantity,price,fees,execution_id,multiplier,currency"


@dataclass(frozen=True)
class ImportOptions:
    rounds: int
    concurrency: int


def fills_file(limit: int = MAX_IMPORT_BYTES, seed: int = 7) -> bytes:
    """A fluxa-csv file just under `limit` bytes: 2 accounts × 40 symbols trading in
    round trips of 1–4 entries and 1–4 exits, a fill every second."""
    rng = random.Random(seed)
    at = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
    lines, size, n = [HEADER], len(HEADER) + 1, 0
    positions: dict[tuple[str, str], int] = {}
    while True:
        book = (f"ACC-{rng.randrange(2)}", f"SYM{rng.randrange(40):02d}")
        held = positions.get(book, 0)
        side = "buy" if held == 0 or (held < 12 and rng.random() < 0.5) else "sell"
        quantity = rng.randint(1, 4) if side == "buy" else rng.randint(1, held)
        positions[book] = held + (quantity if side == "buy" else -quantity)
        price = f"{rng.uniform(20, 500):.2f}"
        line = (f"{(at + dt.timedelta(seconds=n)).isoformat()},{book[0]},{book[1]},{side},"
                f"{quantity},{price},0.35,e-{n:08d},1,USD")  # fmt: skip
        if size + len(line) + 1 > limit:
            return "\n".join(lines).encode()
        lines.append(line)
        size, n = size + len(line) + 1, n + 1


def run(infra: Infra, options: ImportOptions) -> list[Comparison]:
    data = fills_file()
    fills = data.count(b"\n")
    row = Comparison(
        f"a {len(data) / 2**20:.1f} MiB import ({fills:,} fills): upload to done, "
        "against reading and inserting its trades in one process",
        "s", False, "done within the task time limit (300 s)",
    )  # fmt: skip
    database = infra.fresh_database()
    env = infra.environ(database)
    settings = infra.settings(env)
    api, url = infra.api_server("api.asgi:app", env, workers=1)
    worker = infra.worker(env, settings, options.concurrency)
    try:
        for _ in range(options.rounds):
            row.fluxa.append(_through_fluxa(infra, url, data))
            row.baseline.append(_in_one_process(database, data))
    finally:
        stop(worker)
        stop(api)
    row.extra["fills/s through Fluxa"] = round(fills / min(row.fluxa))
    return [row]


def _through_fluxa(infra: Infra, url: str, data: bytes) -> float:
    headers = {"Authorization": f"Bearer {infra.issuer.mint(f'bench-{uuid.uuid4().hex[:8]}')}"}
    started = time.perf_counter()
    response = requests.post(
        f"{url}/v1/imports", headers=headers, timeout=120,
        files={"file": ("fills.csv", data)}, data={"format": "fluxa-csv"},
    )  # fmt: skip
    response.raise_for_status()
    location = url + response.headers["Location"]

    def done() -> bool:
        status = requests.get(location, headers=headers, timeout=30).json()["status"]
        assert status != "failed", requests.get(location, headers=headers, timeout=30).json()
        return status == "done"

    wait_until(done, timeout=600, interval=0.25, what="the import to finish")
    return time.perf_counter() - started


def _in_one_process(database: str, data: bytes) -> float:
    engine = make_engine(database)
    started = time.perf_counter()
    read = read_fills("fluxa-csv", data, account="", timezone=None)
    trades = trades_from_fills(read.fills, f"floor-{uuid.uuid4().hex[:8]}")
    with transaction(engine) as conn:
        trades_repository.insert_many(conn, trades)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed
