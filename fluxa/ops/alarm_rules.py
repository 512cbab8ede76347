"""The runbook's alarm rules: pure functions from measured values to an `Alarm`
(readers: `fluxa.ops.alarm_readers`; the table assembled: `fluxa.ops.alarms`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

OK, ALARM, UNKNOWN = "OK", "ALARM", "UNKNOWN"
LONG_QUERY_SECONDS = 60
MAX_ACTIVE_QUERIES = 50

# The runbook's thresholds, here and in deploy/aws/fluxa.yaml's CloudWatch alarms (a test
# holds the two together) and deploy/prometheus/alerts.yml.
ERROR_RATE_PERCENT = Decimal(1)  # ProcessorErrorRate and APIGateway5xx fire above it
DLQ_DEPTH = 0  # DLQDepth fires above it
DB_HIGH_CPU_PERCENT = 80  # DBHighCPU: CloudWatch's RDS CPU; locally, DatabaseLoad stands in
THROTTLED_PERCENT = Decimal(5)  # ApiThrottling fires above it (429 answers, % of all)
EVENT_PARTITIONS_LATE = 0  # EventPartitions fires above it (fluxa.events.retention.lateness)


@dataclass(frozen=True)
class Alarm:
    """One row of the alarm table: its state now, the value it was judged on, what to do."""

    name: str
    state: str
    value: str
    threshold: str
    action: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _rate_alarm(
    name: str, bad: int, total: int, action: str, limit: Decimal = ERROR_RATE_PERCENT
) -> Alarm:
    threshold = f"> {limit}%"
    if total == 0:
        return Alarm(name, OK, "0% of 0", threshold, action)
    percent = Decimal(bad) * 100 / Decimal(total)
    state = ALARM if percent > limit else OK
    return Alarm(name, state, f"{percent:.2f}% of {total}", threshold, action)


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


def api_throttling(throttled: int, requests: int) -> Alarm:
    """ApiThrottling: 429 answers (per-client limits) / all answers (since the API started)."""
    return _rate_alarm(
        "ApiThrottling", throttled, requests,
        "See which client is throttled (fluxa_rate_limited_total, the API logs); raise its"
        " limit with FLUXA_RATE_LIMITS SCOPE@SUB=LIMIT if it is legitimate",
        THROTTLED_PERCENT,
    )  # fmt: skip


def dlq_depth(queue: str, depth: int) -> Alarm:
    return Alarm(
        f"DLQDepth[{queue}]", ALARM if depth > DLQ_DEPTH else OK, str(depth), f"> {DLQ_DEPTH}",
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


def event_partitions(late: list[str]) -> Alarm:
    """EventPartitions: partitions of `events` missing ahead or overdue for retention."""
    return Alarm(
        "EventPartitions", ALARM if len(late) > EVENT_PARTITIONS_LATE else OK,
        "; ".join(late) or "none late", f"> {EVENT_PARTITIONS_LATE} late",
        "Is beat running? fluxa events retention makes and drops them now (runbook §14)",
    )  # fmt: skip


def unknown(name: str, value: str, threshold: str, action: str) -> Alarm:
    """An alarm whose source could not be read."""
    return Alarm(name, UNKNOWN, value, threshold, action)
