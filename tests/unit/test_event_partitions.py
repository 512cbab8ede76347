"""The pure side of `events`' partitions: names, ranges, what to make, drop and alarm on."""

from __future__ import annotations

import datetime as dt

from fluxa.events.partitions import (
    HISTORY,
    Partition,
    day_partition,
    day_start,
    days_ahead,
    partitions_to_make,
    past_retention,
)
from fluxa.events.retention import OVERDUE, lateness
from fluxa.ops.alarm_rules import ALARM, OK, event_partitions

DAY = dt.date(2026, 12, 5)
NOW = dt.datetime(2026, 12, 5, 15, 30, tzinfo=dt.UTC)


def history(until: dt.date) -> Partition:
    return Partition(name=HISTORY, lower=None, upper=day_start(until))


def test_a_day_partition_spans_its_utc_day():
    partition = day_partition(DAY)
    assert partition.name == "events_p20261205"
    assert partition.lower == dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    assert partition.upper == dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    assert not partition.is_history and history(DAY).is_history


def test_only_days_no_partition_covers_are_made_and_in_order():
    existing = [history(DAY + dt.timedelta(days=2)), day_partition(DAY + dt.timedelta(days=3))]
    made = partitions_to_make(existing, reversed(days_ahead(DAY, 5)))
    # The history ends at midnight before the 7th: the 7th is a day of its own.
    assert [p.name for p in made] == ["events_p20261207", "events_p20261209", "events_p20261210"]
    assert partitions_to_make([*existing, *made], days_ahead(DAY, 5)) == []


def test_a_partition_leaves_once_its_last_moment_is_past_the_cutoff():
    days = [day_partition(DAY - dt.timedelta(days=n)) for n in range(3)]
    cutoff = day_start(DAY - dt.timedelta(days=1))  # the end of the day before yesterday
    assert past_retention([*days, history(DAY - dt.timedelta(days=5))], cutoff) == [
        history(DAY - dt.timedelta(days=5)),
        day_partition(DAY - dt.timedelta(days=2)),
    ]


def test_lateness_names_missing_days_soon_and_overdue_partitions():
    week = [day_partition(day) for day in days_ahead(DAY)]
    assert lateness(week, None, NOW) == []
    assert lateness(week[:2], None, NOW) == ["no partition for events_p20261207 yet"]
    old = day_partition(DAY - dt.timedelta(days=32))
    assert lateness([old, *week], 30, NOW) == []  # past retention, not yet overdue
    later = NOW + OVERDUE + dt.timedelta(days=1)
    assert lateness([old, *week], 30, later) == ["events_p20261103 is past retention"]
    assert lateness([old, *week], None, later) == []  # kept forever


def test_the_partition_alarm_fires_on_anything_late():
    assert event_partitions([]).state == OK
    alarm = event_partitions(["no partition for events_p20261207 yet"])
    assert alarm.state == ALARM and "events_p20261207" in alarm.value
