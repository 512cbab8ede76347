"""The API as the container and the standalone run it (`launcher.run.api_argv`), for tests
over HTTP."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from launcher.environment import child_environment
from launcher.ports import free_port
from launcher.run import api_argv
from launcher.waiting import answers, wait_until


@contextlib.contextmanager
def api_server(environ: dict[str, str], log_path: Path, workers: int = 2) -> Iterator[str]:
    """The API server on a free port; yields its base URL."""
    port = free_port()
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            api_argv("127.0.0.1", port, workers=workers),
            env=child_environment(environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: answers(f"{url}/healthz"), timeout=60, what="the API to answer")
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
