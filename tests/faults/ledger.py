"""Reading the ledger a fault scenario checks."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from fluxa.events.models import events


def persisted(engine: Engine, source: str) -> int:
    """How many events of `source` are in the `events` table."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(events).where(events.c.source == source)
        ).scalar_one()
