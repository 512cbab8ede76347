"""Worker readiness without broadcast (SQS has none, so `celery inspect ping` cannot work):
while the consumer is connected, the worker touches a file; `fluxa worker-ready` reads
its age. A hung or disconnected worker stops touching it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

INTERVAL_SECONDS = 5.0


class Heartbeat:
    """Touches `path` every few seconds while `consumer` holds a live broker connection."""

    def __init__(self, path: Path, consumer: Any) -> None:
        self._path = path
        self._consumer = consumer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fluxa-heartbeat", daemon=True)

    def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            connection = getattr(self._consumer, "connection", None)
            if connection is not None and connection.connected:
                self._path.touch()
            self._stop.wait(INTERVAL_SECONDS)
