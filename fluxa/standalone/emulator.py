"""The SQS/S3 emulator (moto in server mode) as a child process on loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fluxa.standalone.ports import free_port, wait_for_port

#: moto's fixed account id, part of every queue URL it hands out.
MOTO_ACCOUNT_ID = "123456789012"


class MotoServer:
    """`moto_server` on 127.0.0.1; its state is in memory and ends with the process."""

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port("127.0.0.1", self.port)

    @property
    def queue_url_prefix(self) -> str:
        return f"{self.endpoint}/{MOTO_ACCOUNT_ID}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
