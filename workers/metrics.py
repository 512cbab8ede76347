"""Prometheus metrics of the workers: tasks by outcome, retries, dead letters, latency."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client import start_http_server as _serve

from config import Settings

TASKS = Counter("fluxa_tasks_total", "Task runs by outcome", ["task", "outcome"])
TASK_LATENCY = Histogram("fluxa_task_duration_seconds", "Task run time", ["task"])
EVENTS = Counter("fluxa_events_total", "Events by processing outcome", ["outcome"])


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
