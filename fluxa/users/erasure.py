"""Erasing a journal user (right to erasure): their trades with their partial closes,
their imports with the fills they stored, their image objects and uploaded files, their
stats and outbox mark, and the trails that name them.

Two steps, each safe to run again, so a run that stops midway is finished by the next:
the rows go in one transaction (under the user's stats lock, so no rebuild or import runs
beside it), then the image objects and imported files, by their key prefix (which names
the user), not by the rows that are already gone. What stays: sign-outs
(`token_revocations`, a day at most: removing one would let a revoked token in again) and
events (machines send them; no user owns one).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, Table, delete, func, select

from fluxa.idempotency.models import idempotency_keys
from fluxa.imports.models import import_fills, imports
from fluxa.infra.db import transaction
from fluxa.stats.models import stats_outbox, trade_stats
from fluxa.stats.rebuild import lock_key
from fluxa.trades.images import S3ImageStore, user_prefix
from fluxa.trades.models import trades
from fluxa.trades.trail import work_trail


@dataclass(frozen=True)
class Erased:
    """What one run removed (a second run removes nothing more)."""

    trades: int
    partial_closes: int
    stats: int
    outbox: int
    imports: int
    imported_fills: int
    trail_rows: int
    idempotency_keys: int
    #: Objects under the user's prefix: images and imported files.
    images: int

    def lines(self) -> list[str]:
        """One line per kind, for the operator."""
        return [f"{name.replace('_', ' ')}: {count}" for name, count in self.__dict__.items()]


def erase_user(engine: Engine, images: S3ImageStore, user_id: str) -> Erased:
    """Remove everything Fluxa keeps about `user_id` (see the module's docstring)."""
    with transaction(engine) as conn:
        conn.execute(select(func.pg_advisory_xact_lock(lock_key(user_id))))
        rows = _erase_rows(conn, user_id)
    removed = 0
    for keys in images.pages_under(user_prefix(user_id)):
        images.delete(keys)
        removed += len(keys)
    return Erased(**rows, images=removed)


def _erase_rows(conn: Connection, user_id: str) -> dict[str, int]:
    own_trades = select(trades.c.id).where(trades.c.user_id == user_id).scalar_subquery()
    own_imports = select(imports.c.id).where(imports.c.user_id == user_id).scalar_subquery()
    closes = conn.execute(
        select(func.coalesce(func.sum(func.jsonb_array_length(trades.c.partial_closes)), 0))
        .where(trades.c.user_id == user_id)
    ).scalar_one()  # fmt: skip
    return {
        "partial_closes": int(closes),
        "trail_rows": _delete(
            conn,
            work_trail,
            (work_trail.c.subject == user_id)
            | work_trail.c.subject.in_(own_trades)
            | work_trail.c.subject.in_(own_imports),  # trade, import or user
        ),
        "trades": _delete(conn, trades, trades.c.user_id == user_id),
        "stats": _delete(conn, trade_stats, trade_stats.c.user_id == user_id),
        "outbox": _delete(conn, stats_outbox, stats_outbox.c.user_id == user_id),
        "imports": _delete(conn, imports, imports.c.user_id == user_id),
        "imported_fills": _delete(conn, import_fills, import_fills.c.user_id == user_id),
        "idempotency_keys": _delete(
            conn,
            idempotency_keys,
            idempotency_keys.c.scope.endswith(f":{user_id}", autoescape=True),
        ),
    }


def _delete(conn: Connection, table: Table, where: ColumnElement[bool]) -> int:
    return conn.execute(delete(table).where(where)).rowcount
