"""The time partitions of `events`: one per UTC day of arrival (`accepted_at`).

Why a day: retention drops whole partitions, so a day is how finely it can cut; at the
ingest rate `make bench` measures (about 5,000 events/s for one pair of workers) a day
holds up to 430 million rows, whose indexes a month-long partition would hold thirty
times over, past any instance's memory. A year of days is 365 partitions, which a listing
that cannot prune by arrival (it orders by `occurred_at`) still merges in milliseconds
(docs/benchmarks.md). A deployment that moved from the unpartitioned table keeps its old
rows in one partition from the beginning of time, `events_history`.

Pure: names, ranges and which partitions to make or drop. `partition_repository` does
the DDL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

PREFIX = "events_p"
HISTORY = "events_history"
#: Partitions are made this many days ahead of today, so beat may be down for a week.
DAYS_AHEAD = 7


@dataclass(frozen=True, order=True)
class Partition:
    """A partition of `events` and its range of `accepted_at`: [lower, upper).
    `lower` is None for the partition that starts at the beginning of time."""

    upper: dt.datetime
    lower: dt.datetime | None
    name: str

    @property
    def is_history(self) -> bool:
        return self.lower is None


def day_start(day: dt.date) -> dt.datetime:
    """Midnight UTC at the beginning of `day`."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def day_partition(day: dt.date) -> Partition:
    """The partition that holds the events that arrived on `day` (UTC)."""
    return Partition(
        name=f"{PREFIX}{day:%Y%m%d}",
        lower=day_start(day),
        upper=day_start(day + dt.timedelta(days=1)),
    )


def days_of(moments: Iterable[dt.datetime]) -> set[dt.date]:
    """The UTC days of `moments`."""
    return {moment.astimezone(dt.UTC).date() for moment in moments}


def partitions_to_make(existing: Iterable[Partition], days: Iterable[dt.date]) -> list[Partition]:
    """The day partitions of `days` that no existing partition covers, oldest first."""
    existing = list(existing)
    wanted = []
    for day in sorted(set(days)):
        start = day_start(day)
        if not any(_covers(partition, start) for partition in existing):
            wanted.append(day_partition(day))
    return wanted


def days_ahead(today: dt.date, ahead: int = DAYS_AHEAD) -> list[dt.date]:
    """Today and the `ahead` days after it."""
    return [today + dt.timedelta(days=n) for n in range(ahead + 1)]


def past_retention(partitions: Iterable[Partition], cutoff: dt.datetime) -> list[Partition]:
    """The partitions whose every row arrived before `cutoff`, oldest first."""
    return sorted(p for p in partitions if p.upper <= cutoff)


def retention_cutoff(now: dt.datetime, retention_days: int) -> dt.datetime:
    """Rows that arrived before this are past a retention of `retention_days`."""
    return now - dt.timedelta(days=retention_days)


def _covers(partition: Partition, moment: dt.datetime) -> bool:
    return (partition.lower is None or partition.lower <= moment) and moment < partition.upper
