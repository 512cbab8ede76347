"""Malformed bodies, headers, queries and tokens by the thousand against the production
server (over HTTP): no 5xx, and the server is as healthy afterwards."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.figures import report
from tests.support.builders import event_body
from tests.support.fuzz import (
    authorization_values,
    event_like,
    header_values,
    json_values,
    printable,
)
from tests.support.live_api import api_server

pytestmark = [pytest.mark.integration, pytest.mark.faults]

EXAMPLES = 400  # per kind of input; four kinds
VOLUME = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
JSON = {"Content-Type": "application/json"}
PATHS = ["/v1/events", "/v1/events/batch", "/v1/trades", "/v1/stats", "/v1/stats/rebuild"]


@pytest.fixture
def live_api(environ: dict[str, str], settings, tmp_path: Path) -> Iterator[str]:
    """The API server with two processes, as the container runs it."""
    with api_server(environ, tmp_path / "api.log") as url:
        yield url


def _server_pids(url: str) -> set[int]:
    """The server's processes under its master (a crashed one is replaced)."""
    port = url.rsplit(":", 1)[1]
    for process in psutil.process_iter(["cmdline"]):
        argv = process.info["cmdline"] or []
        if "uvicorn" in argv and "--port" in argv and argv[argv.index("--port") + 1] == port:
            return {child.pid for child in process.children()}
    return set()


def test_bad_input_at_volume_gets_no_5xx_and_the_server_stays_healthy(live_api, machine_token):
    http = requests.Session()
    auth = {"Authorization": f"Bearer {machine_token}"}
    statuses: Counter[int] = Counter()
    workers_before = _server_pids(live_api)

    def send(method: str, path: str, **kwargs) -> None:
        response = http.request(method, live_api + path, timeout=30, **kwargs)
        statuses[response.status_code] += 1
        assert response.status_code < 500, (method, path, kwargs, response.text[:300])

    @VOLUME
    @given(path=st.sampled_from(PATHS), body=event_like | json_values | st.lists(event_like))
    def bodies(path, body):
        # json.dumps writes Infinity for inf: not JSON, which the API must refuse cleanly.
        send("POST", path, data=json.dumps(body), headers={**auth, **JSON})

    @VOLUME
    @given(path=st.sampled_from(PATHS), raw=st.binary(max_size=400), kind=header_values)
    def raw_bytes(path, raw, kind):
        send("POST", path, data=raw, headers={**auth, "Content-Type": kind})

    @VOLUME
    @given(
        path=st.sampled_from(PATHS),
        authorization=authorization_values(machine_token),
        method=st.sampled_from(["GET", "POST", "PATCH", "DELETE"]),
    )
    def tokens(path, authorization, method):
        body = json.dumps(event_body())
        send(method, path, data=body, headers={"Authorization": authorization, **JSON})

    @VOLUME
    @given(
        path=st.sampled_from(["/v1/events", "/v1/trades", "/v1/events/x", "/v1/trades/y"]),
        params=st.dictionaries(printable, printable, max_size=4),
        headers=st.dictionaries(
            st.sampled_from(["Idempotency-Key", "X-Correlation-ID", "If-Match", "Accept"]),
            header_values,
        ),
    )
    def queries_and_headers(path, params, headers):
        send("GET", path, params=params, headers={**auth, **headers})

    for run in (bodies, raw_bytes, tokens, queries_and_headers):
        run()

    healthz = http.get(f"{live_api}/healthz", timeout=10).status_code
    readyz = http.get(f"{live_api}/readyz", timeout=10).status_code
    accepted = http.post(f"{live_api}/v1/events", json=event_body(), headers=auth, timeout=10)
    report(
        "bad input at volume (the API server over HTTP)",
        requests=sum(statuses.values()),
        statuses=dict(sorted(statuses.items())),
        server_errors=sum(n for code, n in statuses.items() if code >= 500),
        healthz=healthz,
        readyz=readyz,
        workers_replaced=len(workers_before - _server_pids(live_api)),
    )
    assert healthz == readyz == 200 and accepted.status_code == 202
    assert _server_pids(live_api) == workers_before  # no worker died or was recycled
