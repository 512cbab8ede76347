"""Reading a user's stats for the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from fluxa.infra.db import translated_errors
from fluxa.stats import outbox
from fluxa.stats import repository as stats_repository
from fluxa.stats.calculator import calculate


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
