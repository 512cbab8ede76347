"""The trail of a trade write (table `work_trail`): what its correlation id set in motion
beyond the write, for `fluxa trace`. Events have theirs in `fluxa.events.trail`.

A trade write's correlation id leads to its stages: `trade_written` (with the write),
`stats_marked_stale` (the outbox version it bumped to, same transaction), then one of
`stats_rebuild_published` / `stats_rebuild_coalesced` (a rebuild already on its way covers
it) / `stats_rebuild_deferred` (broker down; the sweep publishes), and `stats_rebuilt` by
the rebuild that carried the id. A write whose rebuild was coalesced is covered by another
id's rebuild: `covering_rebuilds` finds it by user and version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Table,
    Text,
    and_,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from fluxa import logcontext
from fluxa.infra.db import metadata

work_trail = Table(
    "work_trail",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("correlation_id", Text, nullable=False),
    Column("stage", Text, nullable=False),
    Column("subject", Text, nullable=False),  # what the stage acted on: a trade id, a user id
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    Column("detail", JSONB),
    Index("work_trail_correlation_id", "correlation_id"),
    Index("work_trail_subject_stage_at", "subject", "stage", "at"),
    Index("work_trail_at", "at"),  # purged by age (fluxa.infra.purge)
)


def record(conn: Connection, stage: str, subject: str, **detail: Any) -> None:
    """Record `stage` for the current correlation id, in `conn`'s transaction (none bound:
    nothing to trace it by, nothing recorded)."""
    record_many(conn, stage, [(subject, detail)])


def record_many(conn: Connection, stage: str, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """`record` for several subjects in one statement."""
    correlation_id = logcontext.current().get("correlation_id")
    rows = [
        {"correlation_id": correlation_id, "stage": stage, "subject": s, "detail": d or None}
        for s, d in items
    ]
    if correlation_id and rows:
        conn.execute(insert(work_trail), rows)


def read(conn: Connection, correlation_id: str) -> list[dict[str, Any]]:
    """Every stage recorded under `correlation_id`, then the rebuilds that covered its
    coalesced writes, in time order."""
    query = select(work_trail).where(work_trail.c.correlation_id == correlation_id)
    rows = [dict(row._mapping) for row in conn.execute(query)]
    rows += covering_rebuilds(conn, rows)
    return sorted(rows, key=lambda row: (row["at"], row["id"]))


def covering_rebuilds(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each `stats_marked_stale` of `rows` that no rebuild in `rows` reached, the first
    rebuild of that user at that version or later (under another correlation id)."""
    rebuilt = [r for r in rows if r["stage"] == "stats_rebuilt"]
    found: dict[int, dict[str, Any]] = {}
    for mark in (r for r in rows if r["stage"] == "stats_marked_stale"):
        version = mark["detail"]["version"]
        if any(r["subject"] == mark["subject"] and _watermark(r) >= version for r in rebuilt):
            continue
        covering = _first_rebuild(conn, mark["subject"], version, since=mark["at"])
        if covering is not None:
            found[covering["id"]] = covering
    return list(found.values())


def _watermark(row: dict[str, Any]) -> int:
    return int((row["detail"] or {}).get("watermark", -1))


def _first_rebuild(
    conn: Connection, user_id: str, version: int, *, since: dt.datetime
) -> dict[str, Any] | None:
    watermark = work_trail.c.detail["watermark"].as_integer()
    query = (
        select(work_trail)
        .where(
            and_(
                work_trail.c.subject == user_id,
                work_trail.c.stage == "stats_rebuilt",
                work_trail.c.at >= since,
                watermark >= version,
            )
        )
        .order_by(work_trail.c.at)
        .limit(1)
    )
    row = conn.execute(query).first()
    return dict(row._mapping) if row else None
