"""The runbook's alarm table, now: each rule applied to what its reader measures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine

from config import Settings
from fluxa.events.retention import lateness_now
from fluxa.ops import alarm_readers as read
from fluxa.ops import alarm_rules as rules
from fluxa.ops.alarm_rules import Alarm

API_ACTION = "Set FLUXA_API_URL to the API's base URL"


def evaluate(
    settings: Settings, engine: Engine, sqs: Any, urls: dict[str, str], window: dt.timedelta
) -> list[Alarm]:
    """Every alarm of the runbook's table, evaluated now."""
    with engine.connect() as conn:
        results = [
            rules.processor_error_rate(*read.read_outcomes(conn, window)),
            rules.database_load(*read.read_database_load(conn)),
            rules.event_partitions(
                lateness_now(conn, settings.events_retention_days, dt.datetime.now(dt.UTC))
            ),
        ]
    for name in (settings.dead_letter_queue, settings.stats_dead_letter_queue):
        results.append(rules.dlq_depth(name, read.read_queue_depth(sqs, urls[name])))
    results += api_alarms(settings)
    return results


def api_alarms(settings: Settings) -> list[Alarm]:
    """APIGateway5xx and ApiThrottling from the API's own counters (UNKNOWN when they
    cannot be read)."""
    names = (
        ("APIGateway5xx", rules.ERROR_RATE_PERCENT),
        ("ApiThrottling", rules.THROTTLED_PERCENT),
    )
    try:
        if not settings.api_url:
            raise OSError("-")
        errors, throttled, total = read.read_api_responses(f"{settings.api_url}/metrics")
    except OSError as exc:
        return [rules.unknown(name, str(exc), f"> {limit}%", API_ACTION) for name, limit in names]
    return [rules.api_5xx_rate(errors, total), rules.api_throttling(throttled, total)]


def firing(results: list[Alarm]) -> bool:
    """Whether any alarm is in ALARM."""
    return any(a.state == rules.ALARM for a in results)
