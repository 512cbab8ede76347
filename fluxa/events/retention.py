"""The lifecycle of `events`' partitions: made a week ahead, gone whole past retention.

`maintain` is what beat runs each hour and `fluxa events retention` runs on demand.
A partition leaves by a concurrent detach, then is dropped (or, with `keep_tables`, left
as a table of its own for an operator to archive). The history partition of a deployment
that moved from the unpartitioned table spans every day before the move, so it cannot
leave whole until its newest row is past retention: until then its rows past it are
deleted a batch at a time, by `processed_at` (BRIN-indexed; a row is processed after it
arrives, so none is deleted early).

Payload objects outlive their rows: the archive's lifecycle rule (deploy/aws) expires an
object `FLUXA_EVENTS_RETENTION_DAYS` + `LIFECYCLE_GRACE_DAYS` after it was written, and
no row is kept past its partition's end + retention; `lateness` says when that is at risk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from fluxa.events import partition_repository as store
from fluxa.events.partitions import (
    Partition,
    days_ahead,
    partitions_to_make,
    past_retention,
    retention_cutoff,
)
from fluxa.infra.db import make_engine, transaction

#: Days the archive keeps an object beyond retention: the time retention may run late
#: before a kept row would name an expired payload (`lateness` alarms well before).
LIFECYCLE_GRACE_DAYS = 7
#: A partition this long past retention and still there is late (`lateness`).
OVERDUE = dt.timedelta(days=2)
#: A missing partition within this many days ahead is late: beat has missed days of runs.
DAYS_SOON = 2
HISTORY_BATCH = 5000


@dataclass
class RetentionReport:
    """What a run made, dropped (or, in a dry run, would drop) and deleted."""

    cutoff: dt.datetime | None
    dry_run: bool
    made: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    detached: list[str] = field(default_factory=list)
    history_rows_deleted: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "dry_run": self.dry_run,
            "made": self.made,
            "dropped": self.dropped,
            "detached": self.detached,
            "history_rows_deleted": self.history_rows_deleted,
        }


def make_days_ahead(database_url: str, now: dt.datetime) -> list[Partition]:
    """Make today's partition and the next week's (what `fluxa setup` does after its
    migrations); the ones made."""
    engine = make_engine(database_url, pool_size=1)
    try:
        return store.make_partitions_now(engine, days_ahead(now.date()))
    finally:
        engine.dispose()


def maintain(
    engine: Engine,
    retention_days: int | None,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    keep_tables: bool = False,
) -> RetentionReport:
    """Make the partitions of today and the week ahead, then apply retention (none when
    `retention_days` is None: kept forever)."""
    cutoff = retention_cutoff(now, retention_days) if retention_days is not None else None
    report = RetentionReport(cutoff=cutoff, dry_run=dry_run)
    with transaction(engine) as conn:
        if not dry_run:
            report.made = [p.name for p in store.make_partitions(conn, days_ahead(now.date()))]
        partitions = store.list_partitions(conn)
        interrupted = store.pending_detaches(conn)
    for name in [] if dry_run else interrupted:  # a run stopped midway: finish its detach
        _leave(engine, name, keep_tables, report)
    partitions = [p for p in partitions if p.name not in interrupted]
    if cutoff is None:
        return report
    for partition in past_retention(partitions, cutoff):
        if dry_run:
            report.dropped.append(partition.name)
        else:
            _leave(engine, partition.name, keep_tables, report)
    history = next((p for p in partitions if p.is_history and p.upper > cutoff), None)
    if history is not None:
        report.history_rows_deleted = _expire_history_rows(engine, history, cutoff, dry_run)
    return report


def _leave(engine: Engine, name: str, keep_tables: bool, report: RetentionReport) -> None:
    store.detach_partition(engine, name)
    if keep_tables:
        report.detached.append(name)
        return
    store.drop_table(engine, name)
    report.dropped.append(name)


def _expire_history_rows(
    engine: Engine, history: Partition, cutoff: dt.datetime, dry_run: bool
) -> int:
    if dry_run:
        with engine.connect() as conn:
            return store.count_processed_before(conn, history.name, cutoff)
    deleted = 0
    while True:  # short transactions: no long lock, no huge one
        with transaction(engine) as conn:
            count = store.delete_processed_before(conn, history.name, cutoff, HISTORY_BATCH)
        deleted += count
        if count < HISTORY_BATCH:
            return deleted


def lateness_now(conn: Connection, retention_days: int | None, now: dt.datetime) -> list[str]:
    """`lateness` of the partitions as they are, and any DEFAULT partition: beside one,
    a partition cannot be detached concurrently, and each new one scans it."""
    late = lateness(store.list_partitions(conn), retention_days, now)
    return late + [
        f"{name} is a DEFAULT partition: move its rows into day partitions and drop it"
        for name in store.default_partitions(conn)
    ]


def lateness(
    partitions: list[Partition], retention_days: int | None, now: dt.datetime
) -> list[str]:
    """What is late in `events`' lifecycle, one line each (none when all is well): a day
    of the next `DAYS_SOON` without its partition (inserts would have to make it), or a
    partition past retention for longer than `OVERDUE` (its rows then near the end of
    their payloads' grace). The `EventPartitions` alarm fires on any."""
    late = [
        f"no partition for {partition.name} yet"
        for partition in partitions_to_make(partitions, days_ahead(now.date(), DAYS_SOON))
    ]
    if retention_days is not None:
        overdue_cutoff = retention_cutoff(now, retention_days) - OVERDUE
        late += [f"{p.name} is past retention" for p in past_retention(partitions, overdue_cutoff)]
    return late
