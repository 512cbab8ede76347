"""Where the alarm rules' values come from: PostgreSQL, SQS and the API's metrics."""

from __future__ import annotations

import datetime as dt
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection, func, select, text

from fluxa.events.models import events
from fluxa.events.trail import event_trail
from fluxa.infra.queues import queue_counts
from fluxa.ops.alarm_rules import LONG_QUERY_SECONDS
from fluxa.ops.metric_names import HTTP_REQUESTS


def read_outcomes(conn: Connection, window: dt.timedelta) -> tuple[int, int]:
    """(persisted, dead_lettered) events in the window: by `events.processed_at` and by
    their dead-letter trail rows."""
    since = dt.datetime.now(dt.UTC) - window
    persisted = conn.execute(
        select(func.count()).select_from(events).where(events.c.processed_at >= since)
    ).scalar_one()
    dead_lettered = conn.execute(
        select(func.count(func.distinct(event_trail.c.event_id)))
        .where(event_trail.c.at >= since, event_trail.c.stage == "dead_lettered")
    ).scalar_one()  # fmt: skip
    return persisted, dead_lettered


def read_database_load(conn: Connection) -> tuple[int, int, int]:
    row = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE state = 'active'),"
            " count(*) FILTER (WHERE wait_event_type = 'Lock'),"
            " count(*) FILTER (WHERE state = 'active'"
            f"   AND now() - query_start > interval '{LONG_QUERY_SECONDS} seconds')"
            " FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def read_queue_depth(sqs: Any, url: str) -> int:
    return queue_counts(sqs, url).total


def read_api_responses(metrics_url: str, timeout: float = 3.0) -> tuple[int, int, int]:
    """(5xx, 429, all) from the API's Prometheus counters."""
    with urllib.request.urlopen(metrics_url, timeout=timeout) as response:
        body = response.read().decode()
    errors = throttled = total = 0
    for family in text_string_to_metric_families(body):
        if family.name != HTTP_REQUESTS.removesuffix("_total"):
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                total += int(sample.value)
                errors += int(sample.value) if sample.labels["status"].startswith("5") else 0
                throttled += int(sample.value) if sample.labels["status"] == "429" else 0
    return errors, throttled, total
