"""CloudWatch Embedded Metric Format: metrics carried on JSON log lines, which CloudWatch
Logs turns into metrics (no agent, no Prometheus server), so the runbook's alarms can be
CloudWatch alarms.

The format (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
CloudWatch_Embedded_Metric_Format_Specification.html): the line's `_aws` member names the
namespace, the dimension sets and the metrics with their units; every dimension and
metric named there is a top-level member of the same line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from config.logging import EMF_RECORD_KEY

log = logging.getLogger("fluxa.metrics")

#: Names of the metrics the alarms and the dashboard read (one spelling for all).
EVENTS_PROCESSED = "EventsProcessed"
EVENTS_DEAD_LETTERED = "EventsDeadLettered"
TASKS_SUCCEEDED = "TasksSucceeded"
TASKS_RETRIED = "TasksRetried"
TASKS_DEAD_LETTERED = "TasksDeadLettered"
TASK_DURATION = "TaskDuration"
API_REQUESTS = "ApiRequests"
API_5XX = "Api5xx"
API_LATENCY = "ApiLatency"
API_THROTTLED = "ApiThrottled"
RATE_LIMIT_STORE_FAILURES = "RateLimitStoreFailures"
EVENT_PARTITIONS_LATE = "EventPartitionsLate"

COUNT, MILLISECONDS = "Count", "Milliseconds"


def emf_fields(
    namespace: str,
    metrics: Mapping[str, tuple[float, str]],
    dimensions: Mapping[str, str],
    dimension_sets: Sequence[Sequence[str]],
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """The members an EMF log line needs: `_aws`, then each dimension and metric value.

    `metrics`: name → (value, unit); `dimension_sets`: which dimensions each series of
    these metrics is aggregated by (an empty set: the metric without dimensions).
    """
    declared = [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()]
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(names) for names in dimension_sets],
                    "Metrics": declared,
                }
            ],
        },
        **dimensions,
        **{name: value for name, (value, _) in metrics.items()},
    }


@dataclass(frozen=True)
class EmfMetrics:
    """Writes EMF lines through logging (the JSON formatter renders them) when enabled.

    Every series is published by service alone and, when given, by one more dimension
    (e.g. the task), so alarms read the first and dashboards may split by the second.
    """

    namespace: str
    service: str
    enabled: bool

    def put(self, metrics: Mapping[str, tuple[float, str]], **dimensions: str) -> None:
        if not self.enabled:
            return
        values = {"Service": self.service, **dimensions}
        sets = [["Service"]] + [["Service", name] for name in dimensions]
        fields = emf_fields(self.namespace, metrics, values, sets)
        fields[EMF_RECORD_KEY] = fields.pop("_aws")  # logging would drop "_aws"
        log.info("metrics", extra=fields)
