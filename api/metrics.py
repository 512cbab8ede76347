"""Prometheus metrics of the API, and `GET /metrics` (which also serves the workers' metrics
when they share the PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from config import Settings
from fluxa.infra.aws import sqs_client
from fluxa.infra.queues import queue_counts, queue_urls, topology
from fluxa.ops import emf
from fluxa.ops.emf import COUNT, MILLISECONDS, EmfMetrics
from fluxa.ops.metric_names import (
    HTTP_REQUEST_DURATION,
    HTTP_REQUESTS,
    QUEUE_MESSAGES,
    RATE_LIMIT_STORE_FAILURES,
    RATE_LIMITED,
)

log = logging.getLogger("fluxa.api.metrics")

REQUESTS = Counter(
    HTTP_REQUESTS, "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(HTTP_REQUEST_DURATION, "HTTP request latency", ["method", "route"])
THROTTLED = Counter(RATE_LIMITED, "Requests refused 429 by per-client limits", ["scope"])
STORE_FAILURES = Counter(
    RATE_LIMIT_STORE_FAILURES, "Requests let through unlimited: the rate-limit store failed"
)


def count_rate_limited(scope: str) -> None:
    THROTTLED.labels(scope).inc()


def rate_limit_store_failure_counter(settings: Settings) -> Callable[[], None]:
    """What the rate limiter calls when its store fails (Prometheus; CloudWatch EMF)."""
    cloudwatch = EmfMetrics(settings.metrics_namespace, "api", settings.metrics_emf)

    def failed() -> None:
        STORE_FAILURES.inc()
        cloudwatch.put({emf.RATE_LIMIT_STORE_FAILURES: (1, COUNT)})

    return failed


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _recorder(cloudwatch: EmfMetrics):
    def record(response: Response) -> Response:
        started = g.get("metrics_started")
        route = _route()
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        seconds = time.perf_counter() - started if started is not None else 0.0
        if started is not None:
            LATENCY.labels(request.method, route).observe(seconds)
        cloudwatch.put(
            {
                emf.API_REQUESTS: (1, COUNT),
                emf.API_5XX: (int(response.status_code >= 500), COUNT),
                emf.API_THROTTLED: (int(response.status_code == 429), COUNT),
                emf.API_LATENCY: (seconds * 1000, MILLISECONDS),
            }
        )
        return response

    return record


def register_metrics(app: Flask, settings: Settings) -> None:
    """Count and time every request (Prometheus; CloudWatch EMF lines when configured);
    serve `GET /metrics`."""
    app.before_request(_start)
    app.after_request(
        _recorder(EmfMetrics(settings.metrics_namespace, "api", settings.metrics_emf))
    )

    queues = CollectorRegistry()
    queues.register(QueueDepths(settings))

    @app.get("/metrics")
    def metrics() -> Response:
        if settings.metrics_dir:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=settings.metrics_dir)
        else:
            registry = DEFAULT_REGISTRY
        body = generate_latest(registry) + generate_latest(queues)
        return Response(body, mimetype=CONTENT_TYPE_LATEST)


class QueueDepths(Collector):
    """`fluxa_queue_messages{queue, state, dead_letter}`, read from SQS when scraped (at
    most once per `cache_seconds`): Prometheus users alert on DLQ depth with no CloudWatch
    exporter. A failed read yields nothing, never a failed scrape."""

    def __init__(self, settings: Settings, cache_seconds: float = 15.0) -> None:
        self._settings = settings
        self._cache_seconds = cache_seconds
        self._read_at = -cache_seconds
        self._samples: list[tuple[str, str, bool, int]] = []
        self._sqs: Any = None  # made on the first scrape, then kept
        self._urls: dict[str, str] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if time.monotonic() - self._read_at >= self._cache_seconds:
            self._samples = self._read()
            self._read_at = time.monotonic()
        family = GaugeMetricFamily(
            QUEUE_MESSAGES, "Messages in each queue", labels=["queue", "state", "dead_letter"]
        )
        for queue, state, dead_letter, count in self._samples:
            family.add_metric([queue, state, str(dead_letter).lower()], count)
        yield family

    def _read(self) -> list[tuple[str, str, bool, int]]:
        try:
            if self._urls is None:
                self._sqs = sqs_client(self._settings)
                self._urls = queue_urls(self._settings, self._sqs)
            samples = []
            for spec in topology(self._settings):
                counts = queue_counts(self._sqs, self._urls[spec.name])
                samples.append((spec.name, "visible", spec.is_dead_letter, counts.visible))
                samples.append((spec.name, "in_flight", spec.is_dead_letter, counts.in_flight))
            return samples
        except (BotoCoreError, ClientError):
            log.warning("queue depths unreadable", exc_info=True)
            return []
