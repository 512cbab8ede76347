"""Data access for `trade_stats`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects.postgresql import insert

from fluxa.stats.models import trade_stats


@dataclass(frozen=True)
class StoredStats:
    user_id: str
    watermark: int
    computed_at: dt.datetime
    stats: dict[str, Any]


def get(conn: Connection, user_id: str) -> StoredStats | None:
    row = conn.execute(select(trade_stats).where(trade_stats.c.user_id == user_id)).first()
    return StoredStats(**row._mapping) if row else None


def save_if_newer(
    conn: Connection, user_id: str, stats: dict[str, Any], watermark: int, computed_at: dt.datetime
) -> bool:
    """Store the stats unless a rebuild at a newer (or equal) watermark already did."""
    row = {"user_id": user_id, "stats": stats, "watermark": watermark}
    return user_id in save_all_if_newer(conn, [row], computed_at)


def watermarks(conn: Connection, user_ids: list[str]) -> dict[str, int]:
    """The stored watermark of those users that have stats."""
    rows = conn.execute(
        select(trade_stats.c.user_id, trade_stats.c.watermark).where(
            trade_stats.c.user_id.in_(user_ids)
        )
    )
    return {row.user_id: row.watermark for row in rows}


def save_all_if_newer(
    conn: Connection, rows: list[dict[str, Any]], computed_at: dt.datetime
) -> set[str]:
    """Store each row's stats (rows: user_id, stats, watermark) unless a rebuild at a
    newer (or equal) watermark already did; the users whose stats were stored."""
    if not rows:
        return set()
    statement = insert(trade_stats).values(
        user_id=bindparam("user_id"),
        watermark=bindparam("watermark"),
        stats=bindparam("stats"),
        computed_at=computed_at,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["user_id"],
        set_={
            "watermark": statement.excluded.watermark,
            "computed_at": statement.excluded.computed_at,
            "stats": statement.excluded.stats,
        },
        where=trade_stats.c.watermark < statement.excluded.watermark,
    ).returning(trade_stats.c.user_id)
    return {row.user_id for row in conn.execute(statement, rows)}
