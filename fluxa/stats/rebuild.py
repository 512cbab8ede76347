"""Full rebuild of one user's stats from their trades; never lets an older result win."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select

from fluxa.db import transaction, translated_errors
from fluxa.stats import outbox
from fluxa.stats import repository as stats_repository
from fluxa.stats.calculator import calculate
from fluxa.trades import repository as trades_repository


@dataclass(frozen=True)
class RebuildOutcome:
    user_id: str
    watermark: int
    rebuilt: bool  # False: the stored stats were already at this watermark or newer


def lock_key(user_id: str) -> int:
    """The advisory lock id of a user's rebuild (a signed 64-bit hash)."""
    digest = hashlib.sha256(f"fluxa:stats:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def rebuild_user(engine: Engine, user_id: str) -> RebuildOutcome:
    """Recompute the user's stats from all their trades.

    Rebuilds of one user run one at a time (a session advisory lock, taken before the
    snapshot so a rebuild always sees what the previous one committed); the watermark
    and the trades are read in one REPEATABLE READ snapshot, and the result is stored
    only over an older watermark, so a slow rebuild can never overwrite a newer one.
    """
    with transaction(engine) as conn:
        outbox.release(conn, user_id)  # writes from now on will claim a new rebuild
    key = lock_key(user_id)
    with translated_errors(), engine.connect() as conn:
        conn.execute(select(func.pg_advisory_lock(key)))
        conn.commit()
        try:
            return _rebuild_locked(conn, user_id)
        finally:
            conn.rollback()
            conn.execute(select(func.pg_advisory_unlock(key)))
            conn.commit()


def _rebuild_locked(conn: Connection, user_id: str) -> RebuildOutcome:
    with conn.execution_options(isolation_level="REPEATABLE READ").begin():
        watermark = outbox.current_version(conn, user_id)
        stored = stats_repository.get(conn, user_id)
        if stored is not None and stored.watermark >= watermark:
            return RebuildOutcome(user_id, stored.watermark, rebuilt=False)
        stats = calculate(trades_repository.stream_for_user(conn, user_id))
        saved = stats_repository.save_if_newer(
            conn, user_id, stats, watermark, dt.datetime.now(dt.UTC)
        )
    return RebuildOutcome(user_id, watermark, rebuilt=saved)
