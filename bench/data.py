"""Synthetic rows for the stats and query benchmarks, written in bulk."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal

import psycopg
import sqlalchemy as sa
from psycopg.types.json import Jsonb

from fluxa.events.partition_repository import make_partitions_now
from fluxa.trades import repository as trades_repository
from fluxa.trades.trade import PartialClose, Side, Trade

SYMBOLS = ["AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "META", "GOOG", "SPY", "QQQ", "IWM"]
START = dt.datetime(2024, 1, 2, 14, 30, tzinfo=dt.UTC)


def trades_for(user_id: str, count: int, rng: random.Random) -> Iterator[Trade]:
    """`count` trades: most closed, half with a partial close, some open."""
    for n in range(count):
        entered = START + dt.timedelta(minutes=17 * n)
        quantity = Decimal(rng.randint(1, 20) * 10)
        entry = Decimal(rng.randint(5000, 20000)) / 100
        partials: tuple[PartialClose, ...] = ()
        if rng.random() < 0.5:
            partials = (
                PartialClose(quantity / 2, entry + Decimal(rng.randint(-300, 300)) / 100,
                             entered + dt.timedelta(minutes=5), Decimal("0.50")),
            )  # fmt: skip
        closed = rng.random() < 0.85
        yield Trade(
            id=str(uuid.uuid4()),
            user_id=user_id,
            symbol=rng.choice(SYMBOLS),
            side=rng.choice([Side.LONG, Side.SHORT]),
            quantity=quantity,
            entry_price=entry,
            entered_at=entered,
            fees=Decimal("1.00"),
            exit_price=entry + Decimal(rng.randint(-400, 400)) / 100 if closed else None,
            exited_at=entered + dt.timedelta(minutes=10) if closed else None,
            partial_closes=partials,
        )


def copy_trades(libpq_url: str, trades: Iterator[Trade]) -> int:
    """COPY the trades in (rows as the API writes them); the number written."""
    rows = (trades_repository.to_row(trade) for trade in trades)
    first = next(rows, None)
    if first is None:
        return 0
    written = 0
    with psycopg.connect(libpq_url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY trades ({', '.join(first)}) FROM STDIN") as copy:
            for row in itertools.chain([first], rows):
                row["partial_closes"] = Jsonb(row["partial_closes"])
                copy.write_row(list(row.values()))
                written += 1
        conn.execute("ANALYZE trades")
    return written


def copy_events(
    libpq_url: str, count: int, new_id: Callable[[], str] = lambda: str(uuid.uuid4())
) -> None:
    """COPY `count` persisted events in, one a second from START (into the partitions of
    those days), one archive object per 100 as the worker writes."""
    engine = sa.create_engine(libpq_url.replace("postgresql://", "postgresql+psycopg://", 1))
    last = (START + dt.timedelta(seconds=count)).date()
    make_partitions_now(engine, [START.date() + dt.timedelta(days=d)
                                 for d in range((last - START.date()).days + 1)])  # fmt: skip
    engine.dispose()
    columns = ["event_id", "type", "source", "occurred_at", "accepted_at", "payload_sha256",
               "payload_size", "archive_key", "archive_offset"]  # fmt: skip
    with psycopg.connect(libpq_url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY events ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(count):
                at = START + dt.timedelta(seconds=n)
                archive = f"archive/{n // 100}.jsonl"
                copy.write_row([new_id(), "trade.executed", f"source-{n % 50}", at, at,
                                "0" * 64, 100, archive, (n % 100) * 101])  # fmt: skip
        conn.execute("ANALYZE events")
