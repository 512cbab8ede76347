"""Leases in PostgreSQL: one holder at a time per name, for as long as it renews (beat leader)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, Engine, Table, Text, delete, func, literal
from sqlalchemy.dialects.postgresql import insert

from fluxa.infra.db import metadata, transaction

leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)


def acquire(engine: Engine, name: str, holder: str, ttl: dt.timedelta) -> bool:
    """Take or renew the lease; True when `holder` holds it for `ttl` from now."""
    expires = func.now() + literal(ttl)
    statement = (
        insert(leases)
        .values(name=name, holder=holder, expires_at=expires)
        .on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": holder, "expires_at": expires},
            where=(leases.c.holder == holder) | (leases.c.expires_at < func.now()),
        )
        .returning(leases.c.holder)
    )
    with transaction(engine) as conn:
        return conn.execute(statement).first() is not None


def release(engine: Engine, name: str, holder: str) -> None:
    """Give the lease up (on shutdown) so another holder need not wait for it to expire."""
    with transaction(engine) as conn:
        conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))
