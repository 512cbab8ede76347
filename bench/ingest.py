"""Ingest: POST /v1/events/batch and POST /v1/events on the API server, against a bare echo."""

from __future__ import annotations

import dataclasses
import functools
import json
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis

from bench.infra import Infra, stop
from bench.load import run_load
from bench.measure import Comparison, percentile
from config import Settings
from fluxa.infra.aws import sqs_client

BATCH = 100
CONCURRENT_CLIENTS = 64


@dataclass(frozen=True)
class IngestOptions:
    rounds: int
    clients: int
    batch_requests: int  # per client and round
    single_requests: int
    server_workers: int
    between_rounds: Callable[[], None] = lambda: None


def _event() -> dict:
    return {
        "type": "trade.executed",
        "source": "bench",
        "occurred_at": "2026-11-01T12:00:00Z",
        "payload": {"symbol": "AAPL", "qty": 10, "price": "101.25", "n": uuid.uuid4().hex},
    }


def _purge(settings: Settings) -> None:
    """Empty the input queue (SQS allows one PurgeQueue a minute, so: receive and delete)."""
    if (settings.broker_url or "").startswith("redis://"):
        redis.Redis.from_url(settings.broker_url).delete(settings.input_queue)
        return
    sqs, url = sqs_client(settings), f"{settings.sqs_queue_url_prefix}/{settings.input_queue}"
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)


def redis_available() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


def run(infra: Infra, options: IngestOptions) -> list[Comparison]:
    """Batch and single ingest on SQS (the emulator), and batch on Redis when present."""
    brokers = {"SQS emulator": {}}
    if redis_available():
        brokers["Redis"] = {"FLUXA_BROKER_URL": "redis://127.0.0.1:6379/15"}
    database = infra.fresh_database()
    # The same server on both sides, as the API runs (api/asgi.py).
    _, echo_url = infra.api_server("bench.echo:asgi_app", {}, options.server_workers)
    token = infra.issuer.mint("bench-client", scopes=("fluxa/events.write",), ttl_seconds=7200)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    batches = [json.dumps({"events": [_event() for _ in range(BATCH)]}).encode() for _ in range(8)]
    singles = [json.dumps(_event()).encode() for _ in range(64)]
    results = []
    for broker, overrides in brokers.items():
        env = infra.environ(database, **overrides)
        settings = infra.settings(env)
        server, url = infra.api_server("api.asgi:app", env, options.server_workers)
        # Nothing consumes here, and the emulator slows with queue depth: empty it each round.
        options = dataclasses.replace(options, between_rounds=functools.partial(_purge, settings))
        batch = Case(f"ingest batch of {BATCH}, {broker}", "/v1/events/batch", batches, BATCH,
                     BATCH_TARGETS[broker])  # fmt: skip
        results.append(_compare(batch, url, echo_url, headers, options.batch_requests, options))
        if broker == "SQS emulator":
            single = Case("ingest single event, SQS emulator", "/v1/events", singles, 1)
            results.append(
                _compare(single, url, echo_url, headers, options.single_requests, options)
            )
        stop(server)
    results += _concurrent_singles(infra, database, headers, singles, options)
    return results


def _concurrent_singles(
    infra: Infra, database: str, headers: dict[str, str], singles: list[bytes],
    options: IngestOptions,
) -> list[Comparison]:  # fmt: skip
    """64 clients sending one event per request, on the threaded server (as deployed): Fluxa
    (coalescing) and the peer against the echo; SQS sends per event from the emulator's
    own request log."""
    env = infra.environ(database)
    settings = infra.settings(env)
    options = dataclasses.replace(
        options, clients=CONCURRENT_CLIENTS, between_rounds=functools.partial(_purge, settings)
    )
    per_client = max(4, options.single_requests // 4)
    case = Case(f"ingest single event, {CONCURRENT_CLIENTS} clients, SQS emulator",
                "/v1/events", singles, 1)  # fmt: skip
    results = []
    _, echo_url = infra.api_server("bench.echo:asgi_app", {}, options.server_workers)
    for name, app in (("Fluxa", "api.asgi:app"), ("peer (Flask + boto3)", "bench.peer:asgi_app")):
        server, url = infra.api_server(app, env, options.server_workers)
        label = case if name == "Fluxa" else dataclasses.replace(case, name=f"{case.name}: {name}")
        result = _compare(label, url, echo_url, headers, per_client, options)
        result.extra["sqs_sends_per_event"] = _sends_per_event(settings, url, headers, singles)
        result.target = "≥ 0.30" if name == "Fluxa" else "–"
        results.append(result)
        stop(server)
    return results


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    bodies: list[bytes]
    events_per_request: int
    target: str = "–"


# Issue 16's targets, as ratios to the echo.
BATCH_TARGETS = {"SQS emulator": "≥ 0.30", "Redis": "≥ 0.50"}


def _compare(
    case: Case, url: str, echo_url: str, headers: dict[str, str], count: int,
    options: IngestOptions,
) -> Comparison:  # fmt: skip
    result = Comparison(case.name, "events/s", True, case.target)
    latencies: dict[str, list[float]] = {"fluxa": [], "baseline": []}
    for _ in range(options.rounds):  # alternating, so that drift hits both alike
        options.between_rounds()
        for side, base in (("fluxa", url), ("baseline", echo_url)):
            load = run_load(base + case.path, headers, case.bodies, clients=options.clients,
                            per_client=count)  # fmt: skip
            if load.failures:
                raise RuntimeError(f"{case.name}: {load.failures} failed requests ({side})")
            getattr(result, side).append(load.requests * case.events_per_request / load.seconds)
            latencies[side] += load.latencies_ms
    for side, values in latencies.items():
        result.extra[f"{side}_p50_ms"] = round(percentile(values, 50), 1)
        result.extra[f"{side}_p99_ms"] = round(percentile(values, 99), 1)
    return result


def _sends_per_event(
    settings: Settings, url: str, headers: dict[str, str], singles: list[bytes]
) -> float:
    """Messages the input queue holds after one load from an empty queue, per event sent
    (nothing consumes here, so one message is one send; moto's request recorder garbles
    its lines under this much concurrency)."""
    _purge(settings)
    load = run_load(url + "/v1/events", headers, singles, clients=CONCURRENT_CLIENTS,
                    per_client=4)  # fmt: skip
    sqs, queue = sqs_client(settings), f"{settings.sqs_queue_url_prefix}/{settings.input_queue}"
    held = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
    return round(int(held["Attributes"]["ApproximateNumberOfMessages"]) / load.requests, 3)
