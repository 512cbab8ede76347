"""DDL of the partitions of `events` (fluxa.events.partitions says which).

A partition is made as a table of its own, then attached: `CREATE TABLE … PARTITION OF`
would hold an ACCESS EXCLUSIVE lock on `events`, while `ATTACH PARTITION` needs only
SHARE UPDATE EXCLUSIVE, which lets inserts and reads go on. A partition leaves by
`DETACH PARTITION … CONCURRENTLY` for the same reason (it waits for the queries that use
`events` instead of blocking the ones that follow), and is then dropped as a plain table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from fluxa.events.partitions import Partition, partitions_to_make

# Makers of partitions (beat, `fluxa setup`, a processor that met a missing one) take
# turns: two attaching the same day would fail.
_PARTITION_LOCK_ID = 0x466C7870  # "Flxp"
_BOUND = re.compile(r"FROM \((?P<lower>MINVALUE|'[^']+')\) TO \('(?P<upper>[^']+)'\)")


def list_partitions(conn: Connection) -> list[Partition]:
    """The range partitions of `events`, oldest first (a half-detached one included)."""
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
    rows = conn.execute(
        text(
            "SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass('events')"
        )
    )
    partitions = []
    for row in rows:
        match = _BOUND.search(row.bound)
        if match is None:  # a DEFAULT partition: Fluxa makes none, nothing may depend on one
            continue
        lower = match["lower"]
        partitions.append(
            Partition(
                name=row.name,
                lower=None if lower == "MINVALUE" else dt.datetime.fromisoformat(lower.strip("'")),
                upper=dt.datetime.fromisoformat(match["upper"]),
            )
        )
    return sorted(partitions)


def partition_missing(exc: IntegrityError) -> bool:
    """Whether an insert failed for want of a partition for its row."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "23514" and "no partition" in str(orig)


def default_partitions(conn: Connection) -> list[str]:
    """A DEFAULT partition of `events`, if someone made one (Fluxa never does)."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass('events')"
            " AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'"
        )
    )
    return [row.relname for row in rows]


def pending_detaches(conn: Connection) -> list[str]:
    """Partitions whose `DETACH … CONCURRENTLY` was interrupted (to be finalized)."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass('events') AND i.inhdetachpending"
        )
    )
    return [row.relname for row in rows]


def make_partitions(conn: Connection, days: Iterable[dt.date]) -> list[Partition]:
    """Make the day partitions of `days` that do not exist yet; the ones made. The caller
    commits (`make_partitions_now` for a transaction of their own)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PARTITION_LOCK_ID})
    made = partitions_to_make(list_partitions(conn), days)
    for partition in made:
        _attach_new(conn, partition)
    return made


def make_partitions_now(engine: Engine, days: Iterable[dt.date]) -> list[Partition]:
    """`make_partitions` in a transaction of its own."""
    with engine.begin() as conn:
        return make_partitions(conn, days)


def _attach_new(conn: Connection, partition: Partition) -> None:
    assert partition.lower is not None
    name = _identifier(partition.name)
    conn.execute(
        text(f"CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    # DDL takes no parameters: the bounds are our own datetimes, spliced as literals.
    lower, upper = partition.lower.isoformat(), partition.upper.isoformat()
    conn.execute(
        text(
            f"ALTER TABLE events ATTACH PARTITION {name} FOR VALUES FROM ('{lower}') TO ('{upper}')"
        )
    )


def detach_partition(engine: Engine, name: str) -> None:
    """Detach a partition without blocking the queries on `events`, finishing an earlier
    interrupted detach of it; the table stays, on its own."""
    name = _identifier(name)
    with engine.connect() as conn:
        pending = name in pending_detaches(conn)
        conn.rollback()
        conn.execution_options(isolation_level="AUTOCOMMIT")
        how = "FINALIZE" if pending else "CONCURRENTLY"
        conn.execute(text(f"ALTER TABLE events DETACH PARTITION {name} {how}"))


def drop_table(engine: Engine, name: str) -> None:
    """Drop a detached partition."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {_identifier(name)}"))


def count_processed_before(conn: Connection, name: str, cutoff: dt.datetime) -> int:
    """Rows of partition `name` processed before `cutoff`."""
    query = f"SELECT count(*) FROM {_identifier(name)} WHERE processed_at < :cutoff"
    return conn.execute(text(query), {"cutoff": cutoff}).scalar_one()


def delete_processed_before(conn: Connection, name: str, cutoff: dt.datetime, limit: int) -> int:
    """Delete up to `limit` rows of partition `name` processed before `cutoff`; how many."""
    table = _identifier(name)
    statement = (
        f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
        f"SELECT ctid FROM {table} WHERE processed_at < :cutoff LIMIT :limit))"
    )
    return conn.execute(text(statement), {"cutoff": cutoff, "limit": limit}).rowcount


def _identifier(name: str) -> str:
    # Names come from fluxa.events.partitions or from the catalog, never from a request;
    # still, only a plain lower-case identifier is spliced into DDL.
    if re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name) is None:
        raise ValueError(f"not a partition name: {name!r}")
    return name
