"""A real Celery worker as a child process (so that tests can SIGKILL it)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from launcher.run import worker_argv
from launcher.waiting import wait_until

#: What Celery prints itself (not through logging) in a quiet worker.
CELERY_NOTICES = {"worker: Warm shutdown (MainProcess)", "worker: Cold shutdown (MainProcess)"}


class WorkerProcess:
    """`celery -A workers.worker worker` with its JSON log in a file the test can read."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        queues: list[str],
        include: tuple[str, ...] = (),
    ) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.queues = queues
        self.include = include
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self, concurrency: int = 2) -> None:
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        argv = worker_argv(self.queues, concurrency=concurrency, log_level="INFO")
        argv.insert(argv.index("-A"), "--quiet")  # no banner: every line of the log is JSON
        if self.include:
            argv += ["--include", ",".join(self.include)]
        self.process = subprocess.Popen(
            [*argv, "--hostname", f"test-{os.getpid()}@%h"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(self._ready, timeout=60, what="the worker to be ready")
        except BaseException:  # a fixture that fails here never stops it: no orphans
            self.kill()
            raise

    def _ready(self) -> bool:
        if self.process and self.process.poll() is not None:
            raise AssertionError(f"worker exited: {self.log_path.read_text()[-3000:]}")
        return any(" ready." in line.get("message", "") for line in self.log_lines())

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_lines(self, since_start: bool = True) -> list[dict[str, Any]]:
        """The worker's JSON log lines (of this start, by default).

        A line that is not JSON fails the caller: a check that reads the log must not
        pass because the format changed under it. Celery's one shutdown notice is the
        only other line it writes, and a line still being written is left for later.
        """
        if not self.log_path.exists():
            return []
        with open(self.log_path, "rb") as handle:
            if since_start:
                handle.seek(self._log_offset)
            text = handle.read().decode(errors="replace")
        complete = text[: text.rfind("\n") + 1]
        lines = []
        for raw in complete.splitlines():
            if not raw.strip() or raw in CELERY_NOTICES:
                continue
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                message = f"not a JSON log line in {self.log_path}: {raw[:300]!r}"
                raise AssertionError(message) from None
        return lines

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: a crash, nothing is acknowledged."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
