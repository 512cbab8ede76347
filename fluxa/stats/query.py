"""Reading a user's stats for the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine

from fluxa.infra.db import translated_errors
from fluxa.stats import outbox
from fluxa.stats import repository as stats_repository
from fluxa.stats.calculator import calculate
from fluxa.trades import repository as trades_repository


def stats_for(engine: Engine, user_id: str) -> dict[str, Any]:
    """The user's TradeStats as last rebuilt, with `computed_at`, `watermark` and `stale`
    (a trade changed after the rebuild); zeros before the first trade."""
    with translated_errors(), engine.connect() as conn:
        stored = stats_repository.get(conn, user_id)
        version = outbox.current_version(conn, user_id)
    if stored is None:
        return {**calculate([]), "computed_at": None, "watermark": 0, "stale": version > 0}
    return {
        **stored.stats,
        "computed_at": stored.computed_at,
        "watermark": stored.watermark,
        "stale": version > stored.watermark,
    }


def stats_computed_now(
    engine: Engine, user_id: str, *, account: str | None, zone: dt.tzinfo
) -> dict[str, Any]:
    """The user's TradeStats computed now from their trades (of `account` only, if
    named), with `by_day` in the days of `zone`: what the stored stats, one set per user
    in UTC, cannot answer. Never stale: they are the trades as they are."""
    with translated_errors(), engine.connect() as conn:
        version = outbox.current_version(conn, user_id)
        trades = trades_repository.stream_for_user(conn, user_id, account=account)
        stats = calculate(trades, zone)
    computed = dt.datetime.now(dt.UTC)
    return {**stats, "computed_at": computed, "watermark": version, "stale": False}
