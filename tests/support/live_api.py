"""The API under gunicorn, as the container and the standalone run it, for tests over HTTP."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.processes import answers
from bench.waiting import wait_until
from launcher.environment import child_environment
from launcher.ports import free_port


@contextlib.contextmanager
def gunicorn(environ: dict[str, str], log_path: Path, workers: int = 2) -> Iterator[str]:
    """`gunicorn -c python:api.gunicorn_conf api.wsgi:app`; yields its base URL."""
    port = free_port()
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "python:api.gunicorn_conf",
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "api.wsgi:app"],
            env=child_environment(environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: answers(f"{url}/healthz"), timeout=60, what="gunicorn to answer")
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
