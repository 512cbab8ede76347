"""The stats outbox: staleness recorded with the trade write, then claimed for publishing.

A user's stats are stale when `dirty_version` exceeds the watermark of their
`trade_stats` row. A claim (`queued_at`) stops a burst of writes from sending a
burst of messages: while one rebuild message is on its way, writes only bump the
version; the rebuild clears the claim when it starts, so later writes claim again.
`published_at` (the last claim) lets the relay space one user's rebuilds out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from fluxa.stats.models import stats_outbox as outbox
from fluxa.stats.models import trade_stats


def mark_stale(conn: Connection, user_id: str) -> int:
    """Record, inside the caller's transaction, that the user's stats are stale."""
    statement = _mark_stale_statement().returning(outbox.c.dirty_version)
    return conn.execute(statement, {"user_id": user_id}).scalar_one()


def _mark_stale_statement():
    return (
        insert(outbox)
        .values(user_id=bindparam("user_id"), dirty_version=1)
        .on_conflict_do_update(
            index_elements=["user_id"],
            set_={"dirty_version": outbox.c.dirty_version + 1, "updated_at": func.now()},
        )
    )


@dataclass(frozen=True)
class Claim:
    """A claimed user: when this claim was taken, and when the one before it (None: never)."""

    at: dt.datetime
    previous: dt.datetime | None


def claim(conn: Connection, user_id: str) -> Claim | None:
    """Claim the user for one rebuild message; None when one is already on its way."""
    # A subquery in RETURNING reads the statement's snapshot: the claim before this one.
    previous = select(outbox.c.published_at).where(outbox.c.user_id == user_id).scalar_subquery()
    row = conn.execute(
        update(outbox)
        .where(outbox.c.user_id == user_id, outbox.c.queued_at.is_(None))
        .values(queued_at=func.now(), published_at=func.now())
        .returning(outbox.c.queued_at, previous)
    ).first()
    return Claim(at=row[0], previous=row[1]) if row else None


def mark_stale_many(conn: Connection, user_ids: list[str]) -> None:
    """`mark_stale` for many users (one statement, executed for each)."""
    if user_ids:
        conn.execute(_mark_stale_statement(), [{"user_id": u} for u in user_ids])


def claim_many(conn: Connection, user_ids: list[str]) -> list[str]:
    """Claim those of the users that no rebuild message covers yet; the claimed ones."""
    rows = conn.execute(
        update(outbox)
        .where(outbox.c.user_id.in_(user_ids), outbox.c.queued_at.is_(None))
        .values(queued_at=func.now(), published_at=func.now())
        .returning(outbox.c.user_id)
    )
    return sorted(row.user_id for row in rows)


def release_many(conn: Connection, user_ids: list[str]) -> None:
    """Drop these users' claims (the message was not sent, or the rebuild has started)."""
    conn.execute(update(outbox).where(outbox.c.user_id.in_(user_ids)).values(queued_at=None))


def current_version(conn: Connection, user_id: str) -> int:
    """The user's dirty version (0 when no trade write was ever recorded)."""
    return current_versions(conn, [user_id]).get(user_id, 0)


def current_versions(conn: Connection, user_ids: list[str]) -> dict[str, int]:
    """The dirty versions of those users that have one."""
    rows = conn.execute(
        select(outbox.c.user_id, outbox.c.dirty_version).where(outbox.c.user_id.in_(user_ids))
    )
    return {row.user_id: row.dirty_version for row in rows}


def claim_leftovers(conn: Connection, *, claimed_before: dt.datetime, limit: int) -> list[str]:
    """Claim users whose staleness no message covers: never claimed, or claimed so long
    ago that the message must be lost. Concurrent sweeps skip each other's rows."""
    built = (
        select(trade_stats.c.watermark)
        .where(trade_stats.c.user_id == outbox.c.user_id)
        .scalar_subquery()
    )
    candidates = (
        select(outbox.c.user_id)
        .where(
            or_(
                and_(
                    outbox.c.queued_at.is_(None),
                    outbox.c.dirty_version > func.coalesce(built, 0),
                ),
                outbox.c.queued_at < claimed_before,
            )
        )
        .order_by(outbox.c.user_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = conn.execute(
        update(outbox)
        .where(outbox.c.user_id.in_(candidates.scalar_subquery()))
        .values(queued_at=func.now(), published_at=func.now())
        .returning(outbox.c.user_id)
    )
    return sorted(row.user_id for row in rows)


def users_after(conn: Connection, after: str | None, limit: int) -> list[str]:
    """A segment of users with trades history, in id order (for rebuild-all)."""
    query = select(outbox.c.user_id).order_by(outbox.c.user_id).limit(limit)
    if after is not None:
        query = query.where(outbox.c.user_id > after)
    return [row.user_id for row in conn.execute(query)]


def user_count(conn: Connection) -> int:
    """How many users have a trades history (what rebuild-all goes through)."""
    return conn.execute(select(func.count()).select_from(outbox)).scalar_one()
