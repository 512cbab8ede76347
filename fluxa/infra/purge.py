"""Deleting old rows a batch at a time: each batch its own short transaction, so a purge
of millions of rows neither holds one long lock nor builds one huge transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Engine, Table, delete, select

from fluxa.infra.db import transaction

BATCH_ROWS = 5000


def delete_older_than(
    engine: Engine, table: Table, at: Column, cutoff: dt.datetime, *, batch: int = BATCH_ROWS
) -> int:
    """Delete `table`'s rows whose `at` is before `cutoff` (oldest first); how many.
    `table` needs a single-column primary key and an index on `at`."""
    (key,) = table.primary_key.columns
    deleted = 0
    while True:
        oldest = select(key).where(at < cutoff).order_by(at).limit(batch).scalar_subquery()
        with transaction(engine) as conn:
            count = conn.execute(delete(table).where(key.in_(oldest))).rowcount
        deleted += count
        if count < batch:
            return deleted
