"""Metrics of the workers: tasks by outcome, retries, dead letters, latency, events.

Prometheus counters always; CloudWatch Embedded Metric Format lines as well when
FLUXA_METRICS_EMF is set (`fluxa.ops.emf`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client import start_http_server as _serve

from config import Settings
from fluxa.ops import emf, metric_names
from fluxa.ops.emf import COUNT, MILLISECONDS, EmfMetrics

TASKS = Counter(metric_names.TASKS, "Task runs by outcome", ["task", "outcome"])
TASK_LATENCY = Histogram(metric_names.TASK_DURATION, "Task run time", ["task"])
EVENTS = Counter(metric_names.EVENTS, "Events by processing outcome", ["outcome"])
# The latest count of any process (the job runs on whichever maintenance worker takes it).
PARTITIONS_LATE = Gauge(
    metric_names.EVENT_PARTITIONS_LATE,
    "What is late in the partitions of events (fluxa.events.retention.lateness)",
    multiprocess_mode="mostrecent",
)

_TASK_OUTCOME_METRIC = {
    "succeeded": emf.TASKS_SUCCEEDED,
    "retried": emf.TASKS_RETRIED,
    "dead_lettered": emf.TASKS_DEAD_LETTERED,
}


def _emf(settings: Settings) -> EmfMetrics:
    return EmfMetrics(settings.metrics_namespace, "processor", settings.metrics_emf)


def task_finished(settings: Settings, task: str, outcome: str, seconds: float) -> None:
    """A task run ended: `succeeded`, `retried` or `dead_lettered`, after `seconds`."""
    TASKS.labels(task, outcome).inc()
    if outcome == "succeeded":
        TASK_LATENCY.labels(task).observe(seconds)
    _emf(settings).put(
        {
            _TASK_OUTCOME_METRIC[outcome]: (1, COUNT),
            emf.TASK_DURATION: (seconds * 1000, MILLISECONDS),
        },
        Task=task,
    )


def events_done(settings: Settings, persisted: int, duplicates: int, dead_lettered: int) -> None:
    """A message's events: newly persisted, already present, dead-lettered."""
    EVENTS.labels("persisted").inc(persisted)
    EVENTS.labels("duplicate").inc(duplicates)
    EVENTS.labels("dead_lettered").inc(dead_lettered)
    _emf(settings).put(
        {
            emf.EVENTS_PROCESSED: (persisted + duplicates, COUNT),
            emf.EVENTS_DEAD_LETTERED: (dead_lettered, COUNT),
        }
    )


def event_partitions_checked(settings: Settings, late: int) -> None:
    """The hourly partition job's count of what is late (alarm EventPartitions)."""
    PARTITIONS_LATE.set(late)
    _emf(settings).put({emf.EVENT_PARTITIONS_LATE: (late, COUNT)})


def serve(settings: Settings) -> None:
    """Expose this machine's worker metrics on FLUXA_WORKER_METRICS_PORT, if set."""
    if settings.worker_metrics_port is None:
        return
    if settings.metrics_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=settings.metrics_dir)
        _serve(settings.worker_metrics_port, registry=registry)
    else:
        _serve(settings.worker_metrics_port)
