"""Full rebuilds of users' stats from their trades; never lets an older result win."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from fluxa.infra.db import transaction, translated_errors
from fluxa.stats import outbox
from fluxa.stats import repository as stats_repository
from fluxa.stats.calculator import Figures, document
from fluxa.stats.sql_figures import figures_by_user
from fluxa.trades import trail as trade_trail


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
    """Recompute one user's stats from all their trades (see `rebuild_users`)."""
    return rebuild_users(engine, [user_id])[0]


def rebuild_users(engine: Engine, user_ids: Iterable[str]) -> list[RebuildOutcome]:
    """Recompute these users' stats from all their trades, in one snapshot.

    Rebuilds of one user run one at a time (session advisory locks, taken in key order
    before the snapshot so a rebuild always sees what the previous one committed); the
    watermarks and the trades are read in one REPEATABLE READ snapshot, and a result is
    stored only over an older watermark, so a slow rebuild can never overwrite a newer
    one. A segment of users costs a handful of round trips, not a handful per user.
    """
    users = sorted(set(user_ids))
    with transaction(engine) as conn:
        outbox.release_many(conn, users)  # writes from now on will claim a new rebuild
    keys = sorted({lock_key(user) for user in users})
    with translated_errors(), engine.connect() as conn:
        _advisory(conn, "pg_advisory_lock", keys)
        conn.commit()
        try:
            return _rebuild_locked(conn, users)
        finally:
            conn.rollback()
            _advisory(conn, "pg_advisory_unlock", keys)
            conn.commit()


def _advisory(conn: Connection, function: str, keys: list[int]) -> None:
    """Take or drop the advisory locks `keys`, in key order (no deadlock between segments)."""
    conn.execute(
        text(
            f"SELECT {function}(k) FROM"
            " (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS ordered"
        ),
        {"keys": keys},
    )


def _rebuild_locked(conn: Connection, users: list[str]) -> list[RebuildOutcome]:
    with conn.execution_options(isolation_level="REPEATABLE READ").begin():
        versions = outbox.current_versions(conn, users)
        stored = stats_repository.watermarks(conn, users)
        # No outbox mark: the user never wrote a trade, or was erased; a rebuild queued
        # before an erasure must not bring their stats back.
        due = [u for u in users if u in versions and (u not in stored or stored[u] < versions[u])]
        computed = figures_by_user(conn, due) if due else {}
        rows = [
            {
                "user_id": u,
                "stats": document(computed.get(u) or Figures()),
                "watermark": versions.get(u, 0),
            }
            for u in due
        ]
        saved = stats_repository.save_all_if_newer(conn, rows, dt.datetime.now(dt.UTC))
        rebuilt = [(u, {"watermark": versions.get(u, 0)}) for u in users if u in saved]
        trade_trail.record_many(conn, "stats_rebuilt", rebuilt)
    return [
        RebuildOutcome(u, versions.get(u, 0), rebuilt=u in saved)
        if u in due
        else RebuildOutcome(u, stored.get(u, 0), rebuilt=False)
        for u in users
    ]
