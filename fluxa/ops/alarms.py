"""The runbook's alarm table, evaluated now from real sources (pure rules + readers)."""

from __future__ import annotations

import datetime as dt
import urllib.request
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection, func, select, text

from fluxa.events.models import events
from fluxa.events.trail import event_trail

OK, ALARM, UNKNOWN = "OK", "ALARM", "UNKNOWN"
LONG_QUERY_SECONDS = 60
MAX_ACTIVE_QUERIES = 50


@dataclass(frozen=True)
class Alarm:
    name: str
    state: str
    value: str
    threshold: str
    action: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _rate_alarm(name: str, bad: int, total: int, action: str) -> Alarm:
    if total == 0:
        return Alarm(name, OK, "0% of 0", "> 1%", action)
    rate = Decimal(bad) / Decimal(total)
    state = ALARM if rate > Decimal("0.01") else OK
    return Alarm(name, state, f"{rate * 100:.2f}% of {total}", "> 1%", action)


def processor_error_rate(persisted: int, dead_lettered: int) -> Alarm:
    """ProcessorErrorRate: dead-lettered events / processed events in the window."""
    return _rate_alarm(
        "ProcessorErrorRate", dead_lettered, persisted + dead_lettered,
        "fluxa dlq inspect --queue events; fix the cause; fluxa dlq replay",
    )  # fmt: skip


def api_5xx_rate(server_errors: int, requests: int) -> Alarm:
    """APIGateway5xx: 5xx answers / all answers (since the API processes started)."""
    return _rate_alarm(
        "APIGateway5xx", server_errors, requests,
        "Check /readyz and the API logs (level ERROR); roll back a bad deployment",
    )  # fmt: skip


def dlq_depth(queue: str, depth: int) -> Alarm:
    return Alarm(
        f"DLQDepth[{queue}]", ALARM if depth > 0 else OK, str(depth), "> 0",
        f"fluxa dlq inspect --queue {'stats' if 'stats' in queue.lower() else 'events'}",
    )  # fmt: skip


def database_load(active: int, waiting: int, long_running: int) -> Alarm:
    firing = active > MAX_ACTIVE_QUERIES or waiting > 0 or long_running > 0
    return Alarm(
        "DatabaseLoad", ALARM if firing else OK,
        f"active={active} waiting={waiting} long_running={long_running}",
        f"active > {MAX_ACTIVE_QUERIES} or waiting > 0 or running > {LONG_QUERY_SECONDS}s",
        "Look at pg_stat_activity; cancel runaway queries; scale workers down",
    )  # fmt: skip


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
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def read_api_responses(metrics_url: str, timeout: float = 3.0) -> tuple[int, int]:
    """(5xx, all) from the API's Prometheus counters."""
    with urllib.request.urlopen(metrics_url, timeout=timeout) as response:
        body = response.read().decode()
    errors = total = 0
    for family in text_string_to_metric_families(body):
        if family.name != "fluxa_http_requests":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                total += int(sample.value)
                errors += int(sample.value) if sample.labels["status"].startswith("5") else 0
    return errors, total
