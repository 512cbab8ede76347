"""The standalone's own dependencies (PostgreSQL, the SQS/S3 emulator) watched and
restarted when they die, with the same backoff as the supervisor's children.

Without this, a SIGKILL of the embedded postmaster or of the emulator left every request
answering `503` until a person restarted everything, and the worker's retries of what it
held ran out into the DLQ. Both keep their data on disk (PostgreSQL's WAL, the emulator's
journal), so a restart on the same socket and port is all the rest of the system needs:
its connections fail for the outage and then find the dependency again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from launcher.supervisor import Backoff


class Dependency(Protocol):
    """Something the standalone started and can start again in place."""

    name: str

    def alive(self) -> bool:
        """Whether it still runs."""

    def restart(self) -> None:
        """Start it again where it was (same data, same address); raises if it cannot."""


class Provisioned:
    """A dependency whose restart is followed by `provision` (the emulator: it restores
    the queues that held messages, but not the empty ones nor any queue's attributes)."""

    def __init__(self, dependency: Dependency, provision: Callable[[], object]) -> None:
        self.name = dependency.name
        self._dependency = dependency
        self._provision = provision

    def alive(self) -> bool:
        return self._dependency.alive()

    def restart(self) -> None:
        self._dependency.restart()
        self._provision()


@dataclass
class Watch:
    dependency: Dependency
    backoff: Backoff = field(default_factory=Backoff)


class DependencyKeeper:
    """Restarts dead dependencies after a backoff; `tend` is called from the main loop."""

    def __init__(self, dependencies: list[Dependency]) -> None:
        self._watches = [Watch(dependency) for dependency in dependencies]

    def tend(self, now: float | None = None) -> list[str]:
        """Check each dependency once; one line per event to report."""
        now = time.monotonic() if now is None else now
        lines: list[str] = []
        for watch in self._watches:
            name, backoff = watch.dependency.name, watch.backoff
            if backoff.restart_at is None:
                if not watch.dependency.alive():
                    lines.append(f"{name} died; restarting in {backoff.died(now):g} s")
            elif backoff.due(now):
                lines.append(self._restart(watch, now))
        return lines

    @staticmethod
    def _restart(watch: Watch, now: float) -> str:
        name, backoff = watch.dependency.name, watch.backoff
        backoff.restarted(now)
        try:
            watch.dependency.restart()
        except Exception as exc:  # e.g. the dead server's last backends still hold it
            delay = backoff.died(now)
            return f"{name} did not start ({type(exc).__name__}: {exc}); again in {delay:g} s"
        return f"{name} restarted"
