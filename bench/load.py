"""Concurrent HTTP clients in separate processes (so that the GIL bounds no client)."""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]
    failures: int


def _client(args: tuple[str, dict[str, str], list[bytes], int, Any]) -> tuple[list[float], int]:
    url, headers, bodies, count, start_at = args
    session = requests.Session()
    latencies, failures = [], 0
    while time.time() < start_at:  # every client starts together
        time.sleep(0.001)
    for i in range(count):
        began = time.perf_counter()
        response = session.post(url, data=bodies[i % len(bodies)], headers=headers, timeout=60)
        latencies.append((time.perf_counter() - began) * 1000)
        failures += response.status_code >= 300
    return latencies, failures


def run_load(
    url: str, headers: dict[str, str], bodies: list[bytes], *, clients: int, per_client: int
) -> LoadResult:
    """`clients` processes each POST `per_client` bodies in turn; wall time of the whole."""
    start_at = time.time() + 0.5
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        began = time.time()
        parts = pool.map(_client, [(url, headers, bodies, per_client, start_at)] * clients)
        seconds = time.time() - max(began, start_at)
    latencies = [ms for part, _ in parts for ms in part]
    return LoadResult(len(latencies), seconds, latencies, sum(f for _, f in parts))
