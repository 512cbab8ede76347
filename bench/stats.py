"""Stats: Fluxa's full rebuild against one SQL aggregate computing the core figures."""

from __future__ import annotations

import random
import time
import tracemalloc
from dataclasses import dataclass

import psycopg

from bench.data import copy_trades, trades_for
from bench.infra import Infra
from bench.measure import Comparison
from fluxa.infra.db import libpq_url, make_engine, transaction
from fluxa.stats import outbox
from fluxa.stats.rebuild import rebuild_user, rebuild_users
from fluxa.stats.relay import USERS_PER_MESSAGE

# Realized net per closed trade (partial closes, final exit, fees), then the core figures
# by user: closed count, wins, losses, gross profit, gross loss, net P&L.
CORE_SQL = """
WITH partials AS (
  SELECT t.id, t.user_id, t.side, t.quantity, t.entry_price, t.exit_price, t.fees,
         coalesce(sum((pc->>'quantity')::numeric), 0) AS qty,
         coalesce(sum((pc->>'quantity')::numeric * ((pc->>'price')::numeric - t.entry_price)), 0)
           AS gross,
         coalesce(sum((pc->>'fees')::numeric), 0) AS partial_fees
  FROM trades t LEFT JOIN LATERAL jsonb_array_elements(t.partial_closes) pc ON true
  WHERE t.status = 'closed' {user_filter}
  GROUP BY t.id
), closed AS (
  SELECT user_id,
         CASE WHEN side = 'long' THEN 1 ELSE -1 END
           * (gross + (quantity - qty) * (exit_price - entry_price)) - fees - partial_fees AS net
  FROM partials
)
SELECT user_id, count(*), count(*) FILTER (WHERE net > 0), count(*) FILTER (WHERE net < 0),
       coalesce(sum(net) FILTER (WHERE net > 0), 0), coalesce(sum(net) FILTER (WHERE net < 0), 0),
       sum(net)
FROM closed GROUP BY user_id
"""


@dataclass(frozen=True)
class StatsOptions:
    rounds: int
    one_user_trades: int
    all_trades: int
    all_users: int


def run(infra: Infra, options: StatsOptions) -> list[Comparison]:
    rng = random.Random(7)
    database = infra.fresh_database()
    url = libpq_url(database)
    copy_trades(url, trades_for("bench-one", options.one_user_trades, rng))
    per_user = max(1, options.all_trades // options.all_users)
    users = [f"bench-{n:05d}" for n in range(options.all_users)]
    copy_trades(url, (t for user in users for t in trades_for(user, per_user, rng)))
    engine = make_engine(database, pool_size=2)
    _written(engine, ["bench-one", "bench-tenth", *users])
    one = Comparison(f"stats rebuild, one user, {options.one_user_trades:,} trades", "seconds",
                     False, "≤ 2.00")  # fmt: skip
    every = Comparison(f"stats rebuild-all, {per_user * len(users):,} trades, "
                       f"{len(users):,} users", "seconds", False, "≤ 3.00")  # fmt: skip
    for _ in range(options.rounds):
        _forget_stats(url)  # else a rebuild finds its stats current and skips the work
        one.fluxa.append(_timed(lambda: rebuild_user(engine, "bench-one")))
        one.baseline.append(_timed(lambda: _core_sql(url, "bench-one")))
        every.fluxa.append(_timed(lambda: _rebuild_all(engine, users)))
        every.baseline.append(_timed(lambda: _core_sql(url, None)))
    _forget_stats(url)
    copy_trades(url, trades_for("bench-tenth", options.one_user_trades // 10, rng))
    one.extra["heap_peak_mb_tenth_and_full"] = [
        _heap_peak_mb(lambda: rebuild_user(engine, "bench-tenth")),
        _heap_peak_mb(lambda: rebuild_user(engine, "bench-one")),
    ]
    every.extra["heap_peak_mb_one_segment"] = _heap_peak_mb(
        lambda: rebuild_users(engine, users[:USERS_PER_MESSAGE])
    )
    engine.dispose()
    return [one, every]


def _written(engine, users: list[str]) -> None:
    """Mark the users' trades written, as the API's writes do: a rebuild skips a user with
    no mark (one who never wrote, or was erased)."""
    with transaction(engine) as conn:
        outbox.mark_stale_many(conn, users)


def _heap_peak_mb(work) -> float:
    """The most Python heap `work` held at once (tracemalloc; not a timed run)."""
    tracemalloc.start()
    try:
        work()
        return round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
    finally:
        tracemalloc.stop()


def _rebuild_all(engine, users: list[str]) -> None:
    """What the rebuild-all's messages do, one after another: a segment of users each."""
    for i in range(0, len(users), USERS_PER_MESSAGE):
        rebuild_users(engine, users[i : i + USERS_PER_MESSAGE])


def _forget_stats(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM trade_stats")


def _timed(work) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def _core_sql(url: str, user: str | None) -> list[tuple]:
    sql = CORE_SQL.format(user_filter="AND t.user_id = %(user)s" if user else "")
    with psycopg.connect(url) as conn:
        return conn.execute(sql, {"user": user}).fetchall()
