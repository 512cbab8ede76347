"""The API as it runs in production (the API server over HTTP), attacked from outside.

- schemathesis's own CLI over the live OpenAPI document: every operation, every check,
  positive and negative data, a fixed seed and a budget that fits CI
  (`make contract` runs the longer profile);
- raw bytes on a socket for what the server answers before Flask: problem+json too.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from fluxa.auth.principal import SCOPE_EVENTS_READ, SCOPE_EVENTS_WRITE
from fluxa.auth.revocation import REFRESH_SECONDS
from launcher.environment import variable
from launcher.waiting import wait_until
from tests.faults.figures import report
from tests.support.live_api import api_server

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).parents[2] / "schemathesis.toml"
#: CI's profile; `make contract` sets FLUXA_CONTRACT_EXAMPLES and FLUXA_CONTRACT_SEEDS.
EXAMPLES = int(variable("FLUXA_CONTRACT_EXAMPLES", "25") or 25)
SEEDS = [int(s) for s in (variable("FLUXA_CONTRACT_SEEDS", "13") or "13").split(",")]


@pytest.fixture(scope="module")
def live_url(environ: dict[str, str], settings, tmp_path_factory) -> Iterator[str]:
    with api_server(environ, tmp_path_factory.mktemp("live") / "api.log") as url:
        yield url


@pytest.mark.parametrize("seed", SEEDS)
def test_schemathesis_cli_finds_nothing(live_url: str, dev_issuer, tmp_path: Path, seed: int):
    token = dev_issuer.mint(
        "schemathesis-cli", scopes=(SCOPE_EVENTS_WRITE, SCOPE_EVENTS_READ), ttl_seconds=3600
    )
    ndjson = tmp_path / "report.json"
    run = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG),
            "run", f"{live_url}/v1/openapi.json",
            "--checks", "all", "--mode", "all", "--seed", str(seed),
            "--max-examples", str(EXAMPLES), "--header", f"Authorization: Bearer {token}",
            "--no-shrink", "--warnings", "off", "--report", "ndjson",
            "--report-ndjson-path", str(ndjson),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )  # fmt: skip
    cases = re.search(r"(\d+) generated", run.stdout)
    report(
        "schemathesis CLI over the live API, all checks, positive and negative",
        seed=seed,
        examples_per_operation=EXAMPLES,
        cases=int(cases.group(1)) if cases else None,
        exit_code=run.returncode,
        server_errors=run.stdout.count("Server error"),
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout, run.stdout[-3000:]
    assert ndjson.stat().st_size > 0  # it ran cases, not nothing


def raw_request(url: str, request: bytes) -> tuple[int, str, dict]:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers["Content-Type"], json.loads(body)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /v1/events?x=" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"NOT A REQUEST LINE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
    ],
)
def test_what_the_server_refuses_is_problem_json(live_url: str, request_bytes: bytes, status: int):
    got, content_type, problem = raw_request(live_url, request_bytes)
    assert (got, content_type) == (status, "application/problem+json")
    assert problem["status"] == status and problem["title"]


def test_a_sign_out_reaches_a_second_api_process_within_its_cache_window(
    environ: dict[str, str], settings, dev_issuer, tmp_path: Path
):
    """Two API processes (one server process each): a sign-out through one is honoured by
    the other within the revocation cache's second."""
    user = f"two-apis-{uuid.uuid4().hex[:8]}"
    token = {"Authorization": f"Bearer {dev_issuer.mint(user)}"}
    with (
        api_server(environ, tmp_path / "a.log", workers=1) as first,
        api_server(environ, tmp_path / "b.log", workers=1) as second,
    ):
        assert requests.get(f"{second}/v1/trades", headers=token, timeout=10).status_code == 200
        assert (
            requests.post(f"{first}/v1/auth/signout", headers=token, timeout=10).status_code == 204
        )
        signed_out = time.monotonic()
        wait_until(
            lambda: (
                requests.get(f"{second}/v1/trades", headers=token, timeout=10).status_code == 401
            ),
            timeout=10,
            interval=0.05,
            what="the second process to refuse the token",
        )
        assert time.monotonic() - signed_out < REFRESH_SECONDS + 1.0
