"""Prometheus metrics of the API, and `GET /metrics` (which also serves the workers' metrics
when they share the PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import time

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

from config import Settings
from fluxa.ops import emf
from fluxa.ops.emf import COUNT, MILLISECONDS, EmfMetrics
from fluxa.ops.metric_names import HTTP_REQUEST_DURATION, HTTP_REQUESTS

REQUESTS = Counter(
    HTTP_REQUESTS, "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(HTTP_REQUEST_DURATION, "HTTP request latency", ["method", "route"])


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

    @app.get("/metrics")
    def metrics() -> Response:
        if settings.metrics_dir:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=settings.metrics_dir)
        else:
            registry = DEFAULT_REGISTRY
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
